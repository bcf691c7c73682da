import type { Job, NewJob } from '../job.js';
import type { Leadership, NewSchedule, Schedule } from '../schedule.js';

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
}
