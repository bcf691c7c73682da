import {
  type Clock,
  ConfigError,
  DuplicateError,
  type JobStore,
  type Logger,
  systemClock,
} from '@flowmonkey/core';
import type { BasicJobRunner } from './basic-job-runner.js';
import { defaultLogger } from './default-logger.js';
import type { JobHandlerFunction, JobHandlerOptions } from './job-handler.js';
import type { JobBinding } from './typed-job.js';

/** What a registry needs of a typed job (every `defineJob` result has it). */
export interface RegistrableJob {
  readonly name: string;
  bindTo(binding: JobBinding): void;
  toRunnerHandler(): { fn: JobHandlerFunction; options: JobHandlerOptions };
}

/** Options of {@link createJobRegistry}. All optional. */
export interface JobRegistryOptions {
  /**
   * Where registered jobs enqueue (`later`), record in-process runs (`now` with `persist`)
   * and are read (`JobHandle`). Without it only `now` and `batch` without `persist` work.
   */
  jobStore?: JobStore;
  /** A runner that runs the registered jobs (same as calling `attach(runner)`). */
  runner?: BasicJobRunner;
  /** Logger of in-process runs. @default pino at `info`, silent under a test runner */
  logger?: Logger;
  /** Clock `later({ delayMs })` computes `runAt` with. @default the system clock */
  clock?: Clock;
  /** `runnerId` written on rows of in-process runs. @default `in-process-<pid>` */
  runnerId?: string;
}

/**
 * Holds typed jobs by name, binds them to a store so `Job.later()` / `Job.now({ persist })`
 * have somewhere to write, and registers their handlers on the runners attached to it, so
 * those runners claim and run them. Registering and attaching may come in any order: a job
 * registered after `attach(runner)` is registered on that runner too.
 */
export class JobRegistry {
  /** The store jobs are bound to; `undefined` when none was given. */
  readonly jobStore: JobStore | undefined;
  readonly #jobs = new Map<string, RegistrableJob>();
  readonly #runners: BasicJobRunner[] = [];
  readonly #binding: JobBinding;

  /** Prefer {@link createJobRegistry}. Throws `ConfigError` for a bad option. */
  constructor(options: JobRegistryOptions = {}) {
    if (options.jobStore !== undefined && typeof options.jobStore?.create !== 'function') {
      throw new ConfigError('jobStore', 'must be a JobStore');
    }
    this.jobStore = options.jobStore;
    this.#binding = {
      jobStore: options.jobStore,
      logger: options.logger ?? defaultLogger(),
      clock: options.clock ?? systemClock,
      runnerId: options.runnerId ?? `in-process-${process.pid}`,
    };
    if (options.runner !== undefined) this.attach(options.runner);
  }

  /**
   * Adds `job`, binds it to this registry's store and registers its handler on every
   * attached runner. Throws `DuplicateError` when another job already has its name here.
   */
  register(job: RegistrableJob): this {
    const existing = this.#jobs.get(job.name);
    if (existing !== undefined && existing !== job) throw new DuplicateError('job', job.name);
    if (existing === job) return this;
    this.#jobs.set(job.name, job);
    job.bindTo(this.#binding);
    for (const runner of this.#runners) registerOn(runner, job);
    return this;
  }

  /**
   * Registers every job's handler on `runner` (and every job registered later). A runner
   * that already has a handler of one of these names throws `DuplicateError`.
   */
  attach(runner: BasicJobRunner): this {
    if (this.#runners.includes(runner)) return this;
    this.#runners.push(runner);
    for (const job of this.#jobs.values()) registerOn(runner, job);
    return this;
  }

  /** True when a job of this name is registered. */
  has(name: string): boolean {
    return this.#jobs.has(name);
  }

  /** The job registered under `name`, or `undefined`. */
  get(name: string): RegistrableJob | undefined {
    return this.#jobs.get(name);
  }

  /** Names of the registered jobs, in registration order. */
  names(): string[] {
    return [...this.#jobs.keys()];
  }
}

/**
 * Creates a {@link JobRegistry}: `createJobRegistry({ jobStore, runner }).register(SendEmail)`.
 * With no options it only names jobs (the seed API's `createJobRegistry()`).
 */
export function createJobRegistry(options: JobRegistryOptions = {}): JobRegistry {
  return new JobRegistry(options);
}

function registerOn(runner: BasicJobRunner, job: RegistrableJob): void {
  const { fn, options } = job.toRunnerHandler();
  runner.registerHandler(job.name, fn, options);
}
