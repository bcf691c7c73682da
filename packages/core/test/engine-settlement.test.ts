import { describe, expect, it } from 'vitest';
import {
  createMemoryStores,
  defineFlow,
  Engine,
  type ExecutionStore,
  type Logger,
  ManualClock,
  Result,
  type StepHandler,
  type Stores,
} from '../src/index.js';

const charge: StepHandler = {
  type: 'charge',
  metadata: { stateful: true },
  execute: async () => Result.success('ch_1'),
};
const boom: StepHandler = {
  type: 'boom',
  metadata: {},
  execute: async () => {
    throw new TypeError('cannot read properties of undefined');
  },
};
const ship: StepHandler = {
  type: 'ship',
  metadata: {},
  execute: async ({ input }) => Result.success({ shipped: input }),
};
const refund: StepHandler = {
  type: 'refund',
  metadata: {},
  execute: async () => Result.success('refunded'),
};

/** charge (stateful) then `next` (inline), which falls back to `refund` when `withFallback`. */
function flowWith(next: 'boom' | 'ship', withFallback: boolean) {
  return defineFlow({
    id: 'order',
    initialStepId: 'charge',
    steps: {
      charge: { type: 'charge', transitions: { onSuccess: 'after', onFailure: 'refund' } },
      after: {
        type: next,
        input: 'charge',
        ...(withFallback ? { transitions: { onFailure: 'refund' } } : {}),
      },
      refund: { type: 'refund' },
    },
  });
}

/**
 * Execution store whose `update` (outside transactions) fails, as a lost connection would,
 * once `broken.okUpdates` more updates have gone through.
 */
function breakable(inner: ExecutionStore, broken: { okUpdates: number }): ExecutionStore {
  return {
    create: (execution) => inner.create(execution),
    get: (id) => inner.get(id),
    list: (params) => inner.list(params),
    listDueWakeups: (params) => inner.listDueWakeups(params),
    update: async (params) => {
      if (broken.okUpdates <= 0) throw new Error('connection reset by peer');
      broken.okUpdates--;
      return inner.update(params);
    },
  };
}

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (_obj, msg) => {
      lines.push(msg ?? '');
    },
    child: () => logger,
  };
  return logger;
}

async function setup(next: 'boom' | 'ship', withFallback: boolean) {
  const clock = new ManualClock();
  const memory = createMemoryStores({ clock });
  const broken = { okUpdates: Number.POSITIVE_INFINITY };
  const stores: Stores = {
    executions: breakable(memory.executions, broken),
    jobs: memory.jobs,
    schedules: memory.schedules,
    transaction: (fn) => memory.transaction(fn),
  };
  const logged: string[] = [];
  const engine = new Engine({
    stores,
    clock,
    logger: recordingLogger(logged),
    handlers: [charge, boom, ship, refund],
    flows: [flowWith(next, withFallback)],
  });
  const started = await engine.start('order', null);
  const [job] = await memory.jobs.claimBatch({ runnerId: 'r1', limit: 1 });
  if (job?.leaseId == null) throw new Error('no job to claim');
  const lease = { jobId: job.id, leaseId: job.leaseId };
  return { clock, memory, broken, logged, engine, started, lease };
}

describe('Engine.completeJob after its commit', () => {
  it('resolves when the next inline step throws, and the execution takes onFailure', async () => {
    const { engine, memory, lease } = await setup('boom', true);
    const settled = await engine.completeJob({ ...lease, result: 'ch_1' });
    expect(settled.resumed).toBe(true);
    expect(settled.job.status).toBe('completed');
    expect(settled.execution?.status).toBe('completed');
    expect(settled.execution?.output).toBe('refunded');
    const after = settled.execution?.history.find((r) => r.stepId === 'after');
    expect(after?.error?.message).toBe('cannot read properties of undefined');
    expect((await memory.jobs.get(lease.jobId))?.status).toBe('completed');
  });

  it('resolves when the next inline step throws without onFailure, and the execution fails', async () => {
    const { engine, lease } = await setup('boom', false);
    const settled = await engine.completeJob({ ...lease, result: 'ch_1' });
    expect(settled.job.status).toBe('completed');
    expect(settled.execution?.status).toBe('failed');
    expect(settled.execution?.error?.message).toBe('cannot read properties of undefined');
  });

  it('resolves when writing the next inline step fails; recoverStale finishes the execution', async () => {
    const { engine, memory, broken, logged, clock, lease, started } = await setup('ship', false);
    broken.okUpdates = 0;
    const settled = await engine.completeJob({ ...lease, result: 'ch_1' });
    expect(settled.job.status).toBe('completed');
    expect(settled.resumed).toBe(true);
    expect(settled.execution?.status).toBe('running');
    expect(settled.execution?.currentStepId).toBe('after');
    expect(logged.join('\n')).toContain('recoverStale will retry');
    broken.okUpdates = Number.POSITIVE_INFINITY;
    clock.advance(60_000);
    expect(await engine.recoverStale({ olderThanMs: 30_000 })).toBe(1);
    const finished = await memory.executions.get(started.id);
    expect(finished?.status).toBe('completed');
    expect(finished?.output).toEqual({ shipped: 'ch_1' });
  });

  it('still rejects when the settlement itself cannot be written, changing nothing', async () => {
    const { engine, memory, lease, started } = await setup('ship', false);
    await expect(
      engine.completeJob({ ...lease, result: { bad: 1n } as unknown }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((await memory.jobs.get(lease.jobId))?.status).toBe('running');
    expect((await memory.executions.get(started.id))?.status).toBe('waiting');
  });
});

describe('Engine.failJob after its commit', () => {
  it('resolves when the failure branch cannot be written, leaving the execution for recoverStale', async () => {
    const { engine, broken, lease } = await setup('ship', true);
    broken.okUpdates = 0;
    const error = { code: 'CARD_DECLINED', message: 'declined' };
    const settled = await engine.failJob({ ...lease, error, retryAt: null });
    expect(settled.job.status).toBe('failed');
    expect(settled.execution?.status).toBe('running');
    expect(settled.execution?.currentStepId).toBe('refund');
  });
});

describe('Engine.resume after its commit', () => {
  it('resolves with resumed: true when writing the following inline step fails', async () => {
    const wait: StepHandler = { type: 'wait', metadata: {}, execute: async () => Result.wait({}) };
    const flow = defineFlow({
      id: 'approval',
      initialStepId: 'ask',
      steps: {
        ask: { type: 'wait', transitions: { onSuccess: 'after' } },
        after: { type: 'ship' },
      },
    });
    const memory = createMemoryStores();
    const broken = { okUpdates: Number.POSITIVE_INFINITY };
    const stores: Stores = { ...memory, executions: breakable(memory.executions, broken) };
    const engine = new Engine({ stores, handlers: [wait, ship], flows: [flow] });
    const started = await engine.start('approval', null);
    broken.okUpdates = 1;
    const result = await engine.resume(started.id, {
      stepId: 'ask',
      outcome: { kind: 'success', output: 'yes' },
    });
    expect(result.resumed).toBe(true);
    expect(result.execution.status).toBe('running');
    expect(result.execution.currentStepId).toBe('after');
  });
});
