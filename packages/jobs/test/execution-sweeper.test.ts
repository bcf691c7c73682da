import {
  ConfigError,
  createMemoryStores,
  defineFlow,
  Engine,
  ManualClock,
  noopLogger,
  Result,
  type StepHandler,
} from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { ExecutionSweeper } from '../src/execution-sweeper.js';

const MINUTE = 60_000;

function setup() {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const nap: StepHandler = {
    type: 'nap',
    metadata: {},
    execute: async () => Result.wait({ until: clock.now() + 10 * MINUTE, reason: 'cool-off' }),
  };
  const done: StepHandler = {
    type: 'done',
    metadata: {},
    execute: async () => Result.success('woke up'),
  };
  const flow = defineFlow({
    id: 'sleepy',
    initialStepId: 'nap',
    steps: { nap: { type: 'nap', transitions: { onSuccess: 'done' } }, done: { type: 'done' } },
  });
  const engine = new Engine({ stores, clock, handlers: [nap, done], flows: [flow] });
  const sweeper = new ExecutionSweeper({ engine, recoverAfterMs: 5 * MINUTE, logger: noopLogger });
  return { clock, stores, engine, sweeper };
}

describe('ExecutionSweeper.runOnce', () => {
  it('resumes a timed wait once it is due, and not before', async () => {
    const { clock, engine, sweeper } = setup();
    const execution = await engine.start('sleepy', {});
    expect(execution.status).toBe('waiting');

    clock.advance(9 * MINUTE);
    expect(await sweeper.runOnce()).toEqual({ woken: 0, recovered: 0 });
    expect((await engine.get(execution.id))?.status).toBe('waiting');

    clock.advance(2 * MINUTE);
    expect(await sweeper.runOnce()).toEqual({ woken: 1, recovered: 0 });
    const after = await engine.get(execution.id);
    expect(after?.status).toBe('completed');
    expect(after?.output).toBe('woke up');
  });

  it('runs again an execution a crash left running, once recoverAfterMs has passed', async () => {
    const { clock, stores, engine, sweeper } = setup();
    const execution = await engine.start('sleepy', {});
    // A crash right after the wait was resumed: the execution is at `done`, running, and
    // nobody is advancing it.
    const stored = (await stores.executions.get(execution.id))!;
    await stores.executions.update({
      execution: {
        ...stored,
        status: 'running',
        currentStepId: 'done',
        waitingOn: null,
        wakeAt: null,
      },
      expectedVersion: stored.version,
    });

    clock.advance(4 * MINUTE);
    expect((await sweeper.runOnce()).recovered).toBe(0);
    clock.advance(2 * MINUTE);
    expect((await sweeper.runOnce()).recovered).toBe(1);
    expect((await engine.get(execution.id))?.status).toBe('completed');
  });
});

describe('ExecutionSweeper', () => {
  it('refuses bad options with a ConfigError naming the field', () => {
    const { engine } = setup();
    expect(() => new ExecutionSweeper({ engine, intervalMs: Number.NaN })).toThrow(ConfigError);
    expect(() => new ExecutionSweeper({ engine, recoverAfterMs: -1 })).toThrow(/recoverAfterMs/);
    expect(() => new ExecutionSweeper({ engine, batchSize: 2.5, logger: noopLogger })).toThrow(
      /batchSize/,
    );
  });

  it('stops twice, or before it started, without complaint', async () => {
    const { sweeper } = setup();
    await sweeper.stop();
    sweeper.start();
    await sweeper.stop();
    await sweeper.stop();
  });
});
