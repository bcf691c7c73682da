/**
 * A recurring job: a digest sent every two seconds (six-field cron, with seconds), with a
 * JobScheduler creating one job per tick and a BasicJobRunner sending them. On embedded
 * PostgreSQL unless DATABASE_URL is set (then in a schema of its own, `flowmonkey_cron`):
 *
 *   npx tsx examples/cron-digest.ts
 *
 * Start it twice at once against one DATABASE_URL and still one job is made per tick:
 * each tick is recorded under the unique key (schedule, fire time).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BasicJobRunner, JobScheduler } from '@flowmonkey/jobs';
import { createPgStores, migrate, startEmbeddedPostgres } from '@flowmonkey/postgres';
import pg from 'pg';
import pino from 'pino';

const SCHEMA = 'flowmonkey_cron';
const external = process.env.DATABASE_URL;
const database = external
  ? { connectionString: external, stop: async () => {} }
  : await startEmbeddedPostgres();
const pool = new pg.Pool({ connectionString: database.connectionString, max: 4 });
pool.on('error', () => {}); // idle connections dropped at shutdown
const logger = pino({ level: 'warn' });

try {
  await migrate({ pool, schema: SCHEMA });
  const stores = createPgStores({ pool, schema: SCHEMA, logger });
  const runner = new BasicJobRunner({ jobStore: stores.jobs, logger, pollIntervalMs: 200 });
  runner.registerHandler('send-digest', async (input: { list: string }, ctx) => {
    const at = new Date().toISOString().slice(11, 23);
    console.log(`${at} digest for ${input.list} (job ${ctx.job.id.slice(-8)})`);
    return { sent: true };
  });
  const scheduler = new JobScheduler({
    jobStore: stores.jobs,
    scheduleStore: stores.schedules,
    tickIntervalMs: 250,
    leaseMs: 1000,
    logger,
  });
  const digest = await scheduler.scheduleRecurring({
    name: 'team-digest',
    cron: '*/2 * * * * *',
    timezone: 'Europe/London',
    handler: 'send-digest',
    input: { list: 'engineering' },
    overlap: 'skip',
  });
  const [schedule] = await scheduler.list();
  console.log(`schedule "${digest.name}" (${digest.cron}, ${digest.timezone}); next fires:`);
  for (const at of schedule?.nextFireTimes.slice(0, 3) ?? []) {
    console.log(`  ${new Date(at).toISOString()}`);
  }
  await runner.start();
  scheduler.start();
  await sleep(7000);
  await scheduler.stop();
  await runner.stop();
  console.log(`sent ${runner.completedCount()} digests in 7 s`);
  await scheduler.remove('team-digest');
} finally {
  await pool.end();
  await database.stop();
}
