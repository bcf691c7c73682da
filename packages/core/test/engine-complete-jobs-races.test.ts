import { describe, expect, it } from 'vitest';
import type { Execution } from '../src/index.js';
import { itemsFor, settlementOf, setupBatch } from './batch-fixtures.js';

/** A hook that, before the first `executions.updateMany`, lets another writer change `id`. */
function otherWriter(change: (e: Execution) => Execution) {
  const state: { id?: string; memory?: ReturnType<typeof setupBatch>['memory'] } = {};
  const before = async (method: string) => {
    if (method !== 'executions.updateMany' || state.id === undefined || !state.memory) return;
    const current = await state.memory.executions.get(state.id);
    state.id = undefined;
    if (current === undefined) throw new Error('gone');
    await state.memory.executions.update({
      execution: change(current),
      expectedVersion: current.version,
    });
  };
  return { state, before };
}

describe('Engine.completeJobs races', () => {
  it('re-reads and resumes an execution another writer bumped between the read and the write', async () => {
    let bump: string | undefined;
    const t = setupBatch({
      before: async (method) => {
        if (method !== 'executions.updateMany' || bump === undefined) return;
        const id = bump;
        bump = undefined;
        const current = await t.memory.executions.get(id);
        if (current === undefined) throw new Error('gone');
        await t.memory.executions.update({ execution: current, expectedVersion: current.version });
      },
    });
    const { jobs, started } = await t.start(3);
    bump = started[1]?.id;
    const out = await t.engine.completeJobs(itemsFor(jobs));
    expect(out.map((r) => settlementOf(r).resumed)).toEqual([true, true, true]);
    const finals = await Promise.all(started.map((e) => t.memory.executions.get(e.id)));
    expect(finals.map((e) => e?.status)).toEqual(['completed', 'completed', 'completed']);
    for (const e of finals) {
      expect(e?.history.map((r) => r.stepId)).toEqual(['prepare', 'work', 'finish']);
    }
    // Versions: created, parked with prepare's outcome, resumed, finished. The bumped one
    // went through one extra version; nothing was applied twice.
    expect(finals.map((e) => e?.version)).toEqual([3, 4, 3]);
    expect(
      t.seen.get(started[1]?.id ?? '')?.filter((n) => n === 'execution:resumed work'),
    ).toHaveLength(1);
    expect(t.calls['executions.updateMany']).toBe(3);
    expect(t.calls['executions.getMany']).toBe(2);
  });

  it('leaves alone an execution another writer cancelled between the read and the write', async () => {
    let cancel: string | undefined;
    const t = setupBatch({
      before: async (method) => {
        if (method !== 'executions.updateMany' || cancel === undefined) return;
        const id = cancel;
        cancel = undefined;
        const current = await t.memory.executions.get(id);
        if (current === undefined) throw new Error('gone');
        const cancelled = { ...current, status: 'cancelled' as const, waitingOn: null };
        await t.memory.executions.update({
          execution: cancelled,
          expectedVersion: current.version,
        });
      },
    });
    const { jobs, started } = await t.start(2);
    cancel = started[0]?.id;
    const out = await t.engine.completeJobs(itemsFor(jobs));
    expect(settlementOf(out[0])).toMatchObject({
      resumed: false,
      execution: { status: 'cancelled' },
    });
    expect(settlementOf(out[1]).execution?.status).toBe('completed');
    expect((await t.memory.jobs.get(jobs[0]?.id ?? ''))?.status).toBe('completed');
  });

  it('stops advancing only the execution whose inline write lost a race, as advance does', async () => {
    let bump: string | undefined;
    let updates = 0;
    const t = setupBatch({
      before: async (method) => {
        if (method !== 'executions.updateMany' || ++updates !== 2 || bump === undefined) return;
        const current = await t.memory.executions.get(bump);
        if (current === undefined) throw new Error('gone');
        await t.memory.executions.update({ execution: current, expectedVersion: current.version });
      },
    });
    const { jobs, started } = await t.start(2);
    bump = started[0]?.id;
    const out = await t.engine.completeJobs(itemsFor(jobs));
    expect(settlementOf(out[0]).execution).toMatchObject({
      status: 'running',
      currentStepId: 'finish',
    });
    expect(settlementOf(out[1]).execution?.status).toBe('completed');
  });

  it('uses the executions the caller passes instead of reading them again', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(3);
    const described = await t.engine.describeJobs(jobs);
    for (const key of Object.keys(t.calls)) delete t.calls[key];
    const executions = [...described.values()].map((d) => d.execution);
    const out = await t.engine.completeJobs(itemsFor(jobs), { executions });
    expect(out.map((r) => settlementOf(r).execution?.status)).toEqual(Array(3).fill('completed'));
    expect(t.calls).toEqual({ transaction: 1, 'jobs.completeMany': 1, 'executions.updateMany': 2 });
    expect(out.map((r) => settlementOf(r).execution?.id)).toEqual(started.map((e) => e.id));
  });

  it('re-reads a passed execution that moved on since, deciding on what it is now', async () => {
    const writer = otherWriter((e) => ({ ...e, status: 'cancelled', waitingOn: null }));
    const t = setupBatch({ before: writer.before });
    writer.state.memory = t.memory;
    const { jobs, started } = await t.start(2);
    const executions = [...(await t.engine.describeJobs(jobs)).values()].map((d) => d.execution);
    writer.state.id = started[0]?.id;
    const out = await t.engine.completeJobs(itemsFor(jobs), { executions });
    expect(settlementOf(out[0])).toMatchObject({
      resumed: false,
      execution: { status: 'cancelled' },
    });
    expect(settlementOf(out[1]).execution?.status).toBe('completed');
  });

  it('re-reads a passed execution that looks not resumable before leaving it alone', async () => {
    const t = setupBatch();
    const { jobs, started } = await t.start(2);
    const stale = { ...(started[0] as Execution), status: 'cancelled' as const, waitingOn: null };
    const out = await t.engine.completeJobs(itemsFor(jobs), { executions: [stale] });
    expect(out.map((r) => settlementOf(r).resumed)).toEqual([true, true]);
    expect(settlementOf(out[0]).execution?.status).toBe('completed');
    expect(t.calls['executions.getMany']).toBe(2);
  });
});
