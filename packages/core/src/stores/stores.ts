import type { ExecutionStore } from './execution-store.js';
import type { JobStore } from './job-store.js';
import type { ScheduleStore } from './schedule-store.js';

/** The stores the engine writes to inside one unit of work. */
export interface StoreSet {
  executions: ExecutionStore;
  jobs: JobStore;
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
}
