/**
 * A scheduler process of the reliability suite: reads `{ url, schedulerId, tickIntervalMs,
 * leaseMs, clockSkewMs }` as JSON from `CHAOS_SCHEDULER`, runs a JobScheduler, prints
 * `ready`, and stops gracefully on SIGTERM.
 */
import { noopLogger } from '@flowmonkey/core';
import { JobScheduler } from '@flowmonkey/jobs';
import { createPgStores } from '@flowmonkey/postgres';
import pg from 'pg';

/** Settings of one scheduler process. */
export interface ChaosSchedulerOptions {
  url: string;
  schedulerId: string;
  tickIntervalMs: number;
  leaseMs: number;
  clockSkewMs?: number;
}

const o = JSON.parse(process.env.CHAOS_SCHEDULER ?? '{}') as ChaosSchedulerOptions;
const pool = new pg.Pool({ connectionString: o.url, max: 2 });
pool.on('error', () => {});
const stores = createPgStores({ pool });
// A skewed machine: the process's own clock is off (the scheduler's `clock` option is a
// test hook whose time the store trusts, so it is not what a skewed machine looks like).
const skew = o.clockSkewMs ?? 0;
const realNow = Date.now.bind(Date);
if (skew !== 0) Date.now = () => realNow() + skew;
const scheduler = new JobScheduler({
  jobStore: stores.jobs,
  scheduleStore: stores.schedules,
  schedulerId: o.schedulerId,
  tickIntervalMs: o.tickIntervalMs,
  leaseMs: o.leaseMs,
  catchUpWindowMs: 120_000,
  maxCatchUpFires: 1000,
  logger: noopLogger,
});
scheduler.start();
process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`);
process.on('SIGTERM', () => {
  void scheduler.stop().then(async () => {
    await pool.end();
    process.exit(0);
  });
});
