import {
  type Logger,
  type NewJob,
  NotFoundError,
  type Schedule,
  type ScheduleStore,
  TERMINAL_JOB_STATUSES,
} from '@flowmonkey/core';
import { CronSchedule } from './cron-schedule.js';
import { type PlannedFire, planFires } from './fire-plan.js';

/** What firing due schedules did: jobs made, ticks skipped (overlap) and ticks missed. */
export interface FireCounts {
  /** Ticks for which this scheduler created the job. */
  fired: number;
  /** Ticks not fired because the previous fire's job was unfinished (`overlap: 'skip'`). */
  skipped: number;
  /** Ticks that will never fire: older than the catch-up window or beyond `maxCatchUpFires`. */
  missed: number;
}

/** What {@link fireSchedule} needs. */
export interface FireContext {
  store: ScheduleStore;
  logger: Logger;
  catchUpWindowMs: number;
  maxCatchUpFires: number;
}

/** The correlation id every job of schedule `name` carries: `schedule:<name>`. */
export function scheduleCorrelationId(name: string): string {
  return `schedule:${name}`;
}

/** The job a tick of `schedule` creates: due at the tick, correlated to the schedule. */
export function tickJob(schedule: Schedule, fireAt: number): NewJob {
  return {
    handler: schedule.handler,
    queue: schedule.queue,
    input: schedule.input,
    priority: schedule.priority,
    maxAttempts: schedule.maxAttempts,
    runAt: fireAt,
    correlationId: scheduleCorrelationId(schedule.name),
  };
}

/**
 * Fires one due schedule (its `nextFireAt` at or before `now`, the store's time) and adds
 * to `counts`. Missed ticks are skipped with a compare-and-set `advance`, each fire is a
 * `recordFire` (unique per tick), and an overlap skip is an `advance` too, so a scheduler
 * that lost a race to another stops without double counting and never creates a second
 * job for a tick.
 */
export async function fireSchedule(
  ctx: FireContext,
  schedule: Schedule,
  now: number,
  counts: FireCounts,
): Promise<void> {
  try {
    await fireDue(ctx, schedule, now, counts);
  } catch (error) {
    // Removed while this tick worked on it: nothing left to fire.
    if (error instanceof NotFoundError) return;
    throw error;
  }
}

async function fireDue(
  ctx: FireContext,
  schedule: Schedule,
  now: number,
  counts: FireCounts,
): Promise<void> {
  const dueAt = schedule.nextFireAt;
  if (dueAt === null) return;
  const cron = parseStored(ctx, schedule, now);
  if (cron === undefined) {
    await ctx.store.advance({ name: schedule.name, expectedNextFireAt: dueAt, nextFireAt: null });
    return;
  }
  const plan = planFires({
    cron,
    dueAt,
    now,
    catchUpWindowMs: ctx.catchUpWindowMs,
    maxCatchUpFires: ctx.maxCatchUpFires,
  });
  if (plan.missed > 0) {
    const moved = await ctx.store.advance({
      name: schedule.name,
      expectedNextFireAt: dueAt,
      nextFireAt: plan.skipTo,
    });
    if (!moved) return;
    counts.missed += plan.missed;
    ctx.logger.warn(
      { schedule: schedule.name, missed: plan.missed, since: new Date(dueAt).toISOString() },
      'missed ticks older than the catch-up window are skipped',
    );
  }
  for (const fire of plan.fires) {
    if (!(await fireOne(ctx, schedule, fire, counts))) return;
  }
}

/**
 * Fires (or, with `overlap: 'skip'` and the last fire's job unfinished, skips) one tick.
 * Returns false when another scheduler moved the schedule meanwhile: the caller stops.
 */
async function fireOne(
  ctx: FireContext,
  schedule: Schedule,
  fire: PlannedFire,
  counts: FireCounts,
): Promise<boolean> {
  const name = schedule.name;
  const moveOn = () =>
    ctx.store.advance({ name, expectedNextFireAt: fire.fireAt, nextFireAt: fire.nextFireAt });
  const verdict = schedule.overlap === 'skip' ? await overlapVerdict(ctx, name, fire) : 'free';
  if (verdict === 'busy') {
    if (!(await moveOn())) return false;
    counts.skipped++;
    ctx.logger.info(
      { schedule: name, fireAt: new Date(fire.fireAt).toISOString() },
      'tick skipped: the previous run is still unfinished',
    );
    return true;
  }
  if (verdict === 'free') {
    const { created } = await ctx.store.recordFire({
      name,
      fireAt: fire.fireAt,
      nextFireAt: fire.nextFireAt,
      job: tickJob(schedule, fire.fireAt),
    });
    if (created) {
      counts.fired++;
      return true;
    }
  }
  // Recorded before (by another scheduler, or under an earlier version of the schedule):
  // move the schedule past it, or it stays due and is re-read on every tick.
  await moveOn();
  return true;
}

/**
 * For `overlap: 'skip'`: `recorded` when this tick (or a later one) is already recorded,
 * `busy` when the last fire's job is not terminal, else `free`.
 */
async function overlapVerdict(
  ctx: FireContext,
  name: string,
  fire: PlannedFire,
): Promise<'recorded' | 'busy' | 'free'> {
  const last = await ctx.store.getLastFire({ name });
  if (last === undefined) return 'free';
  if (last.fireAt >= fire.fireAt) return 'recorded';
  if (last.job !== undefined && !TERMINAL_JOB_STATUSES.includes(last.job.status)) return 'busy';
  return 'free';
}

function parseStored(ctx: FireContext, schedule: Schedule, now: number): CronSchedule | undefined {
  try {
    return CronSchedule.parse({
      cron: schedule.cron,
      timezone: schedule.timezone,
      seed: schedule.name,
      now,
    });
  } catch (error) {
    ctx.logger.error(
      { err: error, schedule: schedule.name, cron: schedule.cron, timezone: schedule.timezone },
      'stored schedule cannot be parsed; it will not fire until it is saved again',
    );
    return undefined;
  }
}
