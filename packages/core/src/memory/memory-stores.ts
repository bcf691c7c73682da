import { type Clock, systemClock } from '../clock.js';
import { ValidationError } from '../errors.js';
import type { ParkedOnNewJob, ParkOnNewJobParams, StoreSet, Stores } from '../stores/stores.js';
import { MemoryExecutionStore } from './memory-execution-store.js';
import { MemoryJobStore } from './memory-job-store.js';
import { MemoryScheduleStore } from './memory-schedule-store.js';
import {
  createMemoryState,
  type MemoryStoreContext,
  restoreMemoryState,
  snapshotMemoryState,
} from './memory-state.js';

/** Options of {@link createMemoryStores}. Every field is optional. */
export interface MemoryStoresOptions {
  /** Source of time when a store method gets no `now`. @default systemClock */
  clock?: Clock;
  /** Largest JSON payload (job input and result, execution context...) in UTF-8 bytes. @default 1 MiB */
  maxPayloadBytes?: number;
}

/** The in-memory stores, with the clock they read time from. */
export interface MemoryStores extends Stores {
  executions: MemoryExecutionStore;
  jobs: MemoryJobStore;
  schedules: MemoryScheduleStore;
  /** The clock the stores use when no `now` is passed. */
  clock: Clock;
  parkOnNewJob(params: ParkOnNewJobParams): Promise<ParkedOnNewJob | undefined>;
}

/**
 * Creates a fresh, empty set of in-memory stores sharing one state, for unit tests and
 * quick scripts. Nothing is persisted.
 *
 * `transaction(fn)` snapshots the whole state, runs `fn`, and restores the snapshot if
 * `fn` throws, so the writes `fn` made through any store are undone together. Transactions
 * run one at a time (an async mutex queues them in call order). Isolation is limited:
 * calls made outside any transaction while one runs are not isolated from it: they see its
 * uncommitted writes, and if it rolls back, their own writes made meanwhile are undone too.
 * A transaction must not call `transaction` again (it would wait for itself forever). The
 * snapshot copies all state, so each transaction costs time proportional to the data held.
 * `parkOnNewJob` is such a transaction.
 */
export function createMemoryStores(options: MemoryStoresOptions = {}): MemoryStores {
  const ctx: MemoryStoreContext = {
    state: createMemoryState(),
    clock: options.clock ?? systemClock,
    maxPayloadBytes: options.maxPayloadBytes,
  };
  const jobs = new MemoryJobStore(ctx);
  const executions = new MemoryExecutionStore(ctx);
  const schedules = new MemoryScheduleStore(ctx, jobs);
  const tx: StoreSet = { executions, jobs };
  let queue: Promise<unknown> = Promise.resolve();

  async function transaction<T>(fn: (tx: StoreSet) => Promise<T>): Promise<T> {
    const previous = queue;
    let done: () => void = () => {};
    queue = new Promise<void>((resolve) => {
      done = resolve;
    });
    await previous;
    const snapshot = snapshotMemoryState(ctx.state);
    try {
      return await fn(tx);
    } catch (error) {
      restoreMemoryState(ctx.state, snapshot);
      throw error;
    } finally {
      done();
    }
  }

  /** `Stores.parkOnNewJob` as one transaction; a taken idempotency key writes nothing. */
  async function parkOnNewJob(params: ParkOnNewJobParams): Promise<ParkedOnNewJob | undefined> {
    if (params?.job?.executionId !== params?.execution?.id) {
      throw new ValidationError('job.executionId', 'must be the id of the execution parked on it');
    }
    return transaction(async (tx) => {
      const key = params.job.idempotencyKey;
      if (typeof key === 'string' && ctx.state.jobKeys.has(key)) return undefined;
      const job = await tx.jobs.create(params.job);
      const execution = await tx.executions.update({
        execution: params.execution,
        expectedVersion: params.expectedVersion,
      });
      return { job, execution };
    });
  }

  return { executions, jobs, schedules, clock: ctx.clock, transaction, parkOnNewJob };
}
