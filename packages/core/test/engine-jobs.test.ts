import { describe, expect, it } from 'vitest';
import {
  createMemoryStores,
  defineFlow,
  Engine,
  type FlowMonkeyEventName,
  type JobStore,
  LeaseLostError,
  ManualClock,
  Result,
  type StepHandler,
  type Stores,
  ValidationError,
} from '../src/index.js';
import { withTakenParkKeys } from '../src/testing/index.js';

const chargeHandler: StepHandler = {
  type: 'charge',
  metadata: { stateful: true, defaultMaxAttempts: 4, timeoutMs: 30_000 },
  execute: async ({ input }) => Result.success({ chargeId: `ch_${String(input)}` }),
};

const orderFlow = defineFlow({
  id: 'order',
  initialStepId: 'validate',
  steps: {
    validate: { type: 'validate', input: 'input.orderId', transitions: { onSuccess: 'charge' } },
    charge: {
      type: 'charge',
      input: 'validate',
      priority: 10,
      queue: 'payments',
      maxAttempts: 2,
      transitions: { onSuccess: 'ship', onFailure: 'cancelOrder' },
    },
    ship: { type: 'ship', input: 'charge.chargeId' },
    cancelOrder: { type: 'cancelOrder' },
  },
});

function inline(type: string, output: (input: unknown) => unknown): StepHandler {
  return { type, metadata: {}, execute: async ({ input }) => Result.success(output(input)) };
}

function setup() {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const handlers = [
    inline('validate', (id) => id),
    chargeHandler,
    inline('ship', (chargeId) => ({ shipped: chargeId })),
    inline('cancelOrder', () => 'cancelled-order'),
  ];
  const engine = new Engine({ stores, clock, handlers, flows: [orderFlow] });
  const seen: string[] = [];
  const names: FlowMonkeyEventName[] = [
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
    engine.events.on(name, (p) => {
      seen.push('stepId' in p ? `${name} ${p.stepId}` : name);
    });
  }
  const claim = async () => {
    const [job] = await stores.jobs.claimBatch({ runnerId: 'r1', limit: 1 });
    if (job?.leaseId == null) throw new Error('no job to claim');
    return { job, lease: { jobId: job.id, leaseId: job.leaseId } };
  };
  return { clock, stores, engine, seen, claim };
}

describe('Engine stateful steps', () => {
  it('creates exactly one job for a stateful step and parks the execution on it', async () => {
    const { engine, stores, seen } = setup();
    const execution = await engine.start('order', { orderId: 'o-1' });
    expect(execution.status).toBe('waiting');
    const jobs = await stores.jobs.getByExecution(execution.id);
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    expect(job).toMatchObject({
      handler: 'charge',
      executionId: execution.id,
      stepId: 'charge',
      input: 'o-1',
      queue: 'payments',
      priority: 10,
      maxAttempts: 2,
      timeoutMs: 30_000,
      status: 'pending',
      idempotencyKey: `${execution.id}:charge:1`,
    });
    expect(execution.waitingOn).toMatchObject({ stepId: 'charge', jobId: job?.id, until: null });
    expect(execution.history.at(-1)).toMatchObject({
      stepId: 'charge',
      outcome: 'waiting',
      jobId: job?.id,
      finishedAt: null,
    });
    expect(seen.slice(-2)).toEqual(['step:started charge', 'execution:waiting charge']);

    expect(await engine.run(execution.id)).toEqual(execution);
    expect(await stores.jobs.getByExecution(execution.id)).toHaveLength(1);
  });

  it('completeJob completes the job and resumes the execution to the end', async () => {
    const { engine, stores, claim, seen } = setup();
    const started = await engine.start('order', { orderId: 'o-2' });
    const { lease } = await claim();
    const settled = await engine.completeJob({ ...lease, result: { chargeId: 'ch_9' } });
    expect(settled.resumed).toBe(true);
    expect(settled.job.status).toBe('completed');
    expect(settled.execution?.status).toBe('completed');
    expect(settled.execution?.output).toEqual({ shipped: 'ch_9' });
    expect(settled.execution?.history.find((r) => r.stepId === 'charge')).toMatchObject({
      outcome: 'success',
      jobId: lease.jobId,
    });
    expect(await engine.get(started.id)).toEqual(settled.execution);
    expect((await stores.jobs.get(lease.jobId))?.status).toBe('completed');
    expect(seen.slice(-5)).toEqual([
      'execution:resumed charge',
      'step:completed charge',
      'step:started ship',
      'step:completed ship',
      'execution:completed',
    ]);
  });

  it('a second resume for the same job is a no-op that says why', async () => {
    const { engine, claim } = setup();
    const started = await engine.start('order', { orderId: 'o-3' });
    const { lease } = await claim();
    const settled = await engine.completeJob({ ...lease, result: { chargeId: 'ch_1' } });
    const again = await engine.resume(started.id, {
      stepId: 'charge',
      jobId: lease.jobId,
      outcome: { kind: 'success', output: { chargeId: 'ch_other' } },
    });
    expect(again.resumed).toBe(false);
    expect(again.reason).toContain('not waiting on this step/job');
    expect(again.execution).toEqual(settled.execution);
  });

  it('failJob with retryAt leaves the execution waiting; the final failure takes onFailure', async () => {
    const { engine, claim, clock } = setup();
    const started = await engine.start('order', { orderId: 'o-4' });
    const first = await claim();
    const retry = await engine.failJob({
      ...first.lease,
      error: { code: 'GATEWAY_DOWN', message: '503' },
      retryAt: clock.now() + 1000,
    });
    expect(retry.job.status).toBe('pending');
    expect(retry.resumed).toBe(false);
    expect((await engine.get(started.id))?.status).toBe('waiting');

    clock.advance(1000);
    const second = await claim();
    const failed = await engine.failJob({
      ...second.lease,
      error: { code: 'GATEWAY_DOWN', message: '503 again' },
      retryAt: clock.now() + 1000,
    });
    expect(failed.job.status).toBe('failed');
    expect(failed.resumed).toBe(true);
    expect(failed.execution?.status).toBe('completed');
    expect(failed.execution?.output).toBe('cancelled-order');
    expect(failed.execution?.history.find((r) => r.stepId === 'charge')).toMatchObject({
      outcome: 'failure',
      error: { code: 'GATEWAY_DOWN', message: '503 again' },
    });
  });

  it('failJob without retryAt fails the job at once and takes onFailure', async () => {
    const { engine, claim, seen } = setup();
    await engine.start('order', { orderId: 'o-4b' });
    const { lease } = await claim();
    const failed = await engine.failJob({
      ...lease,
      error: { code: 'CARD_DECLINED', message: 'declined' },
    });
    expect(failed.job.status).toBe('failed');
    expect(failed.resumed).toBe(true);
    expect(failed.execution?.output).toBe('cancelled-order');
    expect(seen).toContain('step:failed charge');
  });

  it('a lease-lost completion throws LeaseLostError and leaves the execution untouched', async () => {
    const { engine, claim } = setup();
    const started = await engine.start('order', { orderId: 'o-5' });
    const { lease } = await claim();
    const write = engine.completeJob({ jobId: lease.jobId, leaseId: 'stale-lease', result: {} });
    await expect(write).rejects.toThrow(LeaseLostError);
    expect(await engine.get(started.id)).toEqual(started);
  });

  it('resetStalledJob on the last attempt fails the job and resumes the parent with the failure', async () => {
    const { engine, claim, clock } = setup();
    const started = await engine.start('order', { orderId: 'o-6' });
    const first = await claim();
    const reset = await engine.resetStalledJob({ ...first.lease });
    expect(reset.job.status).toBe('pending');
    expect(reset.resumed).toBe(false);
    clock.advance(60_000);
    const second = await claim();
    const stalled = await engine.resetStalledJob({
      ...second.lease,
      error: { code: 'STALLED', message: 'no heartbeat' },
    });
    expect(stalled.job.status).toBe('failed');
    expect(stalled.resumed).toBe(true);
    expect(stalled.execution?.output).toBe('cancelled-order');
    expect((await engine.get(started.id))?.status).toBe('completed');
  });

  it('describeJob gives the execution, step and flow of a step job, nothing for a plain job', async () => {
    const { engine, stores } = setup();
    const started = await engine.start('order', { orderId: 'o-7' });
    const [job] = await stores.jobs.getByExecution(started.id);
    if (job === undefined) throw new Error('no job');
    const described = await engine.describeJob(job);
    expect(described?.step.id).toBe('charge');
    expect(described?.flow).toBe(orderFlow);
    expect(described?.execution.id).toBe(started.id);
    const plain = await stores.jobs.create({ handler: 'email' });
    expect(await engine.describeJob(plain)).toBeUndefined();
  });
});

describe('Engine.cancel', () => {
  it('cancels a waiting execution together with its pending job', async () => {
    const { engine, stores, seen } = setup();
    const started = await engine.start('order', { orderId: 'o-8' });
    const cancelled = await engine.cancel(started.id, 'customer changed their mind');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toEqual({ code: 'CANCELLED', message: 'customer changed their mind' });
    expect(cancelled.history.at(-1)?.outcome).toBe('cancelled');
    const [job] = await stores.jobs.getByExecution(started.id);
    expect(job?.status).toBe('cancelled');
    expect(seen.at(-1)).toBe('execution:cancelled');
    expect(await engine.cancel(started.id)).toEqual(cancelled);
  });

  it('asks a running job to stop; its confirmed cancel leaves the cancelled execution alone', async () => {
    const { engine, stores, claim } = setup();
    const started = await engine.start('order', { orderId: 'o-9' });
    const { lease } = await claim();
    const cancelled = await engine.cancel(started.id);
    expect((await stores.jobs.get(lease.jobId))?.cancelRequested).toBe(true);
    const confirmed = await engine.confirmJobCancel({ ...lease, reason: 'stopped' });
    expect(confirmed.job.status).toBe('cancelled');
    expect(confirmed.resumed).toBe(false);
    expect(await engine.get(started.id)).toEqual(cancelled);
  });

  it('a job cancelled on its own sends the execution down its failure path', async () => {
    const { engine, stores, claim } = setup();
    const started = await engine.start('order', { orderId: 'o-10' });
    const { lease } = await claim();
    await stores.jobs.cancel({ jobId: lease.jobId, reason: 'operator' });
    const confirmed = await engine.confirmJobCancel({ ...lease });
    expect(confirmed.resumed).toBe(true);
    expect(confirmed.execution?.output).toBe('cancelled-order');
    const record = confirmed.execution?.history.find((r) => r.stepId === 'charge');
    expect(record).toMatchObject({ outcome: 'cancelled', error: { code: 'CANCELLED' } });
    expect((await engine.get(started.id))?.status).toBe('completed');
  });
});

/** `target` whose method calls are appended to `calls` as `<prefix>.<method>`. */
function logged<T extends object>(target: T, prefix: string, calls: string[]): T {
  return new Proxy(target, {
    get(t, property, receiver) {
      const value: unknown = Reflect.get(t, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${prefix}.${String(property)}`);
        return value.apply(t, args);
      };
    },
  });
}

/** `setup()` with its stores logged, and `failNextJobCreate` to fail one job write. */
function setupLogged() {
  const base = setup();
  const calls: string[] = [];
  const failures: Error[] = [];
  const { stores } = base;
  const loggedStores: Stores = {
    executions: logged(stores.executions, 'executions', calls),
    jobs: logged(stores.jobs, 'jobs', calls),
    schedules: stores.schedules,
    transaction: (fn) => {
      calls.push('transaction');
      return stores.transaction((tx) => {
        const failure = failures.shift();
        // When a failure is queued the job write fails with it (e.g. the connection was
        // lost), and the transaction rolls back.
        const jobs: JobStore =
          failure === undefined
            ? tx.jobs
            : new Proxy(tx.jobs, {
                get: (t, p, r) =>
                  p === 'create' ? () => Promise.reject(failure) : Reflect.get(t, p, r),
              });
        return fn({
          executions: logged(tx.executions, 'tx.executions', calls),
          jobs: logged(jobs, 'tx.jobs', calls),
        });
      });
    },
  };
  let validations = 0;
  const handlers = [
    inline('validate', (id) => {
      validations++;
      return id;
    }),
    chargeHandler,
    inline('ship', (chargeId) => ({ shipped: chargeId })),
    inline('cancelOrder', () => 'cancelled-order'),
  ];
  const engine = new Engine({
    stores: loggedStores,
    clock: base.clock,
    handlers,
    flows: [orderFlow],
  });
  const seen: string[] = [];
  for (const name of [
    'step:started',
    'step:completed',
    'job:created',
    'execution:waiting',
  ] as const) {
    engine.events.on(name, (p) => {
      seen.push('stepId' in p ? `${name} ${p.stepId}` : name);
    });
  }
  return { ...base, engine, calls, seen, failures, validations: () => validations };
}

/** The events of starting `order` up to its park on the `charge` job, in order. */
const START_EVENTS = [
  'step:started validate',
  'step:completed validate',
  'step:started charge',
  'job:created',
  'execution:waiting charge',
];

describe('Engine.start from an inline step into a stateful one', () => {
  it("writes the inline step's outcome and the park on the job in one transaction", async () => {
    const { engine, stores, calls, seen } = setupLogged();
    const execution = await engine.start('order', { orderId: 'o-1' });
    expect(calls).toEqual([
      'executions.create',
      'transaction',
      'tx.jobs.create',
      'tx.executions.update',
    ]);
    expect(seen).toEqual(START_EVENTS);
    expect(execution).toMatchObject({
      status: 'waiting',
      version: 1,
      context: { validate: 'o-1' },
    });
    expect(execution.history.map((r) => [r.stepId, r.outcome])).toEqual([
      ['validate', 'success'],
      ['charge', 'waiting'],
    ]);
    expect(await stores.executions.get(execution.id)).toEqual(execution);
  });

  it('runs the inline step again when the park was not written, as after a crash before its commit', async () => {
    const { engine, stores, seen, failures, validations } = setupLogged();
    failures.push(new Error('connection lost'));
    await expect(engine.start('order', { orderId: 'o-2' })).rejects.toThrow('connection lost');
    const [stored] = await stores.executions.list({ limit: 10 });
    expect(stored).toMatchObject({ status: 'running', version: 0, history: [] });
    expect(await stores.jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
    expect(seen).toEqual(['step:started validate']);

    const recovered = await engine.run(stored?.id ?? '');
    expect(recovered).toMatchObject({ status: 'waiting', waitingOn: { stepId: 'charge' } });
    expect(validations()).toBe(2);
    expect(await stores.jobs.getByExecution(recovered.id)).toHaveLength(1);
  });

  it('writes the outcome alone and then parks, when the store refuses the combined write once', async () => {
    const { engine, stores, calls, seen, failures, validations } = setupLogged();
    failures.push(new ValidationError('input', 'refused once'));
    const execution = await engine.start('order', { orderId: 'o-5' });
    expect(calls).toEqual([
      'executions.create',
      'transaction',
      'tx.jobs.create',
      'executions.update',
      'transaction',
      'tx.jobs.create',
      'tx.executions.update',
    ]);
    expect(seen).toEqual(START_EVENTS);
    expect(validations()).toBe(1);
    expect(execution).toMatchObject({ status: 'waiting', version: 2 });
    const jobs = await stores.jobs.getByExecution(execution.id);
    expect(jobs.map((j) => [j.id, j.idempotencyKey, j.input])).toEqual([
      [execution.waitingOn?.jobId, `${execution.id}:charge:1`, 'o-5'],
    ]);
  });

  it('parks on the job already holding the key when parkOnNewJob finds it taken', async () => {
    const clock = new ManualClock();
    const memory = createMemoryStores({ clock });
    const { stores, holders, answers } = withTakenParkKeys(memory);
    const handlers = [
      inline('validate', (id) => id),
      chargeHandler,
      inline('ship', () => null),
      inline('cancelOrder', () => null),
    ];
    const engine = new Engine({ stores, clock, handlers, flows: [orderFlow] });
    const execution = await engine.start('order', { orderId: 'o-9' });
    expect(answers).toEqual([undefined]);
    expect(execution).toMatchObject({ status: 'waiting', waitingOn: { jobId: holders[0]?.id } });
    expect(await memory.jobs.getByExecution(execution.id)).toEqual(holders);
    expect(await memory.executions.get(execution.id)).toEqual(execution);
  });

  it('writes the outcome alone, as a failure, when the store refuses the combined write', async () => {
    const clock = new ManualClock();
    const memory = createMemoryStores({ clock, maxPayloadBytes: 2_000 });
    let combinedWrites = 0;
    const stores: Stores = {
      ...memory,
      parkOnNewJob: (params) => {
        combinedWrites++;
        return memory.parkOnNewJob(params);
      },
      transaction: (fn) => {
        combinedWrites++;
        return memory.transaction(fn);
      },
    };
    const flow = defineFlow({
      id: 'big-then-job',
      initialStepId: 'big',
      steps: {
        big: { type: 'big', transitions: { onSuccess: 'charge' } },
        charge: { type: 'charge' },
      },
    });
    const handlers = [inline('big', () => 'x'.repeat(2_500)), chargeHandler];
    const engine = new Engine({ stores, clock, handlers, flows: [flow] });
    const execution = await engine.start('big-then-job', null);
    // The combined write was tried (and refused: the job's input is over the store's
    // limit), then the outcome alone (refused: the context is), then its failure.
    expect(combinedWrites).toBe(1);
    expect(execution).toMatchObject({ status: 'failed', error: { code: 'VALIDATION_ERROR' } });
    expect(execution.history.map((r) => [r.stepId, r.outcome])).toEqual([['big', 'failure']]);
    expect(await memory.jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
    expect(await memory.executions.get(execution.id)).toEqual(execution);
  });

  it("runs each input selector once, an inline step's and a failing stateful step's", async () => {
    const clock = new ManualClock();
    const stores = createMemoryStores({ clock });
    const selected: string[] = [];
    const flow = defineFlow({
      id: 'selectors',
      initialStepId: 'a',
      steps: {
        a: { type: 'validate', transitions: { onSuccess: 'b' } },
        b: {
          type: 'validate',
          input: () => selected.push('b'),
          transitions: { onSuccess: 'charge' },
        },
        charge: {
          type: 'charge',
          input: () => {
            selected.push('charge');
            throw new Error('no input for you');
          },
          transitions: { onFailure: 'cancelOrder' },
        },
        cancelOrder: { type: 'cancelOrder' },
      },
    });
    const handlers = [
      inline('validate', (x) => x),
      chargeHandler,
      inline('cancelOrder', () => 'gave up'),
    ];
    const engine = new Engine({ stores, clock, handlers, flows: [flow] });
    const execution = await engine.start('selectors', null);
    expect(selected).toEqual(['b', 'charge']);
    expect(execution).toMatchObject({ status: 'completed', output: 'gave up' });
    expect(execution.history.map((r) => [r.stepId, r.outcome])).toEqual([
      ['a', 'success'],
      ['b', 'success'],
      ['charge', 'failure'],
      ['cancelOrder', 'success'],
    ]);
    expect(await stores.jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
  });

  it('fails the execution at the step limit before the stateful step, creating no job', async () => {
    const clock = new ManualClock();
    const stores = createMemoryStores({ clock });
    const flow = defineFlow({ ...orderFlow, id: 'short', maxSteps: 1 });
    const handlers = [
      inline('validate', (id) => id),
      chargeHandler,
      inline('ship', (x) => x),
      inline('cancelOrder', () => 'cancelled-order'),
    ];
    const engine = new Engine({ stores, clock, handlers, flows: [flow] });
    const execution = await engine.start('short', { orderId: 'o-3' });
    expect(execution).toMatchObject({ status: 'failed', error: { code: 'STEP_LIMIT_EXCEEDED' } });
    expect(execution.context).toMatchObject({ validate: 'o-3' });
    expect(await stores.jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
  });

  it('leaves no job when the execution is cancelled while the inline step runs', async () => {
    const clock = new ManualClock();
    const stores = createMemoryStores({ clock });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handlers: StepHandler[] = [
      {
        type: 'validate',
        metadata: {},
        execute: async ({ input }) => {
          await gate;
          return Result.success(input);
        },
      },
      chargeHandler,
      inline('ship', (x) => x),
      inline('cancelOrder', () => 'cancelled-order'),
    ];
    const engine = new Engine({ stores, clock, handlers, flows: [orderFlow] });
    const seen: string[] = [];
    engine.events.on('step:completed', (p) => {
      seen.push(`step:completed ${p.stepId}`);
    });
    engine.events.on('job:created', () => {
      seen.push('job:created');
    });
    const started = new Promise<string>((resolve) => {
      engine.events.on('execution:started', (p) => resolve(p.execution.id));
    });
    const running = engine.start('order', { orderId: 'o-4' });
    const id = await started;
    await engine.cancel(id, 'changed my mind');
    release();
    expect(await running).toMatchObject({ id, status: 'cancelled' });
    expect(await stores.jobs.getByExecution(id)).toEqual([]);
    expect(seen).toEqual([]);
  });
});
