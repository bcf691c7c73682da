import type { Execution } from '../execution.js';
import type { Job, LeaseRef, NewJob } from '../job.js';
import type { ExecutionStore, ExecutionUpdate } from './execution-store.js';
import type { JobStore, RunnerJobEvent } from './job-store.js';
import type { ScheduleStore } from './schedule-store.js';

/** The stores the engine writes to inside one unit of work. */
export interface StoreSet {
  executions: ExecutionStore;
  jobs: JobStore;
}

/** Parameters of {@link Stores.parkOnNewJob}. */
export interface ParkOnNewJobParams {
  /**
   * The stateful step's job, with its `id` chosen by the caller (`execution` waits on it)
   * and `executionId` set to `execution.id`.
   */
  job: NewJob & { id: string };
  /** The execution parked on `job`, written whole as `executions.update` writes it. */
  execution: Execution;
  /** The version the stored execution must still have. */
  expectedVersion: number;
}

/** Result of {@link Stores.parkOnNewJob}: the job created and the execution as stored. */
export interface ParkedOnNewJob {
  job: Job;
  execution: Execution;
}

/** Parameters of {@link Stores.completeAndResumeMany}. */
export interface CompleteAndResumeManyParams {
  /** The jobs to complete, each fenced by its lease, as `jobs.completeMany` takes them. */
  items: readonly (LeaseRef & { result: unknown })[];
  /** Runner events appended to the history first, as `jobs.completeMany` takes them. */
  events?: readonly RunnerJobEvent[];
  /** The executions those jobs resume, each over its expected version. */
  executions: readonly ExecutionUpdate[];
}

/** Result of {@link Stores.completeAndResumeMany} when it wrote everything. */
export interface CompletedAndResumed {
  /** The completion time written to every job (`finishedAt`), epoch ms. */
  finishedAt: number;
  /** The executions as stored, in the order given. */
  executions: Execution[];
}

/**
 * A full set of stores plus a unit of work. `transaction(fn)` runs `fn` with stores whose
 * writes commit together when `fn` resolves, or not at all when it throws. The engine
 * uses it to create a stateful step's job and park its execution together, and to
 * complete a job and resume its execution together.
 */
export interface Stores extends StoreSet {
  schedules: ScheduleStore;
  transaction<T>(fn: (tx: StoreSet) => Promise<T>): Promise<T>;
  /**
   * Creates `job` and writes `execution` over `expectedVersion`, both or neither: what
   * `transaction` with `jobs.create` and `executions.update` does, in one round trip for
   * the Postgres store (one statement instead of four). Throws what those two would:
   * `ValidationError` naming the field of a bad job or execution (`job.executionId` when
   * it is not `execution.id`), `ConcurrencyError` when
   * the stored version is no longer `expectedVersion`, `NotFoundError` when the execution
   * does not exist; nothing is written then. When `job.idempotencyKey` is already taken it
   * writes nothing and returns `undefined`: the caller parks through `transaction`, where
   * `jobs.create` returns the job holding the key. Optional: the engine uses `transaction`
   * when a store set lacks it.
   */
  parkOnNewJob?(params: ParkOnNewJobParams): Promise<ParkedOnNewJob | undefined>;
  /**
   * Completes every job of `items` (runner `events` first) and writes every execution of
   * `executions`, all or nothing: what `transaction` with `jobs.completeMany` and
   * `executions.updateMany` does when no lease is lost and no version has moved on, in
   * one round trip for the Postgres store (one statement instead of four). When any job's
   * lease is no longer held, any execution's version moved on or it is missing, or the
   * batch does not fit one statement, it writes nothing and returns `undefined`: the
   * caller settles the batch in a transaction, where each is decided on its own. A bad
   * item or execution is a `ValidationError` naming the field, before anything is
   * written. Optional: the engine uses `transaction` when a store set lacks it.
   */
  completeAndResumeMany?(
    params: CompleteAndResumeManyParams,
  ): Promise<CompletedAndResumed | undefined>;
}
