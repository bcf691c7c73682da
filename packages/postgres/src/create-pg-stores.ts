import {
  type CompleteAndResumeManyParams,
  type CompletedAndResumed,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type Logger,
  type ParkedOnNewJob,
  type ParkOnNewJobParams,
  type StoreSet,
  type Stores,
} from '@flowmonkey/core';
import type pg from 'pg';
import { ParkWriter } from './park-writer.js';
import { PgExecutionStore } from './pg-execution-store.js';
import { PgJobStore } from './pg-job-store.js';
import { PgNotifier } from './pg-notifier.js';
import { PgScheduleStore } from './pg-schedule-store.js';
import { inPoolTransaction } from './pool-transaction.js';
import { ResumeWriter } from './resume-writer.js';
import { assertSchemaName, DEFAULT_SCHEMA, quoteIdent } from './schema-name.js';
import { executionStatements } from './sql/executions.js';
import { jobStatements } from './sql/jobs.js';
import { parkStatements } from './sql/parks.js';
import { resumeStatements } from './sql/resumes.js';
import { scheduleStatements } from './sql/schedules.js';
import type { StatementSet, StoreContext, WakeSink } from './store-context.js';

/** Options of {@link createPgStores}. */
export interface PgStoresOptions {
  /** The pool every store queries through; FlowMonkey never closes it. */
  pool: pg.Pool;
  /** Schema holding the tables (see `migrate`). @default 'flowmonkey' */
  schema?: string;
  /** Largest JSON payload (input, result, context...) accepted, in UTF-8 bytes. @default 1 MiB */
  maxPayloadBytes?: number;
  /**
   * `false` sends no NOTIFY (poll-only mode, for pgbouncer in transaction mode); runners
   * then find work by polling. @default true
   */
  notify?: boolean;
  /** Receives warnings (e.g. a failed NOTIFY). @default no logging */
  logger?: Logger;
  /**
   * A separate pool (one or two connections are enough) used only for lease heartbeats
   * (`jobs.heartbeat`, `jobs.heartbeatMany`). Give one to a runner's stores when its
   * handlers may use `pool` themselves: if they hold every connection, heartbeats would
   * otherwise queue behind them, the leases run out, and the reaper hands healthy jobs to
   * another runner. FlowMonkey never closes it. @default `pool`
   */
  heartbeatPool?: pg.Pool;
}

/** Core's {@link Stores} on PostgreSQL, plus what the Postgres wiring needs. */
export interface PgStores extends Stores {
  executions: PgExecutionStore;
  jobs: PgJobStore;
  schedules: PgScheduleStore;
  /** The validated schema name. */
  readonly schema: string;
  /** The pool given in the options. */
  readonly pool: pg.Pool;
  /** Sends the coalesced wake-ups; `flush()` waits for those in flight. */
  readonly notifier: PgNotifier;
  parkOnNewJob(params: ParkOnNewJobParams): Promise<ParkedOnNewJob | undefined>;
  completeAndResumeMany(
    params: CompleteAndResumeManyParams,
  ): Promise<CompletedAndResumed | undefined>;
}

/**
 * Builds the Postgres stores over `pool` for `schema` (validated, `ConfigError` otherwise;
 * the tables must exist, see `migrate`). `transaction(fn)` runs `fn` on one connection
 * between BEGIN and COMMIT with stores bound to it, rolling back when `fn` throws; the
 * wake-ups it caused are sent after COMMIT, once. `parkOnNewJob` writes a job and the
 * execution parked on it in one statement (group-committed with the parks made at once);
 * `completeAndResumeMany` completes jobs and resumes their executions in one statement
 * (a batch larger than `STATEMENT_DOCUMENT_CHARS`: several, in one transaction).
 */
export function createPgStores(options: PgStoresOptions): PgStores {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const q = quoteIdent(schema);
  const statements: StatementSet = {
    jobs: jobStatements(q, schema),
    executions: executionStatements(q, schema),
    schedules: scheduleStatements(q, schema),
    parks: parkStatements(q, schema),
    resumes: resumeStatements(q, schema),
  };
  const notifier = new PgNotifier(options.pool, {
    schema,
    enabled: options.notify ?? true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const ctx: StoreContext = { db: options.pool, statements, maxPayloadBytes, wake: notifier };
  if (options.heartbeatPool !== undefined) ctx.heartbeatDb = options.heartbeatPool;
  const parks = new ParkWriter(ctx);
  const resumes = new ResumeWriter(ctx);
  return {
    schema,
    pool: options.pool,
    notifier,
    executions: new PgExecutionStore(ctx),
    jobs: new PgJobStore(ctx),
    schedules: new PgScheduleStore(ctx),
    transaction: (fn) => runTransaction(options.pool, ctx, notifier, fn),
    parkOnNewJob: (params) => parks.park(params),
    completeAndResumeMany: (params) => resumes.write(params),
  };
}

/** Wake-ups held back until the transaction commits. */
class DeferredWake implements WakeSink {
  jobs = false;
  readonly cancels: string[] = [];
  jobsDue(): void {
    this.jobs = true;
  }
  cancelRequested(jobId: string): void {
    this.cancels.push(jobId);
  }
  sendTo(sink: WakeSink): void {
    if (this.jobs) sink.jobsDue();
    for (const id of this.cancels) sink.cancelRequested(id);
  }
}

async function runTransaction<T>(
  pool: pg.Pool,
  ctx: StoreContext,
  notifier: PgNotifier,
  fn: (tx: StoreSet) => Promise<T>,
): Promise<T> {
  const wake = new DeferredWake();
  const { heartbeatDb: _heartbeatDb, ...shared } = ctx;
  const result = await inPoolTransaction(pool, (client) => {
    const txCtx: StoreContext = { ...shared, db: client, wake };
    return fn({ executions: new PgExecutionStore(txCtx), jobs: new PgJobStore(txCtx) });
  });
  wake.sendTo(notifier);
  return result;
}
