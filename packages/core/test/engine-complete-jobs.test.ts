import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Engine,
  type Execution,
  type Job,
  type JobStore,
  LeaseLostError,
  NotFoundError,
  ValidationError,
} from '../src/index.js';
import {
  benchHandlers,
  comparable,
  itemsFor,
  type SetupOptions,
  settlementOf,
  setupBatch,
  twoJobsFlow,
} from './batch-fixtures.js';

/** Runs `n` executions through their job with `completeJob` per job or one `completeJobs`. */
async function runBoth(n: number, options: SetupOptions = {}, flowId = 'bench') {
  const out = [];
  for (const batch of [false, true]) {
    const t = setupBatch(options);
    const { started, jobs } = await t.start(n, flowId);
    const items = itemsFor(jobs);
    if (batch) await t.engine.completeJobs(items);
    else for (const item of items) await t.engine.completeJob(item);
    const finals = await Promise.all(started.map((e) => t.memory.executions.get(e.id)));
    out.push({
      finals: finals.map(comparable),
      events: started.map((e) => t.seen.get(e.id)),
      jobs: (await t.memory.jobs.listByStatus({ status: 'pending', limit: 100 })).length,
    });
  }
  return { single: out[0], batch: out[1] };
}

describe('Engine.completeJobs', () => {
  it('resumes every execution and runs its inline steps to the end, as completeJob would', async () => {
    const { single, batch } = await runBoth(5, { failFor: new Set([2]) });
    expect(batch).toEqual(single);
    const finals = batch?.finals as Execution[];
    expect(finals.map((e) => e.status)).toEqual(Array(5).fill('completed'));
    expect(finals[0]?.output).toEqual({ done: 0 });
    // An inline step that throws takes its failure transition, in both paths.
    expect(finals[2]?.output).toBe('refunded');
    expect(finals[2]?.history.map((r) => `${r.stepId}:${r.outcome}`)).toEqual([
      'prepare:success',
      'work:success',
      'finish:failure',
      'refund:success',
    ]);
    expect(batch?.events[0]).toEqual([
      'step:started prepare',
      'step:completed prepare',
      'step:started work',
      'job:created',
      'execution:waiting work',
      'execution:resumed work',
      'step:completed work',
      'step:started finish',
      'step:completed finish',
      'execution:completed',
    ]);
  });

  it('parks on the next stateful step as completeJob would (jobs created in one transaction)', async () => {
    const { single, batch } = await runBoth(3, {}, 'two-jobs');
    expect(batch).toEqual(single);
    expect(batch?.jobs).toBe(3);
    const t = setupBatch();
    const { jobs } = await t.start(3, 'two-jobs');
    const out = await t.engine.completeJobs(itemsFor(jobs));
    expect(out.map((r) => settlementOf(r).execution?.status)).toEqual(Array(3).fill('waiting'));
    expect(t.calls).toMatchObject({ transaction: 2, 'jobs.createMany': 1 });
    expect(t.calls['jobs.create']).toBeUndefined();
  });

  it('parks in a timed wait and stops at the step limit as completeJob would', async () => {
    const waits = await runBoth(2, {}, 'wait');
    expect(waits.batch).toEqual(waits.single);
    expect(waits.batch?.finals[0]).toMatchObject({
      status: 'waiting',
      wakeAt: Date.UTC(2030, 0, 1),
    });
    const limits = await runBoth(2, {}, 'limit');
    expect(limits.batch).toEqual(limits.single);
    expect(limits.batch?.finals[1]).toMatchObject({
      status: 'failed',
      error: { code: 'STEP_LIMIT_EXCEEDED' },
    });
  });

  it('settles N jobs with one completeMany, one getMany and one updateMany, then one updateMany per inline layer', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(4);
    const out = await t.engine.completeJobs(itemsFor(jobs));
    expect(out.map((r) => settlementOf(r).resumed)).toEqual([true, true, true, true]);
    expect(out.map((r) => settlementOf(r).execution?.id)).toEqual(started.map((e) => e.id));
    expect(out.map((r) => settlementOf(r).job.status)).toEqual(Array(4).fill('completed'));
    expect(t.calls).toEqual({
      transaction: 1,
      'jobs.completeMany': 1,
      'executions.getMany': 1,
      'executions.updateMany': 2,
    });
  });

  it('with the held job on every item, reports each completed job as stored without reading it back', async () => {
    const asked: unknown[] = [];
    const t = setupBatch({
      before: (method, args) => {
        if (method === 'jobs.completeMany') asked.push(args[0]);
      },
    });
    const { jobs, started } = await t.start(3);
    const items = itemsFor(jobs).map((item, i) => ({ ...item, job: jobs[i] as Job }));
    const stale = { ...(items[1] as (typeof items)[number]), leaseId: randomUUID() };
    const out = await t.engine.completeJobs([items[0], stale, items[2]] as typeof items);
    expect(out[1]?.ok === false && out[1].error).toBeInstanceOf(LeaseLostError);
    for (const i of [0, 2]) {
      const settlement = settlementOf(out[i]);
      expect(settlement.job).toEqual(await t.memory.jobs.get(jobs[i]?.id ?? ''));
      expect(settlement.job).toMatchObject({ status: 'completed', result: { i, worked: true } });
      expect(settlement.execution?.id).toBe(started[i]?.id);
      expect(settlement.execution?.status).toBe('completed');
    }
    expect(asked).toHaveLength(1);
    expect(asked[0]).not.toHaveProperty('returnJobs');
    expect(t.calls['jobs.get']).toBeUndefined();
  });

  it("rejects a held job that is not the item's, naming it, and writes nothing", async () => {
    const t = setupBatch();
    const { jobs } = await t.start(2);
    const items = itemsFor(jobs).map((item) => ({ ...item, job: jobs[0] as Job }));
    const run = t.engine.completeJobs(items);
    await expect(run).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'items[1].job.id' });
    expect((await t.memory.jobs.get(jobs[0]?.id ?? ''))?.status).toBe('running');
    expect(t.calls).toEqual({});
  });

  it('fails only the item whose lease was lost, writing nothing for it', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(3);
    const items = itemsFor(jobs);
    const stale = { ...items[1], leaseId: '00000000-0000-4000-8000-000000000000' };
    const out = await t.engine.completeJobs([items[0], stale, items[2]] as typeof items);
    expect(out[1]).toMatchObject({ ok: false });
    expect(out[1]?.ok === false && out[1].error).toBeInstanceOf(LeaseLostError);
    expect(settlementOf(out[0]).execution?.status).toBe('completed');
    expect(settlementOf(out[2]).execution?.status).toBe('completed');
    expect((await t.memory.jobs.get(jobs[1]?.id ?? ''))?.status).toBe('running');
    expect((await t.memory.executions.get(started[1]?.id ?? ''))?.status).toBe('waiting');
  });

  it('does not resume an execution cancelled meanwhile, and resumes the others', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(3);
    await t.engine.cancel(started[1]?.id ?? '', 'operator');
    const out = await t.engine.completeJobs(itemsFor(jobs));
    const cancelled = settlementOf(out[1]);
    expect(cancelled.resumed).toBe(false);
    expect(cancelled.execution?.status).toBe('cancelled');
    expect(settlementOf(out[0]).resumed).toBe(true);
    expect(settlementOf(out[2]).execution?.status).toBe('completed');
    expect(t.seen.get(started[1]?.id ?? '')).not.toContain('execution:resumed work');
  });

  it('takes the failure path for a result that would make the context too large, as completeJob does', async () => {
    const big = (job: { input: unknown }) => ({ ...(job.input as object), pad: 'x'.repeat(3000) });
    for (const batch of [false, true]) {
      const t = setupBatch({ maxPayloadBytes: 2000 });
      const { jobs, started } = await t.start(2);
      const items = itemsFor(jobs);
      const first = items[0] as (typeof items)[number];
      items[0] = { ...first, result: big(jobs[0] as { input: unknown }) };
      if (batch) await t.engine.completeJobs(items);
      else for (const item of items) await t.engine.completeJob(item);
      const e0 = await t.memory.executions.get(started[0]?.id ?? '');
      expect(e0?.status).toBe('failed');
      expect(e0?.error?.code).toBe('VALIDATION_ERROR');
      expect((await t.memory.jobs.get(jobs[0]?.id ?? ''))?.status).toBe('completed');
      expect((await t.memory.executions.get(started[1]?.id ?? ''))?.status).toBe('completed');
    }
  });

  it('fails only the item whose result the store refuses; the others are settled one by one', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(3);
    const items = itemsFor(jobs);
    const second = items[1] as (typeof items)[number];
    items[1] = { ...second, result: { n: 1n } };
    const out = await t.engine.completeJobs(items);
    expect(out[1]?.ok === false && out[1].error).toBeInstanceOf(ValidationError);
    expect(out[1]?.ok === false && (out[1].error as ValidationError).field).toBe('result.n');
    expect(settlementOf(out[0]).execution?.status).toBe('completed');
    expect(settlementOf(out[2]).execution?.status).toBe('completed');
    expect((await t.memory.jobs.get(jobs[1]?.id ?? ''))?.status).toBe('running');
    expect((await t.memory.executions.get(started[1]?.id ?? ''))?.status).toBe('waiting');
    expect(t.logged.join('\n')).toContain('settling them one by one');
  });

  it('settles the others one by one even when their runner events cannot be written then', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(2);
    const items = itemsFor(jobs);
    const first = items[0] as (typeof items)[number];
    items[0] = { ...first, result: { n: 1n } };
    const events = jobs.map((job) => ({
      jobId: job.id,
      leaseId: job.leaseId as string,
      kind: 'started' as const,
      attempt: 1,
    }));
    // The in-memory store keeps no runner history; this one's history table is down.
    const jobStore: JobStore = t.memory.jobs;
    jobStore.recordEvents = async () => {
      throw new Error('history table unavailable');
    };
    const out = await t.engine.completeJobs(items, { events });
    expect(out[0]?.ok === false && out[0].error).toBeInstanceOf(ValidationError);
    expect(settlementOf(out[1]).execution?.status).toBe('completed');
    expect((await t.memory.executions.get(started[1]?.id ?? ''))?.status).toBe('completed');
    expect(t.logged.join('\n')).toContain('could not record runner job events');
  });

  it('fails only the item whose flow this engine does not know', async () => {
    const t = setupBatch();
    const { jobs } = await t.start(2);
    const other = new Engine({ stores: t.stores, handlers: benchHandlers(), flows: [twoJobsFlow] });
    const [one] = await t.start(1, 'two-jobs').then((r) => r.jobs);
    if (one === undefined) throw new Error('no job');
    const mixed = [...jobs, one];
    // `other` knows two-jobs only: the bench items fail, the two-jobs item is settled.
    const out = await other.completeJobs(itemsFor(mixed));
    expect(out.map((r) => r.ok)).toEqual([false, false, true]);
    expect(out[0]?.ok === false && out[0].error).toBeInstanceOf(NotFoundError);
    expect(settlementOf(out[2]).execution?.status).toBe('waiting');
    expect((await t.memory.jobs.get(jobs[0]?.id ?? ''))?.status).toBe('running');
  });

  it('with every job held and every parent passed, still fails only the items of an unknown flow', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(2);
    const [one] = await t.start(1, 'two-jobs').then((r) => r.jobs);
    if (one === undefined) throw new Error('no job');
    const mixed = [...jobs, one];
    // On the memory stores themselves, which have completeAndResumeMany.
    const other = new Engine({ stores: t.memory, handlers: benchHandlers(), flows: [twoJobsFlow] });
    const items = itemsFor(mixed).map((item, i) => ({ ...item, job: mixed[i] as Job }));
    const parents = await t.memory.executions.getMany(
      mixed.map((job) => job.executionId as string),
    );
    const out = await other.completeJobs(items, { executions: parents });
    expect(out.map((r) => r.ok)).toEqual([false, false, true]);
    expect(out[0]?.ok === false && out[0].error).toBeInstanceOf(NotFoundError);
    expect(settlementOf(out[2]).execution?.status).toBe('waiting');
    expect((await t.memory.jobs.get(jobs[0]?.id ?? ''))?.status).toBe('running');
    expect((await t.memory.executions.get(started[0]?.id ?? ''))?.status).toBe('waiting');
  });

  it('resolves when the inline steps after the commit cannot be written; recoverStale finishes them', async () => {
    let broken = false;
    const t = setupBatch({
      before: (method) => {
        if (broken && method === 'executions.updateMany') throw new Error('connection reset');
      },
    });
    const { jobs, started } = await t.start(2);
    const memoryTx = t.memory.transaction.bind(t.memory);
    // Break the stores only after the settlement's own transaction committed.
    t.memory.transaction = async (fn) => {
      const result = await memoryTx(fn);
      broken = true;
      return result;
    };
    const out = await t.engine.completeJobs(itemsFor(jobs));
    for (const r of out) {
      expect(settlementOf(r)).toMatchObject({ resumed: true, job: { status: 'completed' } });
      expect(settlementOf(r).execution).toMatchObject({
        status: 'running',
        currentStepId: 'finish',
      });
    }
    expect(t.logged.filter((l) => l.includes('recoverStale will retry'))).toHaveLength(2);
    broken = false;
    t.clock.advance(60_000);
    expect(await t.engine.recoverStale({ olderThanMs: 30_000 })).toBe(2);
    const done = await t.memory.executions.get(started[0]?.id ?? '');
    expect(done).toMatchObject({ status: 'completed', output: { done: 0 } });
  });

  it('works on stores without completeMany, getMany and updateMany', async () => {
    const without = ['jobs.completeMany', 'executions.getMany', 'executions.updateMany'];
    const t = setupBatch({ without });
    const { jobs } = await t.start(3);
    const items = itemsFor(jobs);
    const stale = { ...items[2], leaseId: '00000000-0000-4000-8000-000000000000' };
    const out = await t.engine.completeJobs([items[0], items[1], stale] as typeof items);
    expect(out.map((r) => r.ok)).toEqual([true, true, false]);
    expect(settlementOf(out[0]).execution?.status).toBe('completed');
    expect(t.calls.transaction).toBe(1);
    expect(t.calls['jobs.complete']).toBe(3);
  });

  it('settles plain jobs without an execution', async () => {
    const t = setupBatch();
    const plain = await t.memory.jobs.create({ handler: 'email', input: { to: 'a' } });
    const [job] = await t.memory.jobs.claimBatch({ runnerId: 'r1', limit: 1 });
    expect(job?.id).toBe(plain.id);
    const out = await t.engine.completeJobs(itemsFor(job === undefined ? [] : [job]));
    expect(settlementOf(out[0])).toMatchObject({ resumed: false, job: { status: 'completed' } });
    expect(settlementOf(out[0]).execution).toBeUndefined();
  });

  it('rejects a bad runner event, naming it, and writes nothing', async () => {
    const t = setupBatch();
    const { jobs } = await t.start(1);
    const job = jobs[0];
    if (job === undefined) throw new Error('no job');
    const events = [{ jobId: job.id, leaseId: job.leaseId as string, kind: 'nope', attempt: 1 }];
    const run = t.engine.completeJobs(itemsFor(jobs), { events: events as never });
    await expect(run).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'events[0].kind' });
    expect((await t.memory.jobs.get(job.id))?.status).toBe('running');
    expect(await t.engine.completeJobs([])).toEqual([]);
  });
});
