import {
  assertInteger,
  assertText,
  assertTimestamp,
  type DueSchedules,
  type Job,
  type Leadership,
  type NewJob,
  type NewSchedule,
  NotFoundError,
  normalizeNewJob,
  normalizeNewSchedule,
  type Schedule,
  type ScheduleFire,
  type ScheduleStore,
  ValidationError,
} from '@flowmonkey/core';
import { newJobJson } from './new-jobs-json.js';
import { runStatement } from './queryable.js';
import { rowToJob, rowToSchedule } from './rows.js';
import { SCHEDULER_LEASE } from './sql/schedules.js';
import { nowValue } from './statement-values.js';
import type { StoreContext } from './store-context.js';

const TEXT = { maxLength: 255 } as const;

/**
 * Core's {@link ScheduleStore} on PostgreSQL. A tick is recorded under the primary key
 * `(schedule_name, fire_at)` of `schedule_fires` together with its job, in one statement,
 * so any number of schedulers may record the same tick and exactly one job results. The
 * leadership lease is a row of `leader_leases` compared against database time.
 */
export class PgScheduleStore implements ScheduleStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  #sql() {
    return this.#ctx.statements.schedules;
  }

  async upsert(schedule: NewSchedule): Promise<Schedule> {
    const s = normalizeNewSchedule(schedule, { maxPayloadBytes: this.#ctx.maxPayloadBytes });
    const [row] = await runStatement(this.#ctx.db, this.#sql().upsert, [
      s.name,
      s.cron,
      s.timezone,
      s.handler,
      s.queue,
      s.inputJson,
      s.priority,
      s.maxAttempts,
      s.enabled,
      s.overlap,
      s.nextFireAt === null ? null : new Date(s.nextFireAt),
    ]);
    if (row === undefined) throw new Error('upsert returned no row');
    return rowToSchedule(row);
  }

  async get(name: string): Promise<Schedule | undefined> {
    if (typeof name !== 'string' || name.length === 0) return undefined;
    const [row] = await runStatement(this.#ctx.db, this.#sql().get, [name]);
    return row === undefined ? undefined : rowToSchedule(row);
  }

  async list(): Promise<Schedule[]> {
    return (await runStatement(this.#ctx.db, this.#sql().list, [])).map(rowToSchedule);
  }

  async remove(name: string): Promise<boolean> {
    if (typeof name !== 'string' || name.length === 0) return false;
    return (await runStatement(this.#ctx.db, this.#sql().remove, [name])).length > 0;
  }

  async setEnabled(params: { name: string; enabled: boolean }): Promise<Schedule> {
    if (typeof params.enabled !== 'boolean') {
      throw new ValidationError('enabled', 'must be a boolean');
    }
    const name = assertText(params.name, 'name', TEXT);
    const [row] = await runStatement(this.#ctx.db, this.#sql().setEnabled, [name, params.enabled]);
    if (row === undefined) throw new NotFoundError('schedule', name);
    return rowToSchedule(row);
  }

  async recordFire(params: {
    name: string;
    fireAt: number;
    nextFireAt: number | null;
    job: NewJob;
  }): Promise<{ job: Job; created: boolean }> {
    const name = assertText(params.name, 'name', TEXT);
    const fireAt = new Date(assertTimestamp(params.fireAt, 'fireAt'));
    const nextFireAt =
      params.nextFireAt === null
        ? null
        : new Date(assertTimestamp(params.nextFireAt, 'nextFireAt'));
    const job = normalizeNewJob(params.job, {
      now: Date.now(),
      maxPayloadBytes: this.#ctx.maxPayloadBytes,
    });
    const jobJson = newJobJson(job, 0, params.job.runAt === undefined);
    const [row] = await runStatement(this.#ctx.db, this.#sql().recordFire, [
      name,
      fireAt,
      nextFireAt,
      jobJson,
    ]);
    if (row !== undefined) {
      if (row.due === true) this.#ctx.wake.jobsDue();
      return { job: rowToJob(row), created: true };
    }
    const [fired] = await runStatement(this.#ctx.db, this.#sql().getFire, [name, fireAt]);
    if (fired === undefined) throw new NotFoundError('schedule', name);
    return { job: rowToJob(fired), created: false };
  }

  async acquireLeadership(params: {
    holderId: string;
    ttlMs: number;
    now?: number;
  }): Promise<Leadership> {
    const holderId = assertText(params.holderId, 'holderId', TEXT);
    const ttlMs = assertInteger(params.ttlMs, 'ttlMs', { min: 1, max: 2_147_483_647 });
    const now = nowValue(params.now);
    const [row] = await runStatement(this.#ctx.db, this.#sql().acquireLeadership, [
      SCHEDULER_LEASE,
      holderId,
      ttlMs,
      now,
    ]);
    const current =
      row ?? (await runStatement(this.#ctx.db, this.#sql().getLeadership, [SCHEDULER_LEASE]))[0];
    if (current === undefined) throw new NotFoundError('leader lease', SCHEDULER_LEASE);
    return {
      isLeader: row !== undefined,
      holderId: String(current.holder_id),
      term: Number(current.term),
      expiresAt: Number(current.expires_at_ms),
    };
  }

  async releaseLeadership(params: { holderId: string }): Promise<void> {
    const holderId = assertText(params.holderId, 'holderId', TEXT);
    await runStatement(this.#ctx.db, this.#sql().releaseLeadership, [SCHEDULER_LEASE, holderId]);
  }

  async listDue(params: { limit: number; now?: number }): Promise<DueSchedules> {
    const limit = assertInteger(params.limit, 'limit', { min: 0, max: 100_000 });
    const rows = await runStatement(this.#ctx.db, this.#sql().listDue, [
      limit,
      nowValue(params.now),
    ]);
    const now = Number(rows[0]?.now_ms);
    if (!Number.isFinite(now)) throw new Error('listDue returned no database time');
    return { now, schedules: rows.filter((r) => r.name !== null).map(rowToSchedule) };
  }

  async getLastFire(params: { name: string }): Promise<ScheduleFire | undefined> {
    const name = assertText(params.name, 'name', TEXT);
    const [row] = await runStatement(this.#ctx.db, this.#sql().getLastFire, [name]);
    if (row === undefined) return undefined;
    return {
      fireAt: Number(row.fire_at_ms),
      jobId: String(row.fire_job_id),
      job: row.id === null ? undefined : rowToJob(row),
    };
  }

  async advance(params: {
    name: string;
    expectedNextFireAt: number | null;
    nextFireAt: number | null;
  }): Promise<boolean> {
    const name = assertText(params.name, 'name', TEXT);
    const toDate = (value: number | null, field: string) =>
      value === null ? null : new Date(assertTimestamp(value, field));
    const rows = await runStatement(this.#ctx.db, this.#sql().advance, [
      name,
      toDate(params.expectedNextFireAt, 'expectedNextFireAt'),
      toDate(params.nextFireAt, 'nextFireAt'),
    ]);
    return rows.length > 0;
  }
}
