import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createMemoryStores,
  defineFlow,
  Engine,
  type Execution,
  ManualClock,
  Result,
  type StepHandler,
} from '../src/index.js';

const HOUR = 3_600_000;

describe('Engine.recoverStale', () => {
  const flow = defineFlow({ id: 'f', initialStepId: 'a', steps: { a: { type: 'a' } } });
  const handler: StepHandler = {
    type: 'a',
    metadata: {},
    execute: async () => Result.success('ran'),
  };

  it('runs an execution left running by a crash once it is older than olderThanMs', async () => {
    const clock = new ManualClock();
    const stores = createMemoryStores({ clock });
    const engine = new Engine({ stores, clock, handlers: [handler], flows: [flow] });
    const now = clock.now();
    const orphan: Execution = {
      id: '0190f3a0-0000-7000-8000-000000000001',
      flowId: 'f',
      flowVersion: 1,
      status: 'running',
      currentStepId: 'a',
      input: null,
      context: { input: null },
      output: null,
      error: null,
      history: [],
      stepCount: 0,
      waitingOn: null,
      wakeAt: null,
      idempotencyKey: null,
      tenantId: null,
      parentExecutionId: null,
      version: 0,
      createdAt: now,
      updatedAt: now,
    };
    await stores.executions.create(orphan);
    expect(await engine.recoverStale({ olderThanMs: 60_000 })).toBe(0);
    clock.advance(60_000);
    expect(await engine.recoverStale({ olderThanMs: 60_000 })).toBe(1);
    expect((await engine.get(orphan.id))?.output).toBe('ran');
    expect(await engine.recoverStale({ olderThanMs: 60_000 })).toBe(0);
  });

  it('rejects a negative olderThanMs with ConfigError', async () => {
    const engine = new Engine({ stores: createMemoryStores(), handlers: [handler], flows: [flow] });
    await expect(engine.recoverStale({ olderThanMs: -1 })).rejects.toThrow(ConfigError);
  });
});

describe('Engine.wakeDue', () => {
  it('does not wake a newer wait of the same step than the one it saw due', async () => {
    const clock = new ManualClock();
    const stores = createMemoryStores({ clock });
    let naps = 0;
    const nap: StepHandler = {
      type: 'nap',
      metadata: {},
      execute: async () => Result.wait({ until: clock.now() + ++naps * HOUR }),
    };
    const flow = defineFlow({
      id: 'loop',
      initialStepId: 'nap',
      steps: { nap: { type: 'nap', transitions: { onSuccess: 'nap' } } },
    });
    const engine = new Engine({ stores, clock, handlers: [nap], flows: [flow] });
    const firstWait = await engine.start('loop', null);
    clock.advance(HOUR);
    // Someone ends the first wait by hand; the loop parks again, two hours out.
    await engine.resume(firstWait.id, { stepId: 'nap', outcome: { kind: 'success', output: 1 } });
    const staleSweep = new Engine({
      stores: {
        ...stores,
        executions: staleDue(stores.executions, firstWait),
        transaction: stores.transaction,
      },
      clock,
      handlers: [nap],
      flows: [flow],
    });
    expect(await staleSweep.wakeDue()).toBe(0);
    const still = await engine.get(firstWait.id);
    expect(still?.status).toBe('waiting');
    expect(still?.wakeAt).toBe(clock.now() + 2 * HOUR);
  });
});

/** An execution store whose due-wakeup list is a stale snapshot. */
function staleDue(inner: ReturnType<typeof createMemoryStores>['executions'], seen: Execution) {
  return {
    create: inner.create.bind(inner),
    get: inner.get.bind(inner),
    update: inner.update.bind(inner),
    list: inner.list.bind(inner),
    listDueWakeups: async () => [seen],
  };
}

describe('new Engine', () => {
  it('rejects a step limit that is not a positive integer, naming maxSteps', () => {
    expect(() => new Engine({ stores: createMemoryStores(), maxSteps: 0 })).toThrow(ConfigError);
    expect(() => new Engine({ stores: createMemoryStores(), maxSteps: 0 })).toThrow('maxSteps');
  });
});

describe('Engine step failures from the engine itself', () => {
  it('fails the step when its output is not JSON, naming the context key', async () => {
    const bad: StepHandler = {
      type: 'bad',
      metadata: {},
      execute: async () => Result.success({ big: 1n }),
    };
    const flow = defineFlow({
      id: 'f',
      initialStepId: 'a',
      steps: { a: { type: 'bad', outputKey: 'out' } },
    });
    const engine = new Engine({ stores: createMemoryStores(), handlers: [bad], flows: [flow] });
    const execution = await engine.start('f', null);
    expect(execution.status).toBe('failed');
    expect(execution.error).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(execution.error?.message).toContain('context.out.big');
  });

  it('takes the failure path when an input selector throws, creating no job', async () => {
    const stateful: StepHandler = {
      type: 'job',
      metadata: { stateful: true },
      execute: async () => Result.success(null),
    };
    const fallback: StepHandler = {
      type: 'fallback',
      metadata: {},
      execute: async () => Result.success('fell back'),
    };
    const flow = defineFlow({
      id: 'f',
      initialStepId: 'a',
      steps: {
        a: {
          type: 'job',
          input: () => {
            throw new Error('selector broke');
          },
          transitions: { onFailure: 'b' },
        },
        b: { type: 'fallback' },
      },
    });
    const stores = createMemoryStores();
    const engine = new Engine({ stores, handlers: [stateful, fallback], flows: [flow] });
    const execution = await engine.start('f', null);
    expect(execution.output).toBe('fell back');
    expect(execution.history[0]?.error?.message).toBe('selector broke');
    expect(await stores.jobs.getByExecution(execution.id)).toEqual([]);
  });
});
