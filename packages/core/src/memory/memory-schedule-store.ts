import { NotFoundError, ValidationError } from '../errors.js';
import type { Job, NewJob } from '../job.js';
import type { Leadership, NewSchedule, Schedule } from '../schedule.js';
import type { DueSchedules, ScheduleFire, ScheduleStore } from '../stores/schedule-store.js';
import {
  assertInteger,
  assertText,
  assertTimestamp,
  MAX_TEXT_LENGTH,
  normalizeNewSchedule,
} from '../validation.js';
import type { MemoryJobStore } from './memory-job-store.js';
import { copy, type MemoryStoreContext } from './memory-state.js';

const TEXT = { maxLength: MAX_TEXT_LENGTH } as const;

/**
 * In-memory {@link ScheduleStore} for unit tests and quick scripts. A fire creates its job
 * through the given {@link MemoryJobStore}, so the job is visible to claimers at once, and
 * `(name, fireAt)` is unique however many schedulers record the same tick. Values are
 * deep-copied in and out.
 */
export class MemoryScheduleStore implements ScheduleStore {
  readonly #ctx: MemoryStoreContext;
  readonly #jobs: MemoryJobStore;

  /**
   * @param ctx state, clock and limits shared with the other memory stores.
   * @param jobs the job store fires create their jobs in (sharing `ctx.state`).
   */
  constructor(ctx: MemoryStoreContext, jobs: MemoryJobStore) {
    this.#ctx = ctx;
    this.#jobs = jobs;
  }

  async upsert(schedule: NewSchedule): Promise<Schedule> {
    const next = normalizeNewSchedule(schedule, { maxPayloadBytes: this.#ctx.maxPayloadBytes });
    const now = this.#ctx.clock.now();
    const existing = this.#ctx.state.schedules.get(next.name);
    const stored: Schedule = {
      name: next.name,
      cron: next.cron,
      timezone: next.timezone,
      handler: next.handler,
      queue: next.queue,
      input: JSON.parse(next.inputJson),
      priority: next.priority,
      maxAttempts: next.maxAttempts,
      enabled: next.enabled,
      overlap: next.overlap,
      lastFireAt: existing?.lastFireAt ?? null,
      nextFireAt: next.nextFireAt,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#ctx.state.schedules.set(stored.name, stored);
    return copy(stored);
  }

  async get(name: string): Promise<Schedule | undefined> {
    const schedule = this.#ctx.state.schedules.get(name);
    return schedule === undefined ? undefined : copy(schedule);
  }

  async list(): Promise<Schedule[]> {
    const all = [...this.#ctx.state.schedules.values()];
    all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return all.map(copy);
  }

  async remove(name: string): Promise<boolean> {
    return this.#ctx.state.schedules.delete(name);
  }

  async setEnabled(params: { name: string; enabled: boolean }): Promise<Schedule> {
    if (typeof params.enabled !== 'boolean') {
      throw new ValidationError('enabled', 'must be a boolean');
    }
    const schedule = this.#ctx.state.schedules.get(params.name);
    if (schedule === undefined) throw new NotFoundError('schedule', String(params.name));
    schedule.enabled = params.enabled;
    schedule.updatedAt = this.#ctx.clock.now();
    return copy(schedule);
  }

  async recordFire(params: {
    name: string;
    fireAt: number;
    nextFireAt: number | null;
    job: NewJob;
  }): Promise<{ job: Job; created: boolean }> {
    const fireAt = assertTimestamp(params.fireAt, 'fireAt');
    const nextFireAt =
      params.nextFireAt === null ? null : assertTimestamp(params.nextFireAt, 'nextFireAt');
    const schedule = this.#ctx.state.schedules.get(params.name);
    if (schedule === undefined) throw new NotFoundError('schedule', String(params.name));
    const key = `${schedule.name}\u0000${fireAt}`;
    const firedJobId = this.#ctx.state.fires.get(key);
    const fired = firedJobId === undefined ? undefined : await this.#jobs.get(firedJobId);
    if (fired !== undefined) return { job: fired, created: false };
    // createSync does not yield, so no other recordFire can run between the check and the insert.
    const job = this.#jobs.createSync(params.job);
    this.#ctx.state.fires.set(key, job.id);
    // As on Postgres: a late record of an older tick never moves the schedule backwards.
    if (schedule.lastFireAt === null || fireAt >= schedule.lastFireAt) {
      schedule.lastFireAt = fireAt;
      schedule.nextFireAt = nextFireAt;
    }
    schedule.updatedAt = this.#ctx.clock.now();
    return { job, created: true };
  }

  async acquireLeadership(params: {
    holderId: string;
    ttlMs: number;
    now?: number;
  }): Promise<Leadership> {
    const holderId = assertText(params.holderId, 'holderId', TEXT);
    const ttlMs = assertInteger(params.ttlMs, 'ttlMs', { min: 1, max: 2_147_483_647 });
    const now =
      params.now === undefined ? this.#ctx.clock.now() : assertTimestamp(params.now, 'now');
    const lease = this.#ctx.state.leadership;
    const held = lease !== null && lease.expiresAt > now;
    if (held && lease.holderId !== holderId) {
      return {
        isLeader: false,
        holderId: lease.holderId,
        term: lease.term,
        expiresAt: lease.expiresAt,
      };
    }
    const renewing = held && lease.holderId === holderId;
    const term = renewing ? lease.term : (lease?.term ?? 0) + 1;
    const next = { holderId, term, expiresAt: now + ttlMs };
    this.#ctx.state.leadership = next;
    return { isLeader: true, ...next };
  }

  async releaseLeadership(params: { holderId: string }): Promise<void> {
    const lease = this.#ctx.state.leadership;
    // Keep the row (and its term) so terms keep increasing; only make it lapse.
    if (lease !== null && lease.holderId === params.holderId) {
      this.#ctx.state.leadership = { ...lease, expiresAt: Number.NEGATIVE_INFINITY };
    }
  }

  async listDue(params: { limit: number; now?: number }): Promise<DueSchedules> {
    const limit = assertInteger(params.limit, 'limit', { min: 0, max: 100_000 });
    const now =
      params.now === undefined ? this.#ctx.clock.now() : assertTimestamp(params.now, 'now');
    const due = [...this.#ctx.state.schedules.values()].filter(
      (s) => s.enabled && s.nextFireAt !== null && s.nextFireAt <= now,
    );
    due.sort((a, b) => (a.nextFireAt ?? 0) - (b.nextFireAt ?? 0) || (a.name < b.name ? -1 : 1));
    return { now, schedules: due.slice(0, limit).map(copy) };
  }

  async getLastFire(params: { name: string }): Promise<ScheduleFire | undefined> {
    const prefix = `${params.name}\u0000`;
    let last: { fireAt: number; jobId: string } | undefined;
    for (const [key, jobId] of this.#ctx.state.fires) {
      if (!key.startsWith(prefix)) continue;
      const fireAt = Number(key.slice(prefix.length));
      if (last === undefined || fireAt > last.fireAt) last = { fireAt, jobId };
    }
    if (last === undefined) return undefined;
    return { ...last, job: await this.#jobs.get(last.jobId) };
  }

  async advance(params: {
    name: string;
    expectedNextFireAt: number | null;
    nextFireAt: number | null;
  }): Promise<boolean> {
    const nextFireAt =
      params.nextFireAt === null ? null : assertTimestamp(params.nextFireAt, 'nextFireAt');
    const schedule = this.#ctx.state.schedules.get(params.name);
    if (schedule === undefined || schedule.nextFireAt !== params.expectedNextFireAt) return false;
    schedule.nextFireAt = nextFireAt;
    schedule.updatedAt = this.#ctx.clock.now();
    return true;
  }
}
