import { assertExecution } from '../assert-execution.js';
import { type Clock, systemClock } from '../clock.js';
import { assertExecutionUpdates } from '../execution-store-checks.js';
import { assertParksOnJob } from '../job-store-checks.js';
import type {
  CompleteAndResumeManyParams,
  CompletedAndResumed,
  ParkedOnNewJob,
  ParkOnNewJobParams,
  StoreSet,
  Stores,
} from '../stores/stores.js';
import { normalizeNewJob } from '../validation.js';
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
  completeAndResumeMany(
    params: CompleteAndResumeManyParams,
  ): Promise<CompletedAndResumed | undefined>;
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
 * `parkOnNewJob` and `completeAndResumeMany` are such transactions.
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
  const tx = { executions, jobs };
  const transaction = createTransaction(ctx, tx);

  return {
    executions,
    jobs,
    schedules,
    clock: ctx.clock,
    transaction,
    parkOnNewJob: (params) => parkOnNewJob(ctx, transaction, params),
    completeAndResumeMany: (params) => completeAndResumeMany(ctx, tx, transaction, params),
  };
}

/** The type of `Stores.transaction`, in which the helpers below run their writes. */
type Transaction = Stores['transaction'];

/**
 * Returns the `transaction` of one set of memory stores: each call waits for the previous
 * one to settle, snapshots `ctx.state`, runs `fn` with `tx`, and restores the snapshot if
 * `fn` throws.
 */
function createTransaction(ctx: MemoryStoreContext, tx: StoreSet): Transaction {
  let queue: Promise<unknown> = Promise.resolve();

  return async function transaction<T>(fn: (tx: StoreSet) => Promise<T>): Promise<T> {
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
  };
}

/**
 * `Stores.parkOnNewJob` as one transaction, checked in the Postgres store's order: the
 * execution, then the job and how they belong together, then the version, then the key
 * (taken: the transaction is rolled back and nothing is written).
 */
async function parkOnNewJob(
  ctx: MemoryStoreContext,
  transaction: Transaction,
  params: ParkOnNewJobParams,
): Promise<ParkedOnNewJob | undefined> {
  const options = { now: ctx.clock.now(), maxPayloadBytes: ctx.maxPayloadBytes };
  assertExecution(params?.execution, { maxBytes: options.maxPayloadBytes });
  const key = normalizeNewJob(params.job, options).idempotencyKey;
  assertParksOnJob(params);
  const keyTaken = new Error('idempotency key taken');
  try {
    return await transaction(async (tx) => {
      const execution = await tx.executions.update({
        execution: params.execution,
        expectedVersion: params.expectedVersion,
      });
      if (key !== null && ctx.state.jobKeys.has(key)) throw keyTaken;
      return { job: await tx.jobs.create(params.job), execution };
    });
  } catch (error) {
    if (error === keyTaken) return undefined;
    throw error;
  }
}

/**
 * `Stores.completeAndResumeMany` as one transaction, checked in the Postgres store's
 * order (the events, the items, then the executions, named `executions[i]...`): a lost
 * lease or an execution not written rolls it back, and nothing is written.
 */
async function completeAndResumeMany(
  ctx: MemoryStoreContext,
  { jobs, executions }: Pick<MemoryStores, 'executions' | 'jobs'>,
  transaction: Transaction,
  params: CompleteAndResumeManyParams,
): Promise<CompletedAndResumed | undefined> {
  const notAllWritten = new Error('not all written');
  try {
    return await transaction(async () => {
      const done = await jobs.completeMany({ items: params?.items, events: params?.events });
      const options = { maxBytes: ctx.maxPayloadBytes };
      assertExecutionUpdates(params.executions, options, 'executions');
      const written = await executions.updateMany({ items: params.executions });
      if (done.lost.length > 0 || written.conflicts.length > 0) throw notAllWritten;
      return { finishedAt: done.finishedAt, executions: written.updated };
    });
  } catch (error) {
    if (error === notAllWritten) return undefined;
    throw error;
  }
}
