import type { JobStore } from '@flowmonkey/core';
import { ValidationError } from '@flowmonkey/core';
import type { JobEngine } from './job-engine.js';
import type { BasicJobRunnerOptions } from './runner-options.js';

/** What `new BasicJobRunner(jobStore, engine, runnerId, options)` takes after the store. */
export type PositionalRunnerOptions = Omit<
  BasicJobRunnerOptions,
  'jobStore' | 'engine' | 'runnerId'
>;

/**
 * The options bag of either constructor form of `BasicJobRunner`: the options object as
 * given (anything that is not an object is passed on, for `resolveRunnerOptions` to reject
 * with a `ConfigError`), or the positional form `(jobStore, engine, runnerId, rest)`, whose
 * second argument must be the engine (an execution store alone cannot resume executions)
 * or `undefined` (`ValidationError` naming `engine` otherwise).
 */
export function runnerArguments(
  first: BasicJobRunnerOptions | JobStore,
  engine: JobEngine | undefined,
  runnerId: string | undefined,
  rest: PositionalRunnerOptions,
): BasicJobRunnerOptions {
  if (first === null || typeof first !== 'object' || 'jobStore' in first) {
    return first as BasicJobRunnerOptions;
  }
  if (engine !== undefined && typeof (engine as Partial<JobEngine>).completeJob !== 'function') {
    throw new ValidationError(
      'engine',
      'the second argument must be the Engine (an execution store alone cannot resume executions) or undefined',
    );
  }
  const options: BasicJobRunnerOptions = { ...rest, jobStore: first };
  if (engine !== undefined) options.engine = engine;
  if (runnerId !== undefined) options.runnerId = runnerId;
  return options;
}
