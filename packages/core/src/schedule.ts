/**
 * What a recurring schedule does when its previous fire's job is still unfinished at the
 * next tick: `allow` creates the new job anyway, `skip` records the tick as skipped.
 */
export type OverlapPolicy = 'allow' | 'skip';

/** A recurring (cron) schedule that creates one job per tick. */
export interface Schedule {
  /** Unique name; `scheduleRecurring` upserts by it. */
  name: string;
  /** Cron expression (five fields, or six with seconds). */
  cron: string;
  /** IANA time zone the cron expression is read in, e.g. `Europe/London`. @default 'UTC' */
  timezone: string;
  handler: string;
  queue: string;
  input: unknown;
  priority: number;
  maxAttempts: number;
  enabled: boolean;
  overlap: OverlapPolicy;
  /** Epoch ms of the last tick a job was created for; `null` if never fired. */
  lastFireAt: number | null;
  /** Epoch ms of the next tick, as computed when the schedule was saved or last fired. */
  nextFireAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Parameters for saving a schedule. */
export interface NewSchedule {
  name: string;
  cron: string;
  timezone?: string;
  handler: string;
  queue?: string;
  input?: unknown;
  priority?: number;
  maxAttempts?: number;
  enabled?: boolean;
  overlap?: OverlapPolicy;
  /** Epoch ms of the first tick to fire; computed by the scheduler from `cron`. */
  nextFireAt: number | null;
}

/** The state of the scheduler leadership lease. */
export interface Leadership {
  /** True when the caller holds the lease after this call. */
  isLeader: boolean;
  /** Holder of the lease (possibly another scheduler). */
  holderId: string;
  /** Increases by one every time the lease changes hands. */
  term: number;
  /** Epoch ms at which the lease lapses unless renewed. */
  expiresAt: number;
}
