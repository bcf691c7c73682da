import type { Queryable } from './queryable.js';
import type { ExecutionStatementName } from './sql/executions.js';
import type { JobStatementName } from './sql/jobs.js';
import type { ParkStatementName } from './sql/parks.js';
import type { ResumeStatementName } from './sql/resumes.js';
import type { ScheduleStatementName } from './sql/schedules.js';
import type { NamedStatement } from './sql/sql-helpers.js';

/** Where a store reports wake-ups; inside a transaction they are held until commit. */
export interface WakeSink {
  /** Due jobs were written. */
  jobsDue(): void;
  /** Cancellation of running job `jobId` was requested. */
  cancelRequested(jobId: string): void;
}

/** The SQL of all stores for one schema, built once at start-up. */
export interface StatementSet {
  jobs: Record<JobStatementName, NamedStatement>;
  executions: Record<ExecutionStatementName, NamedStatement>;
  schedules: Record<ScheduleStatementName, NamedStatement>;
  parks: Record<ParkStatementName, NamedStatement>;
  resumes: Record<ResumeStatementName, NamedStatement>;
}

/** What every Postgres store is constructed with. */
export interface StoreContext {
  /** The pool, or the transaction's client. */
  db: Queryable;
  /**
   * Where lease heartbeats go (`heartbeat`, `heartbeatMany`) when it is not `db`: a small
   * pool of their own, so heartbeats get through while handlers hold every connection of
   * `db`. Unset inside a transaction (everything runs on its client).
   */
  heartbeatDb?: Queryable;
  statements: StatementSet;
  /** Largest JSON payload accepted, in UTF-8 bytes. */
  maxPayloadBytes: number;
  wake: WakeSink;
}
