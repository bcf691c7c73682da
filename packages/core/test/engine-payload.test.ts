import { describe, expect, it } from 'vitest';
import {
  createMemoryStores,
  defineFlow,
  Engine,
  ManualClock,
  Result,
  type StepHandler,
  ValidationError,
} from '../src/index.js';

/** The limit of both the engine and the stores, in bytes. */
const MAX_BYTES = 2_000;
/** An output well under the limit on its own; two of them in one context are over it. */
const BIG = 'x'.repeat(1_200);

const handlers: StepHandler[] = [
  { type: 'big', metadata: {}, execute: async () => Result.success(BIG) },
  { type: 'bigJob', metadata: { stateful: true }, execute: async () => Result.success(BIG) },
  { type: 'wait', metadata: {}, execute: async () => Result.wait({}) },
  { type: 'fallback', metadata: {}, execute: async () => Result.success('fell back') },
];

function setup(second: 'big' | 'bigJob' | 'wait', withFallback: boolean) {
  const flow = defineFlow({
    id: 'grow',
    initialStepId: 'first',
    steps: {
      first: { type: 'big', transitions: { onSuccess: 'second' } },
      ...(withFallback
        ? {
            second: { type: second, transitions: { onFailure: 'fallback' } },
            fallback: { type: 'fallback' },
          }
        : { second: { type: second } }),
    },
  });
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock, maxPayloadBytes: MAX_BYTES });
  const engine = new Engine({ stores, clock, handlers, flows: [flow], maxPayloadBytes: MAX_BYTES });
  return { clock, stores, engine };
}

describe('Engine.start with a context outgrowing maxPayloadBytes', () => {
  it('fails the inline step that would overflow it, naming context.<outputKey>', async () => {
    const { engine, stores, clock } = setup('big', false);
    const execution = await engine.start('grow', null);
    expect(execution.status).toBe('failed');
    expect(execution.error?.code).toBe('VALIDATION_ERROR');
    expect(execution.error?.details).toMatchObject({
      field: 'context.second',
      maxBytes: MAX_BYTES,
    });
    expect(execution.context).toEqual({ input: null, first: BIG });
    clock.advance(3_600_000);
    expect(await engine.recoverStale({ olderThanMs: 60_000 })).toBe(0);
    expect((await stores.executions.get(execution.id))?.status).toBe('failed');
  });

  it("takes the step's onFailure instead when it has one", async () => {
    const { engine } = setup('big', true);
    const execution = await engine.start('grow', null);
    expect(execution.status).toBe('completed');
    expect(execution.output).toBe('fell back');
    const second = execution.history.find((r) => r.stepId === 'second');
    expect(second?.outcome).toBe('failure');
    expect(second?.error?.message).toContain('context.second');
  });
});

describe('Engine.completeJob with a result outgrowing the context', () => {
  async function parked(withFallback: boolean) {
    const ctx = setup('bigJob', withFallback);
    const started = await ctx.engine.start('grow', null);
    const [job] = await ctx.stores.jobs.claimBatch({ runnerId: 'r1', limit: 1 });
    if (job?.leaseId == null) throw new Error('no job to claim');
    return { ...ctx, started, lease: { jobId: job.id, leaseId: job.leaseId } };
  }

  it('completes the job with its result and fails the execution with the payload error', async () => {
    const { engine, stores, lease, started } = await parked(false);
    const settled = await engine.completeJob({ ...lease, result: BIG });
    expect(settled.job.status).toBe('completed');
    expect((await stores.jobs.get(lease.jobId))?.result).toBe(BIG);
    const execution = await stores.executions.get(started.id);
    expect(execution?.status).toBe('failed');
    expect(execution?.error?.details).toMatchObject({ field: 'context.second' });
  });

  it("takes the step's onFailure when it has one", async () => {
    const { engine, lease } = await parked(true);
    const settled = await engine.completeJob({ ...lease, result: BIG });
    expect(settled.job.status).toBe('completed');
    expect(settled.execution?.status).toBe('completed');
    expect(settled.execution?.output).toBe('fell back');
  });
});

describe('Engine.resume with an output outgrowing the context', () => {
  it('fails the step when the output would overflow the context', async () => {
    const { engine } = setup('wait', false);
    const started = await engine.start('grow', null);
    const result = await engine.resume(started.id, {
      stepId: 'second',
      outcome: { kind: 'success', output: BIG },
    });
    expect(result.resumed).toBe(true);
    expect(result.execution.status).toBe('failed');
    expect(result.execution.error?.details).toMatchObject({ field: 'context.second' });
  });

  it('rejects an output that is not JSON with ValidationError naming outcome.output', async () => {
    const { engine, stores } = setup('wait', false);
    const started = await engine.start('grow', null);
    const resumed = engine.resume(started.id, {
      stepId: 'second',
      outcome: { kind: 'success', output: { n: 1n } },
    });
    await expect(resumed).rejects.toThrow(ValidationError);
    await expect(resumed).rejects.toThrow('outcome.output.n');
    expect((await stores.executions.get(started.id))?.status).toBe('waiting');
  });
});
