import type { Logger } from '@flowmonkey/core';
import { createMemoryStores, ManualClock, noopLogger } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { JobReaper } from '../src/job-reaper.js';
import { mustGet } from './helpers.js';

const EXECUTION_ID = '0190a0a0-0000-7000-8000-000000000001';

/** A logger that records the messages of `error` calls. */
function errorLog(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const logger: Logger = {
    ...noopLogger,
    error: (_obj: unknown, msg?: string) => void errors.push(msg ?? ''),
    child: () => logger,
  };
  return { logger, errors };
}

function world(maxAttempts: number) {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const stepJob = () =>
    stores.jobs.create({
      handler: 'charge',
      executionId: EXECUTION_ID,
      stepId: 'charge',
      maxAttempts,
    });
  return { clock, stores, stepJob };
}

describe('BasicJobRunner without an engine', () => {
  it('releases a step job of an execution untouched instead of settling it, and logs an error once', async () => {
    const { stores, stepJob } = world(3);
    const { logger, errors } = errorLog();
    const runner = new BasicJobRunner({ jobStore: stores.jobs, runnerId: 'plain', logger });
    let ran = 0;
    runner.registerHandler('charge', async () => {
      ran++;
      return 'charged';
    });
    const first = await stepJob();
    const second = await stepJob();
    await runner.runOnce();
    await runner.whenIdle();
    await runner.runOnce();
    await runner.whenIdle();
    expect(ran).toBe(0);
    for (const job of [first, second]) {
      const after = await mustGet(stores.jobs, job.id);
      expect([after.status, after.attempts, after.runAt, after.leaseId, after.result]).toEqual([
        'pending',
        0,
        job.runAt,
        null,
        null,
      ]);
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no engine/);
  });

  it('still runs plain background jobs', async () => {
    const { stores } = world(3);
    const runner = new BasicJobRunner({ jobStore: stores.jobs, logger: noopLogger });
    runner.registerHandler('charge', async () => 'charged');
    const job = await stores.jobs.create({ handler: 'charge' });
    await runner.runOnce();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, job.id)).status).toBe('completed');
  });
});

describe('JobReaper without an engine', () => {
  async function stalled(maxAttempts: number, cancel = false) {
    const w = world(maxAttempts);
    const job = await w.stepJob();
    await w.stores.jobs.claimBatch({ runnerId: 'dead', limit: 1 });
    if (cancel) await w.stores.jobs.cancel({ jobId: job.id });
    w.clock.advance(61_000);
    const { logger, errors } = errorLog();
    const reaper = new JobReaper({ jobStore: w.stores.jobs, logger });
    return { ...w, job, reaper, errors };
  }

  it('resets a stalled step job while attempts remain', async () => {
    const { stores, job, reaper, errors } = await stalled(3);
    expect(await reaper.runOnce()).toMatchObject({ reset: 1, skipped: 0 });
    expect((await mustGet(stores.jobs, job.id)).status).toBe('pending');
    expect(errors).toEqual([]);
  });

  it('leaves a step job on its last attempt stalled and logs an error, never failing it silently', async () => {
    const { stores, job, reaper, errors } = await stalled(1);
    expect(await reaper.runOnce()).toEqual({
      reset: 0,
      failed: 0,
      cancelled: 0,
      lost: 0,
      errors: 0,
      skipped: 1,
    });
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.runnerId]).toEqual(['running', 'dead']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no engine/);
  });

  it('leaves a stalled step job whose cancellation was requested for a reaper with an engine', async () => {
    const { stores, job, reaper } = await stalled(3, true);
    expect(await reaper.runOnce()).toMatchObject({ cancelled: 0, skipped: 1 });
    expect((await mustGet(stores.jobs, job.id)).status).toBe('running');
  });
});
