import {
  type Job,
  NotFoundError,
  type OverlapPolicy,
  type RetryPolicy,
  type Schedule,
  uuidv7,
  ValidationError,
} from '@flowmonkey/core';
import { CronSchedule } from './cron/cron-schedule.js';
import { type FireCounts, fireSchedule, scheduleCorrelationId } from './cron/fire-schedule.js';
import { resolveRunAt, type TimeInput } from './cron/resolve-run-at.js';
import type { JobSchedulerOptions, ResolvedSchedulerOptions } from './scheduler-options.js';
import { resolveSchedulerOptions } from './scheduler-options.js';
import { Service } from './service.js';

/** What one {@link JobScheduler.runOnce} did. */
export interface SchedulerRunCounts extends FireCounts {
  /** Whether this scheduler held the leadership lease (only the leader fires). */
  leader: boolean;
}

/** A one-off job for {@link JobScheduler.schedule}: when it runs, and the job's fields. */
export interface ScheduleJobParams {
  handler: string;
  input?: unknown;
  /** When to run: a `Date`, epoch ms, or ISO 8601 with an offset. Past times run at once. */
  runAt?: TimeInput;
  /** Run this many ms from now instead (not together with `runAt`). @default 0 */
  delayMs?: number;
  executionId?: string | null;
  stepId?: string | null;
  /** @default 3 */
  maxAttempts?: number;
  /** @default 0 (NORMAL) */
  priority?: number;
  /** A second `schedule` with the same key returns the first job. */
  idempotencyKey?: string | null;
  /** @default 'default' */
  queue?: string;
  timeoutMs?: number | null;
  retry?: RetryPolicy | null;
  correlationId?: string | null;
}

/** A recurring schedule for {@link JobScheduler.scheduleRecurring}. */
export interface RecurringScheduleParams {
  /** Unique name; saving again under it replaces the schedule. */
  name: string;
  /** Five fields (minute first), six with seconds first, or an alias such as `@daily`. */
  cron: string;
  /** IANA time zone the expression is read in. @default 'UTC' */
  timezone?: string;
  handler: string;
  input?: unknown;
  /** @default true */
  enabled?: boolean;
  /** What a tick does while the previous fire's job is unfinished. @default 'allow' */
  overlap?: OverlapPolicy;
  /** @default 0 */
  priority?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** @default 'default' */
  queue?: string;
}

/** A schedule as {@link JobScheduler.list} returns it: with its upcoming fire times. */
export interface ScheduleWithFireTimes extends Schedule {
  /** The next fire times in epoch ms, ascending (`listFireTimes` of them); empty when paused. */
  nextFireTimes: number[];
}

const JOB_KEYS = [
  'handler',
  'input',
  'runAt',
  'delayMs',
  'executionId',
  'stepId',
  'maxAttempts',
  'priority',
  'idempotencyKey',
  'queue',
  'timeoutMs',
  'retry',
  'correlationId',
];
const RECURRING_KEYS = [
  'name',
  'cron',
  'timezone',
  'handler',
  'input',
  'enabled',
  'overlap',
  'priority',
  'maxAttempts',
  'queue',
];

/**
 * Delayed and recurring jobs. `schedule()` creates a one-off job that runs at a time;
 * `scheduleRecurring()` saves a cron schedule (in an IANA time zone) that the scheduler
 * turns into one job per tick. Any number of schedulers may run: each tick is recorded
 * under the unique key (schedule, fire time), so it makes one job however many record it.
 * One scheduler at a time is leader (a lease in the store, renewed every tick, taken over
 * when it lapses) and only the leader fires, to save work; correctness does not depend on
 * it. Ticks missed while no scheduler ran fire once each when they are within
 * `catchUpWindowMs` (at most `maxCatchUpFires` per schedule); older ones are skipped and
 * counted. See docs/scheduling.md for daylight saving and the catch-up policy.
 */
export class JobScheduler {
  readonly #o: ResolvedSchedulerOptions;
  readonly #service: Service;
  #leader = false;
  #term = 0;

  constructor(options: JobSchedulerOptions) {
    this.#o = resolveSchedulerOptions(options);
    this.#service = new Service({
      name: 'job-scheduler',
      intervalMs: this.#o.tickIntervalMs,
      run: () => this.runOnce(),
      logger: this.#o.logger,
      random: this.#o.random,
      // A started scheduler keeps its process alive, like a listening server.
      keepProcessAlive: true,
    });
  }

  /** This scheduler's id: the holder id of the leadership lease. */
  get schedulerId(): string {
    return this.#o.schedulerId;
  }

  /** True when the last tick won or renewed the leadership lease. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** Starts ticking: the first tick after a random delay up to `tickIntervalMs`, then every interval. */
  start(): void {
    this.#service.start();
  }

  /**
   * Stops ticking, waits for a tick in flight, and gives up the lease if held, so another
   * scheduler takes over at once. Idempotent; fine before `start()`.
   */
  async stop(): Promise<void> {
    await this.#service.stop();
    if (this.#leader) {
      this.#leader = false;
      await this.#o.scheduleStore.releaseLeadership({ holderId: this.#o.schedulerId });
    }
  }

  /**
   * One tick: takes or renews the leadership lease and, as leader, fires every due
   * schedule (paging until a short page), judging "due" by the store's time (database
   * time on Postgres; the injected clock's when one is given). Returns the counts.
   */
  async runOnce(): Promise<SchedulerRunCounts> {
    const { scheduleStore, schedulerId, leaseMs, logger } = this.#o;
    const lease = await scheduleStore.acquireLeadership({
      holderId: schedulerId,
      ttlMs: leaseMs,
      ...this.#storeNow(),
    });
    if (lease.isLeader !== this.#leader || (lease.isLeader && lease.term !== this.#term)) {
      logger.info(
        { schedulerId, term: lease.term, holderId: lease.holderId },
        lease.isLeader ? 'scheduler leadership taken' : 'scheduler leadership lost',
      );
    }
    this.#leader = lease.isLeader;
    this.#term = lease.term;
    const counts: SchedulerRunCounts = { leader: lease.isLeader, fired: 0, skipped: 0, missed: 0 };
    if (!lease.isLeader) return counts;
    await this.#fireDue(counts);
    if (counts.fired + counts.skipped + counts.missed > 0) {
      logger.info({ ...counts }, 'schedules fired');
    }
    return counts;
  }

  /**
   * Creates a one-off job that runs at `runAt` (or `delayMs` from now, or now). Throws
   * `ValidationError` naming the field for a bad time (see `resolveRunAt`), an unknown
   * key, or a bad job field; nothing is stored then.
   */
  async schedule(params: ScheduleJobParams): Promise<Job> {
    checkKeys(params, JOB_KEYS, 'job');
    const { runAt, delayMs, ...job } = params;
    const at = resolveRunAt({ runAt, delayMs }, this.#now());
    return this.#o.jobStore.create({ ...job, runAt: at });
  }

  /**
   * Saves (creates or replaces, by `name`) a recurring schedule and returns it. The cron
   * expression and time zone are checked first: `ValidationError` naming `cron` (malformed,
   * wrong field count, or no fire time in the next 30 years, like `0 0 30 2 *`) or
   * `timezone` (unknown to `Intl`), and nothing is stored. Saving an enabled schedule again
   * with the same cron and time zone keeps its pending tick, so a deploy that re-saves its
   * schedules loses no catch-up; any other change starts from the next tick after now.
   */
  async scheduleRecurring(params: RecurringScheduleParams): Promise<Schedule> {
    checkKeys(params, RECURRING_KEYS, 'schedule');
    if (typeof params.name !== 'string' || params.name === '' || params.name.length > 255) {
      throw new ValidationError('name', 'must be a non-empty string of at most 255 characters');
    }
    if (params.enabled !== undefined && typeof params.enabled !== 'boolean') {
      throw new ValidationError('enabled', 'must be a boolean');
    }
    const now = this.#now();
    const cron = CronSchedule.parse({
      cron: params.cron,
      timezone: params.timezone ?? 'UTC',
      seed: params.name,
      now,
    });
    const enabled = params.enabled ?? true;
    const existing = await this.#o.scheduleStore.get(params.name);
    const keep =
      existing?.enabled &&
      enabled &&
      existing.cron === cron.cron &&
      existing.timezone === cron.timezone &&
      existing.nextFireAt !== null;
    return this.#o.scheduleStore.upsert({
      ...params,
      cron: cron.cron,
      timezone: cron.timezone,
      enabled,
      nextFireAt: keep ? existing.nextFireAt : cron.nextAfter(now),
    });
  }

  /** Pauses a schedule: no tick fires until `resume`. Throws `NotFoundError` for an unknown name. */
  pause(name: string): Promise<Schedule> {
    return this.#o.scheduleStore.setEnabled({ name, enabled: false });
  }

  /**
   * Resumes a paused schedule from the next tick after now: ticks that fell in the pause
   * are not caught up. A no-op on an enabled schedule. Throws `NotFoundError` for an
   * unknown name.
   */
  async resume(name: string): Promise<Schedule> {
    const schedule = await this.#get(name);
    if (schedule.enabled) return schedule;
    const cron = CronSchedule.parse({ ...schedule, seed: name, now: this.#now() });
    await this.#o.scheduleStore.advance({
      name,
      expectedNextFireAt: schedule.nextFireAt,
      nextFireAt: cron.nextAfter(this.#now()),
    });
    return this.#o.scheduleStore.setEnabled({ name, enabled: true });
  }

  /**
   * Runs the schedule's job now, once, outside its tick sequence (also when paused): a job
   * with its own unique idempotency key, which does not move `nextFireAt` and is not a
   * fire (so `overlap: 'skip'` does not wait for it). Throws `NotFoundError` for an unknown name.
   */
  async trigger(name: string): Promise<Job> {
    const schedule = await this.#get(name);
    return this.#o.jobStore.create({
      handler: schedule.handler,
      queue: schedule.queue,
      input: schedule.input,
      priority: schedule.priority,
      maxAttempts: schedule.maxAttempts,
      idempotencyKey: `schedule:${name}:trigger:${uuidv7(this.#now())}`,
      correlationId: scheduleCorrelationId(name),
    });
  }

  /** Deletes a schedule; returns false when there was none. Jobs already made are kept. */
  remove(name: string): Promise<boolean> {
    return this.#o.scheduleStore.remove(name);
  }

  /**
   * Every schedule by name, each with its next `listFireTimes` fire times: starting with
   * its pending tick (when still within the catch-up window) so the list shows what the
   * scheduler will do; empty for a paused schedule.
   */
  async list(): Promise<ScheduleWithFireTimes[]> {
    const now = this.#now();
    const schedules = await this.#o.scheduleStore.list();
    return schedules.map((s) => ({ ...s, nextFireTimes: this.#fireTimes(s, now) }));
  }

  #fireTimes(schedule: Schedule, now: number): number[] {
    const count = this.#o.listFireTimes;
    if (!schedule.enabled || schedule.nextFireAt === null || count === 0) return [];
    let cron: CronSchedule;
    try {
      cron = CronSchedule.parse({ ...schedule, seed: schedule.name, now });
    } catch {
      return [];
    }
    const pending = schedule.nextFireAt;
    if (pending < now - this.#o.catchUpWindowMs) return cron.fireTimes(now, count);
    return [pending, ...cron.fireTimes(pending, count - 1)];
  }

  async #fireDue(counts: SchedulerRunCounts): Promise<void> {
    const { scheduleStore, batchSize, logger, catchUpWindowMs, maxCatchUpFires } = this.#o;
    const ctx = { store: scheduleStore, logger, catchUpWindowMs, maxCatchUpFires };
    const seen = new Set<string>();
    for (;;) {
      const page = await scheduleStore.listDue({ limit: batchSize, ...this.#storeNow() });
      let fresh = 0;
      for (const schedule of page.schedules) {
        if (seen.has(schedule.name)) continue;
        seen.add(schedule.name);
        fresh++;
        try {
          await fireSchedule(ctx, schedule, page.now, counts);
        } catch (error) {
          logger.error({ err: error, schedule: schedule.name }, 'firing a schedule failed');
        }
      }
      if (page.schedules.length < batchSize || fresh === 0) return;
    }
  }

  async #get(name: string): Promise<Schedule> {
    const schedule = await this.#o.scheduleStore.get(name);
    if (schedule === undefined) throw new NotFoundError('schedule', String(name));
    return schedule;
  }

  #now(): number {
    return this.#o.clock?.now() ?? Date.now();
  }

  /** `{ now }` for store calls only when a clock was injected; else the store's own time. */
  #storeNow(): { now?: number } {
    return this.#o.clock === undefined ? {} : { now: this.#o.clock.now() };
  }
}

/** Throws `ValidationError` naming the first key of `params` not in `known`. */
function checkKeys(params: unknown, known: readonly string[], what: string): void {
  if (typeof params !== 'object' || params === null) {
    throw new ValidationError(what, 'must be an object');
  }
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) throw new ValidationError(key, `unknown field of a ${what}`);
  }
}
