import {
  defineFlow,
  Engine,
  type Execution,
  type Job,
  type JobBatchSettlement,
  type JobSettlement,
  LeaseLostError,
  Result,
  type StepHandler,
  type StoreSet,
  type Stores,
} from '@flowmonkey/core';
import pgModule from 'pg';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { useTestDatabase } from '../src/testing/index.js';
import { truncateAll } from './helpers.js';

const db = useTestDatabase();

/** prepare (inline) → work (stateful) → finish (inline), as in bench/; then `again` for two-jobs. */
const benchFlow = defineFlow({
  id: 'bench',
  initialStepId: 'prepare',
  steps: {
    prepare: { type: 'prepare', input: 'input', transitions: { onSuccess: 'work' } },
    work: { type: 'work', input: 'prepare', transitions: { onSuccess: 'finish' } },
    finish: { type: 'finish', input: 'work' },
  },
});
const twoJobsFlow = defineFlow({
  id: 'two-jobs',
  initialStepId: 'work',
  steps: {
    work: { type: 'work', input: 'input', transitions: { onSuccess: 'again' } },
    again: { type: 'work', input: 'work' },
  },
});
const handlers: StepHandler[] = [
  { type: 'prepare', metadata: {}, execute: async ({ input }) => Result.success(input) },
  { type: 'work', metadata: { stateful: true }, execute: async () => Result.success(null) },
  {
    type: 'finish',
    metadata: {},
    execute: async ({ input }) => Result.success({ done: (input as { i: number }).i }),
  },
];

/** `inner` with its execution and job store calls counted, inside transactions too. */
function counted(inner: PgStores, before?: (method: string) => Promise<void>) {
  const calls: Record<string, number> = {};
  const wrap = <T extends object>(target: T, store: string): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver);
        if (typeof value !== 'function') return value;
        const name = `${store}.${String(prop)}`;
        return async (...args: unknown[]) => {
          calls[name] = (calls[name] ?? 0) + 1;
          await before?.(name);
          return value.apply(t, args);
        };
      },
    });
  const set = (tx: StoreSet): StoreSet => ({
    executions: wrap(tx.executions, 'executions'),
    jobs: wrap(tx.jobs, 'jobs'),
  });
  const stores: Stores = {
    ...set(inner),
    schedules: inner.schedules,
    transaction: (fn) => {
      calls.transaction = (calls.transaction ?? 0) + 1;
      return inner.transaction((tx) => fn(set(tx)));
    },
  };
  return { stores, calls };
}

let pg: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  pg = createPgStores({ pool: db().pool, notify: false });
});

/** Starts `n` executions of `flowId` and claims their jobs, in start order. */
async function startAndClaim(engine: Engine, n: number, flowId = 'bench') {
  const started: Execution[] = [];
  for (let i = 0; i < n; i++) started.push(await engine.start(flowId, { i }));
  const jobs = await pg.jobs.claimBatch({ runnerId: 'r1', limit: 1000 });
  const order = new Map(started.map((e, i) => [e.id, i]));
  jobs.sort(
    (a, b) => (order.get(a.executionId ?? '') ?? 0) - (order.get(b.executionId ?? '') ?? 0),
  );
  return { started, jobs };
}

const itemsFor = (jobs: readonly Job[]) =>
  jobs.map((job) => ({
    jobId: job.id,
    leaseId: job.leaseId as string,
    result: { ...(job.input as object), worked: true },
  }));

/**
 * Starts three executions whose contexts (their input, then the first step's output) come
 * to about 60 KB each, more than one statement carries (STATEMENT_DOCUMENT_CHARS), claims
 * their jobs and reads them back: the held jobs as items (results of about 30 KB each),
 * in start order, and the parents. Settled together they take six statements: one per
 * execution, then one per job, since no two of them fit in one.
 */
async function startLargeAndClaim(engine: Engine) {
  const pad = 'x'.repeat(30_000);
  const started: Execution[] = [];
  for (let i = 0; i < 3; i++) started.push(await engine.start('bench', { i, pad }));
  const claimed = await pg.jobs.claimBatch({ runnerId: 'r1', limit: 10 });
  const jobs = started.map((e) => claimed.find((j) => j.executionId === e.id) as Job);
  const items = itemsFor(jobs).map((item, i) => ({ ...item, job: jobs[i] as Job }));
  const executions = await pg.executions.getMany(started.map((e) => e.id));
  return { started, jobs, items, executions };
}

function settled(r: JobBatchSettlement | undefined): JobSettlement {
  if (r === undefined || !r.ok) throw new Error('not settled');
  return r.settlement;
}

/** The fields two runs of the same work share (ids and times differ). */
function shape(e: Execution | undefined) {
  return {
    status: e?.status,
    output: e?.output,
    context: e?.context,
    version: e?.version,
    steps: e?.history.map((r) => `${r.stepId}:${r.outcome}`),
  };
}

/**
 * Runs `fn`, returning what it resolved to and the statements it sent meanwhile (their
 * prepared names, or the SQL's first word), in order.
 */
async function statementsSent<T>(fn: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
  const query = vi.spyOn(pgModule.Client.prototype, 'query');
  try {
    const result = await fn();
    const sent = (query.mock.calls as unknown[][]).map(([config]) =>
      typeof config === 'string'
        ? (config.split(' ')[0] ?? config)
        : String((config as { name?: string }).name),
    );
    return { result, sent };
  } finally {
    query.mockRestore();
  }
}

describe('Engine.start on PostgreSQL', () => {
  it('writes the inline first step and the park on the stateful second in one statement', async () => {
    const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
    await engine.start('bench', { i: 0 });
    const query = vi.spyOn(pgModule.Client.prototype, 'query');
    try {
      const execution = await engine.start('bench', { i: 1 });
      const sent = query.mock.calls.map(([config]: unknown[]) =>
        typeof config === 'string' ? config : String((config as { name?: string }).name),
      );
      expect(sent).toEqual(['fm_flowmonkey_executions_create', 'fm_flowmonkey_parks_parkOnNewJob']);
      expect(await pg.executions.get(execution.id)).toEqual(execution);
      expect(execution).toMatchObject({
        status: 'waiting',
        version: 1,
        context: { prepare: { i: 1 } },
      });
      const [job] = await pg.jobs.getByExecution(execution.id);
      expect(execution.waitingOn).toMatchObject({ stepId: 'work', jobId: job?.id });
    } finally {
      query.mockRestore();
    }
  });
});

describe('Engine.completeJobs on PostgreSQL', () => {
  it('settles a batch in one transaction and ends like completeJob, one updateMany per inline layer', async () => {
    const { stores, calls } = counted(pg);
    const engine = new Engine({ stores, handlers, flows: [benchFlow] });
    const single = await startAndClaim(engine, 10);
    for (const item of itemsFor(single.jobs)) await engine.completeJob(item);
    const batch = await startAndClaim(engine, 50);
    for (const key of Object.keys(calls)) delete calls[key];
    const out = await engine.completeJobs(itemsFor(batch.jobs));
    expect(calls).toEqual({
      transaction: 1,
      'jobs.completeMany': 1,
      'executions.getMany': 1,
      'executions.updateMany': 2,
    });
    expect(out.map((r) => settled(r).execution?.status)).toEqual(Array(50).fill('completed'));
    const a = await pg.executions.get(single.started[3]?.id ?? '');
    const b = await pg.executions.get(batch.started[3]?.id ?? '');
    expect(shape(b)).toEqual(shape(a));
    expect(b?.output).toEqual({ done: 3 });
  });

  it('appends the runner events before the completions and fails only a lost lease', async () => {
    const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
    const { jobs, started } = await startAndClaim(engine, 3);
    const items = itemsFor(jobs);
    const stale = { ...items[1], leaseId: '00000000-0000-4000-8000-000000000000' };
    const events = jobs.map((j) => ({
      jobId: j.id,
      leaseId: j.leaseId as string,
      kind: 'started' as const,
      attempt: 1,
    }));
    const out = await engine.completeJobs([items[0], stale, items[2]] as typeof items, { events });
    expect(out[1]?.ok === false && out[1].error).toBeInstanceOf(LeaseLostError);
    expect(settled(out[2]).execution?.status).toBe('completed');
    expect((await pg.executions.get(started[1]?.id ?? ''))?.status).toBe('waiting');
    const { rows } = await db().pool.query(
      'SELECT kind FROM flowmonkey.job_events WHERE job_id = $1 ORDER BY id',
      [jobs[0]?.id],
    );
    expect(rows.map((r) => r.kind)).toEqual(['created', 'claimed', 'started', 'completed']);
  });

  it('with the held jobs, reports each job as stored and reads no job row back', async () => {
    const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
    const { jobs, started } = await startAndClaim(engine, 3);
    const items = itemsFor(jobs).map((item, i) => ({ ...item, job: jobs[i] as Job }));
    const { result: out, sent } = await statementsSent(() => engine.completeJobs(items));
    expect(sent).toContain('fm_flowmonkey_jobs_completeMany');
    expect(sent).not.toContain('fm_flowmonkey_jobs_completeManyReturningJobs');
    for (const [i, r] of out.entries()) {
      const { job, execution } = settled(r);
      expect(job).toEqual(await pg.jobs.get(jobs[i]?.id ?? ''));
      expect(job).toMatchObject({ status: 'completed', result: { i, worked: true } });
      expect(execution).toMatchObject({ id: started[i]?.id, status: 'completed' });
      expect(execution?.output).toEqual({ done: i });
    }
  });

  it('with the held jobs and their parents, settles the batch in one statement', async () => {
    const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
    const single = await startAndClaim(engine, 3);
    for (const item of itemsFor(single.jobs)) await engine.completeJob(item);
    const { jobs, started } = await startAndClaim(engine, 3);
    const items = itemsFor(jobs).map((item, i) => ({ ...item, job: jobs[i] as Job }));
    const executions = await pg.executions.getMany(started.map((e) => e.id));
    const { sent } = await statementsSent(() => engine.completeJobs(items, { executions }));
    // The settling write, then the inline last step's updateMany.
    expect(sent).toEqual([
      'fm_flowmonkey_resumes_completeAndResumeMany',
      'fm_flowmonkey_executions_updateMany',
    ]);
    for (const [i, e] of started.entries()) {
      const finished = await pg.executions.get(e.id);
      expect(shape(finished)).toEqual(shape(await pg.executions.get(single.started[i]?.id ?? '')));
      expect(await pg.jobs.get(jobs[i]?.id ?? '')).toMatchObject({ status: 'completed' });
    }
  });

  it('sends a batch too large for one statement in several, in one transaction', async () => {
    const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
    const { started, jobs, items, executions } = await startLargeAndClaim(engine);
    const { result, sent } = await statementsSent(() => engine.completeJobs(items, { executions }));
    const settle = 'fm_flowmonkey_resumes_completeAndResumeMany';
    expect(sent.slice(0, 8)).toEqual(['BEGIN', ...Array(6).fill(settle), 'COMMIT']);
    expect(sent.filter((name) => name === settle)).toHaveLength(6);
    const finishedAt = settled(result[0]).job.finishedAt;
    for (const [i, e] of started.entries()) {
      expect(settled(result[i]).execution?.status).toBe('completed');
      const stored = await pg.executions.get(e.id);
      expect(stored).toMatchObject({ status: 'completed', version: 3, output: { done: i } });
      expect(stored?.history.map((r) => `${r.stepId}:${r.outcome}`)).toEqual([
        'prepare:success',
        'work:success',
        'finish:success',
      ]);
      expect(await pg.jobs.get(jobs[i]?.id ?? '')).toMatchObject({
        status: 'completed',
        finishedAt,
      });
    }
  });

  it('undoes every statement of a split batch when its last lease was lost, then settles the rest', async () => {
    const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
    const { started, jobs, items, executions } = await startLargeAndClaim(engine);
    const stale = { ...items[2], leaseId: '00000000-0000-4000-8000-000000000000' };
    const { result, sent } = await statementsSent(() =>
      engine.completeJobs([items[0], items[1], stale] as typeof items, { executions }),
    );
    const settle = 'fm_flowmonkey_resumes_completeAndResumeMany';
    // The split write fails at its last statement, the stale job's (FM001), is rolled back
    // whole, and the batch is settled in the transaction, item by item.
    expect(sent.slice(0, 9)).toEqual(['BEGIN', ...Array(6).fill(settle), 'ROLLBACK', 'BEGIN']);
    expect(result[2]?.ok === false && result[2].error).toBeInstanceOf(LeaseLostError);
    const finals = await Promise.all(started.map((e) => pg.executions.get(e.id)));
    expect(finals.map((e) => e?.status)).toEqual(['completed', 'completed', 'waiting']);
    expect(finals.map((e) => e?.version)).toEqual([3, 3, 1]);
    expect(await pg.jobs.get(jobs[2]?.id ?? '')).toMatchObject({ status: 'running' });
    const history = await db().pool.query(
      `SELECT job_id, kind FROM flowmonkey.job_events WHERE kind = 'completed'`,
    );
    expect(history.rows.map((r) => r.job_id).sort()).toEqual([jobs[0]?.id, jobs[1]?.id].sort());
  });

  it('settles in the transaction when a passed parent moved on or a lease was lost, each once', async () => {
    const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
    const { jobs, started } = await startAndClaim(engine, 3);
    const items = itemsFor(jobs).map((item, i) => ({ ...item, job: jobs[i] as Job }));
    const executions = await pg.executions.getMany(started.map((e) => e.id));
    const moved = executions[0] as Execution;
    await pg.executions.update({ execution: moved, expectedVersion: moved.version });
    const stale = {
      ...items[2],
      leaseId: '00000000-0000-4000-8000-000000000000',
    } as (typeof items)[2];
    const { result: out, sent } = await statementsSent(() =>
      engine.completeJobs([items[0], items[1], stale] as typeof items, { executions }),
    );
    expect(sent.slice(0, 2)).toEqual(['fm_flowmonkey_resumes_completeAndResumeMany', 'BEGIN']);
    expect(out[2]?.ok === false && out[2].error).toBeInstanceOf(LeaseLostError);
    const finals = await Promise.all(started.map((e) => pg.executions.get(e.id)));
    expect(finals.map((e) => e?.status)).toEqual(['completed', 'completed', 'waiting']);
    expect(finals.map((e) => e?.version)).toEqual([4, 3, 1]);
    expect(finals.slice(0, 2).map((e) => shape(e).steps)).toEqual(
      Array(2).fill(['prepare:success', 'work:success', 'finish:success']),
    );
    expect(await pg.jobs.get(jobs[2]?.id ?? '')).toMatchObject({ status: 'running' });
  });

  it('settles in transactions on a schema not yet migrated to 00006, trying the statement once', async () => {
    const fn = 'flowmonkey.assert_all_written(text, bigint, bigint)';
    await db().pool.query(`ALTER FUNCTION ${fn} RENAME TO assert_all_written_moved`);
    try {
      const engine = new Engine({ stores: pg, handlers, flows: [benchFlow] });
      const sent: string[][] = [];
      for (let round = 0; round < 2; round++) {
        const { jobs, started } = await startAndClaim(engine, 2);
        const items = itemsFor(jobs).map((item, i) => ({ ...item, job: jobs[i] as Job }));
        const executions = await pg.executions.getMany(started.map((e) => e.id));
        const { result, sent: names } = await statementsSent(() =>
          engine.completeJobs(items, { executions }),
        );
        sent.push(names);
        expect(result.map((r) => settled(r).execution?.status)).toEqual(['completed', 'completed']);
      }
      expect(sent[0]?.slice(0, 2)).toEqual([
        'fm_flowmonkey_resumes_completeAndResumeMany',
        'BEGIN',
      ]);
      expect(sent[1]).not.toContain('fm_flowmonkey_resumes_completeAndResumeMany');
      expect(sent[1]?.[0]).toBe('BEGIN');
    } finally {
      await db().pool.query(
        'ALTER FUNCTION flowmonkey.assert_all_written_moved(text, bigint, bigint) RENAME TO assert_all_written',
      );
    }
  });

  it('re-reads a parent another connection updated between the read and the write, applying the result once', async () => {
    let bump: string | undefined;
    const { stores } = counted(pg, async (method) => {
      if (method !== 'executions.updateMany' || bump === undefined) return;
      const id = bump;
      bump = undefined;
      const current = await pg.executions.get(id);
      if (current === undefined) throw new Error('gone');
      await pg.executions.update({ execution: current, expectedVersion: current.version });
    });
    const engine = new Engine({ stores, handlers, flows: [benchFlow] });
    const { jobs, started } = await startAndClaim(engine, 3);
    bump = started[1]?.id;
    const out = await engine.completeJobs(itemsFor(jobs));
    expect(out.map((r) => settled(r).resumed)).toEqual([true, true, true]);
    const finals = await Promise.all(started.map((e) => pg.executions.get(e.id)));
    expect(finals.map((e) => e?.version)).toEqual([3, 4, 3]);
    expect(finals.map((e) => shape(e).steps)).toEqual(
      Array(3).fill(['prepare:success', 'work:success', 'finish:success']),
    );
  });

  it('creates the next jobs and parks their executions in one transaction', async () => {
    const { stores, calls } = counted(pg);
    const engine = new Engine({ stores, handlers, flows: [twoJobsFlow] });
    const { jobs, started } = await startAndClaim(engine, 4, 'two-jobs');
    for (const key of Object.keys(calls)) delete calls[key];
    const out = await engine.completeJobs(itemsFor(jobs));
    expect(out.map((r) => settled(r).execution?.status)).toEqual(Array(4).fill('waiting'));
    expect(calls).toMatchObject({
      transaction: 2,
      'jobs.createMany': 1,
      'executions.updateMany': 2,
    });
    const next = await pg.jobs.getByExecution(started[0]?.id ?? '');
    expect(next.map((j) => [j.stepId, j.status])).toEqual([
      ['work', 'completed'],
      ['again', 'pending'],
    ]);
  });
});
