import type { CronSchedule } from './cron-schedule.js';

/**
 * Most missed ticks older than the catch-up window counted one by one; past this the
 * plan jumps to the window (so a year-long outage of an every-second schedule costs no
 * more than this), and `missed` is a lower bound.
 */
export const MAX_COUNTED_MISSED = 10_000;

/** One tick to fire and the tick after it (`null`: the schedule has no further tick). */
export interface PlannedFire {
  fireAt: number;
  nextFireAt: number | null;
}

/** What a scheduler does with one due schedule, from {@link planFires}. */
export interface FirePlan {
  /** Ticks that will never fire: older than the window, or beyond `maxCatchUpFires`. */
  missed: number;
  /**
   * Where the schedule's `nextFireAt` must move (from its due tick) before firing, when
   * ticks were missed: the first fire, or the tick after now when nothing fires.
   */
  skipTo: number | null;
  /** Ticks to fire, oldest first, each with the tick after it. */
  fires: PlannedFire[];
  /** The first tick after now (`null` when there is none). */
  next: number | null;
}

/** Inputs of {@link planFires}. */
export interface FirePlanInput {
  cron: CronSchedule;
  /** The schedule's stored `nextFireAt`: its earliest unfired tick, at or before `now`. */
  dueAt: number;
  /** The store's current time, epoch ms. */
  now: number;
  /** Ticks before `now - catchUpWindowMs` never fire. */
  catchUpWindowMs: number;
  /** Most ticks fired in one plan; the most recent ones are kept. */
  maxCatchUpFires: number;
}

/**
 * Plans the catch-up of one due schedule: every tick from `dueAt` up to `now` fires once,
 * oldest first, except ticks older than the catch-up window and all but the
 * `maxCatchUpFires` most recent, which are counted as missed. In steady state (a tick
 * every `tickIntervalMs`) this is exactly one fire. Ticks are walked from `dueAt` one
 * after another, so the daylight-saving behaviour is cron-parser's sequence.
 */
export function planFires(input: FirePlanInput): FirePlan {
  const { cron, dueAt, now } = input;
  const windowStart = now - input.catchUpWindowMs;
  let missed = 0;
  let tick: number | null = dueAt;
  let ticks = cron.ticks(dueAt);
  while (tick !== null && tick < windowStart) {
    missed++;
    if (missed >= MAX_COUNTED_MISSED) {
      ticks = cron.ticks(windowStart - 1);
      tick = nextOf(ticks);
      break;
    }
    tick = nextOf(ticks);
  }
  const inWindow: number[] = [];
  while (tick !== null && tick <= now) {
    inWindow.push(tick);
    if (inWindow.length > input.maxCatchUpFires) {
      inWindow.shift();
      missed++;
    }
    tick = nextOf(ticks);
  }
  const next = tick;
  const fires = inWindow.map((fireAt, i) => ({ fireAt, nextFireAt: inWindow[i + 1] ?? next }));
  return { missed, skipTo: missed > 0 ? (inWindow[0] ?? next) : null, fires, next };
}

function nextOf(ticks: Generator<number>): number | null {
  const step = ticks.next();
  return step.done === true ? null : step.value;
}
