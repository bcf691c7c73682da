import { describe, expect, it } from 'vitest';
import {
  createMemoryStores,
  defineFlow,
  Engine,
  type FlowDefinition,
  FlowDefinitionError,
  type FlowMonkeyEventName,
  ManualClock,
  NotFoundError,
  Result,
  type StepHandler,
  type StepResult,
  ValidationError,
} from '../src/index.js';

function inline(
  type: string,
  run: (input: unknown) => StepResult | Promise<StepResult>,
): StepHandler {
  return { type, metadata: {}, execute: async ({ input }) => run(input) };
}

function setup(definition: FlowDefinition, handlers: StepHandler[], maxSteps?: number) {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const engine = new Engine({ stores, clock, handlers, maxSteps, flows: [defineFlow(definition)] });
  const seen: string[] = [];
  const names: FlowMonkeyEventName[] = [
    'execution:started',
    'step:started',
    'step:completed',
    'step:failed',
    'execution:waiting',
    'execution:resumed',
    'execution:completed',
    'execution:failed',
    'execution:cancelled',
  ];
  for (const name of names) {
    engine.events.on(name, (payload) => {
      const stepId = 'stepId' in payload ? ` ${payload.stepId}` : '';
      seen.push(`${name}${stepId}`);
    });
  }
  return { clock, stores, engine, seen };
}

const orderFlow: FlowDefinition = {
  id: 'order',
  initialStepId: 'validate',
  steps: {
    validate: { type: 'validate', input: 'input.order', transitions: { onSuccess: 'price' } },
    price: { type: 'price', input: 'validate.total', outputKey: 'priced' },
  },
};

const orderHandlers = [
  inline('validate', (order) => Result.success({ total: (order as { total: number }).total })),
  inline('price', (total) => Result.success({ withTax: (total as number) * 1.2 })),
];

describe('Engine.start', () => {
  it('runs inline steps to the end, storing each output in the context', async () => {
    const { engine } = setup(orderFlow, orderHandlers);
    const execution = await engine.start('order', { order: { total: 100 } });
    expect(execution.status).toBe('completed');
    expect(execution.context).toEqual({
      input: { order: { total: 100 } },
      validate: { total: 100 },
      priced: { withTax: 120 },
    });
    expect(execution.output).toEqual({ withTax: 120 });
    expect(execution.stepCount).toBe(2);
    expect(execution.currentStepId).toBeNull();
    expect(execution.history.map((r) => [r.stepId, r.attempt, r.outcome])).toEqual([
      ['validate', 1, 'success'],
      ['price', 1, 'success'],
    ]);
    expect(await engine.get(execution.id)).toEqual(execution);
  });

  it('emits the lifecycle events in order', async () => {
    const { engine, seen } = setup(orderFlow, orderHandlers);
    await engine.start('order', { order: { total: 1 } });
    expect(seen).toEqual([
      'execution:started',
      'step:started validate',
      'step:completed validate',
      'step:started price',
      'step:completed price',
      'execution:completed',
    ]);
  });

  it('takes onFailure when a handler throws, recording the error in the history', async () => {
    const { engine, seen } = setup(
      {
        id: 'order',
        initialStepId: 'charge',
        steps: {
          charge: { type: 'charge', transitions: { onFailure: 'refund' } },
          refund: { type: 'refund' },
        },
      },
      [
        inline('charge', () => {
          throw Object.assign(new Error('card declined'), { code: 'DECLINED' });
        }),
        inline('refund', () => Result.success('refunded')),
      ],
    );
    const execution = await engine.start('order', {});
    expect(execution.status).toBe('completed');
    expect(execution.output).toBe('refunded');
    expect(execution.history[0]).toMatchObject({
      stepId: 'charge',
      outcome: 'failure',
      error: { code: 'DECLINED', message: 'card declined' },
    });
    expect(seen).toContain('step:failed charge');
  });

  it('fails the execution with the error code when a failing step has no onFailure', async () => {
    const { engine, seen } = setup(
      { id: 'order', initialStepId: 'charge', steps: { charge: { type: 'charge' } } },
      [inline('charge', () => Result.failure({ code: 'DECLINED', message: 'no funds' }))],
    );
    const execution = await engine.start('order', {});
    expect(execution.status).toBe('failed');
    expect(execution.error).toEqual({ code: 'DECLINED', message: 'no funds' });
    expect(seen.slice(-2)).toEqual(['step:failed charge', 'execution:failed']);
  });

  it('fails the step when a handler returns something that is not a Result', async () => {
    const bad: StepHandler = {
      type: 'bad',
      metadata: {},
      execute: async () => 'oops' as unknown as StepResult,
    };
    const { engine } = setup({ id: 'f', initialStepId: 'a', steps: { a: { type: 'bad' } } }, [bad]);
    const execution = await engine.start('f', null);
    expect(execution.error?.code).toBe('INVALID_RESULT');
  });

  it('returns the first execution, without running again, for a repeated idempotencyKey', async () => {
    let calls = 0;
    const { engine } = setup({ id: 'f', initialStepId: 'a', steps: { a: { type: 'count' } } }, [
      inline('count', () => Result.success(++calls)),
    ]);
    const first = await engine.start('f', { n: 1 }, { idempotencyKey: 'k-1', tenantId: 't' });
    const second = await engine.start('f', { n: 2 }, { idempotencyKey: 'k-1' });
    expect(second.id).toBe(first.id);
    expect(second.input).toEqual({ n: 1 });
    expect(calls).toBe(1);
    expect(first.tenantId).toBe('t');
  });

  it('rejects input that is not JSON with a ValidationError naming input, storing nothing', async () => {
    const { engine, stores } = setup(orderFlow, orderHandlers);
    const start = engine.start('order', { when: 10n });
    await expect(start).rejects.toThrow(ValidationError);
    await expect(start).rejects.toMatchObject({ field: 'input.when' });
    expect(await stores.executions.list({ limit: 10 })).toEqual([]);
  });

  it('throws NotFoundError for an unknown flow or version', async () => {
    const { engine } = setup(orderFlow, orderHandlers);
    await expect(engine.start('nope', {})).rejects.toThrow(NotFoundError);
    await expect(engine.start('order', {}, { version: 2 })).rejects.toThrow(
      'flow "order@2" not found',
    );
  });
});

describe('Engine step limit', () => {
  const loop: FlowDefinition = {
    id: 'loop',
    initialStepId: 'spin',
    steps: { spin: { type: 'spin', transitions: { onSuccess: 'spin' } } },
  };
  const spin = inline('spin', () => Result.success('again'));

  it('stops a runaway loop with STEP_LIMIT_EXCEEDED after the engine limit', async () => {
    const { engine, seen } = setup(loop, [spin], 5);
    const execution = await engine.start('loop', null);
    expect(execution.status).toBe('failed');
    expect(execution.stepCount).toBe(5);
    expect(execution.history).toHaveLength(5);
    expect(execution.history[4]?.attempt).toBe(5);
    expect(execution.error?.code).toBe('STEP_LIMIT_EXCEEDED');
    expect(execution.error?.message).toContain('exceeded its limit of 5 steps');
    expect(execution.error?.message).toContain('before step "spin"');
    expect(seen.at(-1)).toBe('execution:failed');
  });

  it("uses the flow's own maxSteps over the engine's", async () => {
    const { engine } = setup({ ...loop, maxSteps: 3 }, [spin], 50);
    const execution = await engine.start('loop', null);
    expect(execution.stepCount).toBe(3);
    expect(execution.error?.code).toBe('STEP_LIMIT_EXCEEDED');
  });
});

describe('Engine.registerFlow', () => {
  it('rejects a flow whose step names an unregistered handler', () => {
    const { engine } = setup(orderFlow, orderHandlers);
    const flow = defineFlow({ id: 'other', initialStepId: 'x', steps: { x: { type: 'missing' } } });
    expect(() => engine.registerFlow(flow)).toThrow(FlowDefinitionError);
    expect(() => engine.registerFlow(flow)).toThrow('flow "other" step "x": type:');
  });

  it('keeps versions side by side; getFlow without a version gives the highest', () => {
    const { engine } = setup(orderFlow, orderHandlers);
    engine.registerFlow(defineFlow({ ...orderFlow, version: 2 }));
    expect(engine.getFlow('order').version).toBe(2);
    expect(engine.getFlow('order', 1).version).toBe(1);
  });
});

describe('Engine waits', () => {
  const sleepy: FlowDefinition = {
    id: 'sleepy',
    initialStepId: 'nap',
    steps: {
      nap: { type: 'nap', transitions: { onSuccess: 'after' } },
      after: { type: 'after', input: 'nap' },
    },
  };

  it('parks on Result.wait({ until }) and wakeDue continues to onSuccess once due', async () => {
    const { engine, clock, seen } = setup(sleepy, [
      inline('nap', () => Result.wait({ until: Date.UTC(2026, 0, 1, 1), reason: 'cool-off' })),
      inline('after', (input) => Result.success({ sawNapOutput: input })),
    ]);
    const parked = await engine.start('sleepy', null);
    expect(parked.status).toBe('waiting');
    expect(parked.wakeAt).toBe(Date.UTC(2026, 0, 1, 1));
    expect(parked.waitingOn).toEqual({
      stepId: 'nap',
      jobId: null,
      reason: 'cool-off',
      until: parked.wakeAt,
    });
    expect(seen.at(-1)).toBe('execution:waiting nap');

    clock.advance(59 * 60_000);
    expect(await engine.wakeDue()).toBe(0);
    clock.advance(60_000);
    expect(await engine.wakeDue()).toBe(1);
    const done = await engine.get(parked.id);
    expect(done?.status).toBe('completed');
    expect(done?.output).toEqual({ sawNapOutput: null });
    expect(done?.history.map((r) => r.outcome)).toEqual(['success', 'success']);
    expect(await engine.wakeDue()).toBe(0);
  });

  it('waits without until until resumed, then continues with the given output', async () => {
    const { engine } = setup(sleepy, [
      inline('nap', () => Result.wait({ reason: 'approval' })),
      inline('after', (input) => Result.success(input)),
    ]);
    const parked = await engine.start('sleepy', null);
    expect(parked.wakeAt).toBeNull();
    expect(await engine.run(parked.id)).toEqual(parked);
    const result = await engine.resume(parked.id, {
      stepId: 'nap',
      outcome: { kind: 'success', output: { approved: true } },
    });
    expect(result.resumed).toBe(true);
    expect(result.execution.status).toBe('completed');
    expect(result.execution.output).toEqual({ approved: true });
  });

  it('resumes with a failure into onFailure, or fails the execution', async () => {
    const { engine } = setup(sleepy, [
      inline('nap', () => Result.wait({})),
      inline('after', () => Result.success(null)),
    ]);
    const parked = await engine.start('sleepy', null);
    const result = await engine.resume(parked.id, {
      stepId: 'nap',
      jobId: null,
      outcome: { kind: 'failure', error: { code: 'REJECTED', message: 'no' } },
    });
    expect(result.execution.status).toBe('failed');
    expect(result.execution.error).toEqual({ code: 'REJECTED', message: 'no' });
  });

  it('ignores a resume for another step, saying why', async () => {
    const { engine } = setup(sleepy, [
      inline('nap', () => Result.wait({})),
      inline('after', () => Result.success(null)),
    ]);
    const parked = await engine.start('sleepy', null);
    const result = await engine.resume(parked.id, {
      stepId: 'after',
      outcome: { kind: 'success', output: 1 },
    });
    expect(result.resumed).toBe(false);
    expect(result.reason).toContain('not waiting on this step/job');
    expect(result.execution).toEqual(parked);
  });
});
