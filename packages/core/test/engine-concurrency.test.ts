import { describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  createMemoryStores,
  defineFlow,
  Engine,
  type Execution,
  type ExecutionStore,
  ManualClock,
  Result,
  type StepHandler,
  type Stores,
} from '../src/index.js';

const approvalFlow = defineFlow({
  id: 'approval',
  initialStepId: 'ask',
  steps: {
    ask: { type: 'ask', transitions: { onSuccess: 'record' } },
    record: { type: 'record', input: 'ask' },
  },
});

const paymentFlow = defineFlow({
  id: 'payment',
  initialStepId: 'charge',
  steps: { charge: { type: 'charge' } },
});

const handlers: StepHandler[] = [
  { type: 'ask', metadata: {}, execute: async () => Result.wait({ reason: 'approval' }) },
  { type: 'record', metadata: {}, execute: async ({ input }) => Result.success(input) },
  { type: 'charge', metadata: { stateful: true }, execute: async () => Result.success('ch') },
];

/**
 * Stores whose executions (also inside transactions) return `stale` from the first
 * `staleReads` reads of its id, as if another writer committed right after our read.
 * Counts the ConcurrencyErrors the engine's writes met.
 */
function staleStores(stores: Stores, stale: Execution, staleReads = 1) {
  const counts = { staleLeft: staleReads, conflicts: 0 };
  const wrap = (inner: ExecutionStore): ExecutionStore => ({
    create: (execution) => inner.create(execution),
    list: (params) => inner.list(params),
    listDueWakeups: (params) => inner.listDueWakeups(params),
    get: async (id) => {
      if (id === stale.id && counts.staleLeft > 0) {
        counts.staleLeft--;
        return structuredClone(stale);
      }
      return inner.get(id);
    },
    update: async (params) => {
      try {
        return await inner.update(params);
      } catch (error) {
        if (error instanceof ConcurrencyError) counts.conflicts++;
        throw error;
      }
    },
  });
  const wrapped: Stores = {
    executions: wrap(stores.executions),
    jobs: stores.jobs,
    schedules: stores.schedules,
    transaction: (fn) =>
      stores.transaction((tx) => fn({ jobs: tx.jobs, executions: wrap(tx.executions) })),
  };
  return { stores: wrapped, counts };
}

function setup() {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const flows = [approvalFlow, paymentFlow];
  const engine = new Engine({ stores, clock, handlers, flows });
  const engineFor = (other: Stores) => new Engine({ stores: other, clock, handlers, flows });
  return { clock, stores, engine, engineFor };
}

const approve = (output: unknown) => ({
  stepId: 'ask',
  outcome: { kind: 'success', output } as const,
});

describe('Engine.resume under concurrency', () => {
  it('of two engines racing to resume one wait, exactly one applies', async () => {
    const { stores, engine, engineFor } = setup();
    const parked = await engine.start('approval', null);
    const other = engineFor(stores);
    const results = await Promise.all([
      engine.resume(parked.id, approve('from-a')),
      other.resume(parked.id, approve('from-b')),
    ]);
    expect(results.filter((r) => r.resumed)).toHaveLength(1);
    const loser = results.find((r) => !r.resumed);
    expect(loser?.reason).toContain('not waiting on this step/job');
    const final = await engine.get(parked.id);
    expect(
      final?.history.filter((r) => r.stepId === 'ask' && r.outcome === 'success'),
    ).toHaveLength(1);
    expect(final?.history.filter((r) => r.stepId === 'record')).toHaveLength(1);
  });

  it('detects a stale version, re-reads, and does not apply a second resume', async () => {
    const { stores, engine, engineFor } = setup();
    const parked = await engine.start('approval', null);
    const stale = staleStores(stores, parked);
    await engine.resume(parked.id, approve('first'));

    const late = await engineFor(stale.stores).resume(parked.id, approve('second'));
    expect(stale.counts.conflicts).toBe(1);
    expect(late.resumed).toBe(false);
    expect(late.execution.output).toBe('first');
    expect(late.execution.history.map((r) => r.stepId)).toEqual(['ask', 'record']);
  });

  it('throws ConcurrencyError rather than lose a resume when conflicts never stop', async () => {
    const { stores, engine, engineFor } = setup();
    const parked = await engine.start('approval', null);
    const stale = staleStores(stores, parked, Number.POSITIVE_INFINITY);
    await engine.resume(parked.id, approve('first'));
    await expect(engineFor(stale.stores).resume(parked.id, approve('x'))).rejects.toThrow(
      ConcurrencyError,
    );
    expect(stale.counts.conflicts).toBe(5);
  });
});

describe('Engine.completeJob under concurrency', () => {
  it('retries the whole unit when the parent moved on, completing the job without a second resume', async () => {
    const { stores, engine, engineFor } = setup();
    const parked = await engine.start('payment', null);
    const [claimed] = await stores.jobs.claimBatch({ runnerId: 'r1', limit: 1 });
    if (claimed?.leaseId == null) throw new Error('no job claimed');
    const stale = staleStores(stores, parked);
    const external = await engine.resume(parked.id, {
      stepId: 'charge',
      outcome: { kind: 'success', output: 'paid-by-hand' },
    });
    expect(external.resumed).toBe(true);

    const settled = await engineFor(stale.stores).completeJob({
      jobId: claimed.id,
      leaseId: claimed.leaseId,
      result: 'ch_1',
    });
    expect(stale.counts.conflicts).toBe(1);
    expect(settled.resumed).toBe(false);
    expect(settled.job.status).toBe('completed');
    expect(settled.execution?.output).toBe('paid-by-hand');
    expect(settled.execution?.history).toHaveLength(1);
  });
});

describe('Engine.run under concurrency', () => {
  it('stops without overwriting when the execution is cancelled while an inline step runs', async () => {
    const clock = new ManualClock();
    const stores = createMemoryStores({ clock });
    let release: () => void = () => {};
    let markStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    let signal: AbortSignal | undefined;
    let afterCalls = 0;
    const slow: StepHandler = {
      type: 'slow',
      metadata: {},
      execute: async (params) => {
        signal = params.signal;
        markStarted();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return Result.success('late');
      },
    };
    const after: StepHandler = {
      type: 'after',
      metadata: {},
      execute: async () => Result.success(++afterCalls),
    };
    const flow = defineFlow({
      id: 'slow',
      initialStepId: 'a',
      steps: { a: { type: 'slow', transitions: { onSuccess: 'b' } }, b: { type: 'after' } },
    });
    const engine = new Engine({ stores, clock, handlers: [slow, after], flows: [flow] });
    let executionId = '';
    engine.events.on('execution:started', ({ execution }) => {
      executionId = execution.id;
    });
    const running = engine.start('slow', null);
    await started;
    const cancelled = await engine.cancel(executionId, 'stop');
    expect(signal?.aborted).toBe(true);
    release();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(result.version).toBe(cancelled.version);
    expect(afterCalls).toBe(0);
  });
});
