import { ConfigError, createMemoryStores, noopLogger } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { JobReaper } from '../src/job-reaper.js';
import type { JobReaperOptions } from '../src/reaper-options.js';
import type { BasicJobRunnerOptions } from '../src/runner-options.js';

const jobStore = createMemoryStores().jobs;

/** The field of the ConfigError `fn` throws; fails the test on any other outcome. */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).field;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

const runnerWith = (extra: Record<string, unknown>) => () =>
  new BasicJobRunner({ jobStore, logger: noopLogger, ...extra } as BasicJobRunnerOptions);

describe('BasicJobRunner constructor', () => {
  it('throws ConfigError, not TypeError, without options', () => {
    expect(fieldOf(() => new (BasicJobRunner as new () => unknown)())).toBe('options');
    expect(fieldOf(() => new BasicJobRunner(null as unknown as BasicJobRunnerOptions))).toBe(
      'options',
    );
  });

  it('rejects a runnerId the store could never take (NUL, over 255 characters)', () => {
    expect(fieldOf(runnerWith({ runnerId: 'runner\u0000a' }))).toBe('runnerId');
    expect(fieldOf(runnerWith({ runnerId: 'r'.repeat(256) }))).toBe('runnerId');
    expect(new BasicJobRunner({ jobStore, runnerId: 'r'.repeat(255) }).runnerId).toHaveLength(255);
  });

  it('rejects collaborators that lack what the runner calls, naming the field', () => {
    expect(fieldOf(runnerWith({ jobStore: {} }))).toBe('jobStore');
    expect(fieldOf(runnerWith({ engine: {} }))).toBe('engine');
    expect(fieldOf(runnerWith({ logger: 'x' }))).toBe('logger');
    expect(fieldOf(runnerWith({ logger: { info() {} } }))).toBe('logger');
    expect(fieldOf(runnerWith({ events: 5 }))).toBe('events');
    expect(fieldOf(runnerWith({ random: 'x' }))).toBe('random');
    expect(fieldOf(runnerWith({ clock: {} }))).toBe('clock');
    expect(fieldOf(runnerWith({ wakeups: 'pg' }))).toBe('wakeups');
  });

  it('names the missing method in the message', () => {
    expect(runnerWith({ jobStore: { claimBatch() {} } })).toThrow(/heartbeat\(\)/);
  });
});

describe('JobReaper constructor', () => {
  const reaperWith = (extra: Record<string, unknown>) => () =>
    new JobReaper({ jobStore, logger: noopLogger, ...extra } as JobReaperOptions);

  it('throws ConfigError, not TypeError, for null or missing options', () => {
    expect(fieldOf(() => new JobReaper(null as unknown as JobReaperOptions))).toBe('options');
    expect(fieldOf(() => new JobReaper(undefined as unknown as JobReaperOptions))).toBe('options');
  });

  it('rejects collaborators that lack what the reaper calls, naming the field', () => {
    expect(fieldOf(reaperWith({ jobStore: {} }))).toBe('jobStore');
    expect(fieldOf(reaperWith({ engine: {} }))).toBe('engine');
    expect(fieldOf(reaperWith({ logger: 'x' }))).toBe('logger');
    expect(fieldOf(reaperWith({ events: 5 }))).toBe('events');
  });
});
