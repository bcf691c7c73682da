import {
  assertLeaseRefs,
  type CompleteManyParams,
  type CompleteManyResult,
  type HeartbeatManyResult,
  isUuid,
  type Job,
  type LeaseRef,
  normalizeRunnerEvents,
  type RecordEventsResult,
  type RunnerJobEvent,
} from '@flowmonkey/core';
import { completionColumns, eventColumns } from './completion-values.js';
import { runStatement } from './queryable.js';
import { rowToJob } from './rows.js';
import { nowValue, ownTransaction } from './statement-values.js';
import type { StoreContext } from './store-context.js';

/**
 * Runs a runner's batch writes for `PgJobStore`: `heartbeatMany`, `completeMany` and
 * `recordEvents`, one statement for the whole batch each. Every item is fenced by its own
 * lease: one whose lease is not held comes back lost (an event: fenced) and does not fail
 * the others.
 */
export class JobBatchWriter {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** `PgJobStore.heartbeatMany`: on `ctx.heartbeatDb` when there is one. */
  async heartbeatMany(params: {
    leases: readonly LeaseRef[];
    now?: number;
  }): Promise<HeartbeatManyResult> {
    const leases = assertLeaseRefs(params.leases);
    const valid = leases.filter((l) => isUuid(l.jobId) && isUuid(l.leaseId));
    const db = this.#ctx.heartbeatDb ?? this.#ctx.db;
    const rows =
      valid.length === 0
        ? []
        : await runStatement(db, this.#ctx.statements.jobs.heartbeatMany, [
            valid.map((l) => l.jobId),
            valid.map((l) => l.leaseId),
            nowValue(params.now),
            ownTransaction(db),
          ]);
    // Keyed by job and lease: a stale lease of a job someone else holds is lost too.
    const key = (jobId: string, leaseId: string) => `${jobId}/${leaseId}`.toLowerCase();
    const held = new Map<string, boolean>();
    for (const row of rows) {
      held.set(key(String(row.id), String(row.lease_id)), row.cancel_requested === true);
    }
    return {
      lost: leases.filter((l) => !held.has(key(l.jobId, l.leaseId))).map((l) => l.jobId),
      cancelRequested: leases
        .filter((l) => held.get(key(l.jobId, l.leaseId)) === true)
        .map((l) => l.jobId),
    };
  }

  /** `PgJobStore.completeMany`: the completions and the runner events in one statement. */
  async completeMany(params: CompleteManyParams): Promise<CompleteManyResult> {
    const events = normalizeRunnerEvents(params.events ?? [], this.#ctx.maxPayloadBytes);
    const whole = params.returnJobs === true;
    const { jobIds, leaseIds, results } = completionColumns(
      params.items,
      this.#ctx.maxPayloadBytes,
    );
    const now = nowValue(params.now);
    const rows =
      !jobIds.some((id) => id !== null) && events.length === 0
        ? []
        : await runStatement(
            this.#ctx.db,
            this.#ctx.statements.jobs[whole ? 'completeManyReturningJobs' : 'completeMany'],
            [jobIds, leaseIds, results, now, ...eventColumns(events)],
          );
    // Keyed by job, checked against the lease: a stale lease of a job completed under
    // another lease in the same batch is lost. Ids come back from PostgreSQL lowercase.
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    const at = rows[0]?.at;
    const out: CompleteManyResult = {
      completed: [],
      lost: [],
      finishedAt: at === undefined ? (now?.getTime() ?? Date.now()) : Number(at),
    };
    const jobs: Job[] = [];
    const returned = new Set<string>();
    params.items.forEach((item, i) => {
      const id = jobIds[i];
      const row = id === null || id === undefined ? undefined : byId.get(id);
      const done = row !== undefined && String(row.old_lease_id) === leaseIds[i];
      (done ? out.completed : out.lost).push(item.jobId);
      if (done && whole && !returned.has(item.jobId)) {
        returned.add(item.jobId);
        jobs.push(rowToJob(row));
      }
    });
    return whole ? { ...out, jobs } : out;
  }

  /** `PgJobStore.recordEvents`: an event whose lease is not held is fenced out, not an error. */
  async recordEvents(params: { events: readonly RunnerJobEvent[] }): Promise<RecordEventsResult> {
    const events = normalizeRunnerEvents(params?.events, this.#ctx.maxPayloadBytes);
    if (events.length === 0) return { recorded: 0, fenced: 0 };
    const [row] = await runStatement(this.#ctx.db, this.#ctx.statements.jobs.recordEvents, [
      ...eventColumns(events),
      ownTransaction(this.#ctx.db),
    ]);
    const recorded = Number(row?.recorded ?? 0);
    return { recorded, fenced: events.length - recorded };
  }
}
