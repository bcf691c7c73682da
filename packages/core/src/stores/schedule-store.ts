import type { Job, NewJob } from '../job.js';
import type { Leadership, NewSchedule, Schedule } from '../schedule.js';

/** Result of {@link ScheduleStore.listDue}. */
export interface DueSchedules {
  /**
   * The store's current time in epoch ms (database time on Postgres, or the `now` passed
   * in), against which the schedules were judged due. Schedulers use it, not their own
   * clock, for every due and catch-up decision.
   */
  now: number;
  /** Enabled schedules whose `nextFireAt` is at or before `now`, earliest first. */
  schedules: Schedule[];
}

/** The most recent recorded tick of a schedule, from {@link ScheduleStore.getLastFire}. */
export interface ScheduleFire {
  /** Epoch ms of the tick. */
  fireAt: number;
  /** Id of the job the tick created. */
  jobId: string;
  /** That job, or `undefined` when it no longer exists (pruned). */
  job: Job | undefined;
}

/** Persists recurring schedules, their fires, and the scheduler leadership lease. */
export interface ScheduleStore {
  /** Creates or replaces the schedule with this name, keeping its fire history. */
  upsert(schedule: NewSchedule): Promise<Schedule>;

  get(name: string): Promise<Schedule | undefined>;

  /** All schedules by name. */
  list(): Promise<Schedule[]>;

  /** Deletes the schedule; returns false if there was none. */
  remove(name: string): Promise<boolean>;

  /** Pauses (`false`) or resumes (`true`) a schedule. Throws `NotFoundError` for an unknown name. */
  setEnabled(params: { name: string; enabled: boolean }): Promise<Schedule>;

  /**
   * Records one tick: creates `job` under the unique key `(name, fireAt)` and advances the
   * schedule to `nextFireAt`. A tick already recorded (by any scheduler) creates nothing and
   * returns `created: false` with the job made the first time.
   */
  recordFire(params: {
    name: string;
    fireAt: number;
    nextFireAt: number | null;
    job: NewJob;
  }): Promise<{ job: Job; created: boolean }>;

  /**
   * Takes or renews the leadership lease for `holderId` for `ttlMs`: granted when free,
   * lapsed, or already held by `holderId`. The term increases when the holder changes.
   */
  acquireLeadership(params: { holderId: string; ttlMs: number; now?: number }): Promise<Leadership>;

  /** Gives up the lease if `holderId` holds it. */
  releaseLeadership(params: { holderId: string }): Promise<void>;

  /**
   * Lists up to `limit` enabled schedules whose `nextFireAt` is at or before now (the
   * store's time, or `now` when given), earliest first, with that time.
   */
  listDue(params: { limit: number; now?: number }): Promise<DueSchedules>;

  /**
   * Returns the schedule's most recent recorded tick (by fire time) and its job, or
   * `undefined` when it has never fired. Used for the `skip` overlap policy.
   */
  getLastFire(params: { name: string }): Promise<ScheduleFire | undefined>;

  /**
   * Moves the schedule's `nextFireAt` to `nextFireAt` without creating a job (a skipped or
   * missed tick, or a resume), but only if it still equals `expectedNextFireAt`
   * (compare-and-set, `null` matching `null`). Returns false and changes nothing when
   * another scheduler moved it first or the schedule does not exist.
   */
  advance(params: {
    name: string;
    expectedNextFireAt: number | null;
    nextFireAt: number | null;
  }): Promise<boolean>;
}
