import { randomUUID } from 'node:crypto';
import { ConcurrencyError, type Execution, type ParkOnNewJobParams } from '@flowmonkey/core';
import { newExecution } from '@flowmonkey/core/testing';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { JobListener } from '../src/job-listener.js';
import { useTestDatabase } from '../src/testing/index.js';
import { rowCounts, truncateAll } from './helpers.js';

const db = useTestDatabase();
let stores: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  stores = createPgStores({ pool: db().pool, notify: false });
});

/** A step job for `execution` and the execution parked on it, over version 0. */
function parkParams(execution: Execution, runAt?: number): ParkOnNewJobParams {
  const id = randomUUID();
  return {
    job: {
      id,
      handler: 'charge',
      executionId: execution.id,
      stepId: 'pay',
      idempotencyKey: `${execution.id}:pay:1`,
      ...(runAt === undefined ? {} : { runAt }),
    },
    execution: {
      ...execution,
      status: 'waiting',
      waitingOn: { stepId: 'pay', jobId: id, reason: 'job:charge', until: null },
    },
    expectedVersion: 0,
  };
}

async function eventKinds(jobId: string): Promise<string[]> {
  const { rows } = await db().pool.query<{ kind: string }>(
    'SELECT kind FROM flowmonkey.job_events WHERE job_id = $1 ORDER BY id',
    [jobId],
  );
  return rows.map((r) => r.kind);
}

describe('PgStores.parkOnNewJob', () => {
  it("appends the job's created event in the same statement", async () => {
    const { execution } = await stores.executions.create(newExecution());
    const written = await stores.parkOnNewJob(parkParams(execution));
    expect(await eventKinds(written?.job.id ?? '')).toEqual(['created']);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1, executions: 1 });
  });

  it('leaves no job and no event when the execution moved on', async () => {
    const { execution } = await stores.executions.create(newExecution());
    await stores.executions.update({ execution, expectedVersion: 0 });
    await expect(stores.parkOnNewJob(parkParams(execution))).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 0, events: 0 });
  });

  it('parks one of two racing writers: the other writes nothing', async () => {
    const { execution } = await stores.executions.create(newExecution());
    const [a, b] = await Promise.allSettled([
      stores.parkOnNewJob(parkParams(execution)),
      stores.parkOnNewJob(parkParams(execution)),
    ]);
    const won = [a, b].filter((r) => r.status === 'fulfilled' && r.value !== undefined);
    expect(won).toHaveLength(1);
    const lost = [a, b].find((r) => r !== won[0]);
    if (lost?.status === 'rejected') expect(lost.reason).toBeInstanceOf(ConcurrencyError);
    else expect(lost?.value).toBeUndefined();
    const [job] = await stores.jobs.getByExecution(execution.id);
    expect((await stores.executions.get(execution.id))?.waitingOn?.jobId).toBe(job?.id);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1 });
  });

  it('wakes a JobListener through the pool notifier, after the statement', async () => {
    const listener = new JobListener({ pool: db().pool });
    const connected = new Promise((resolve) => listener.once('connected', () => resolve(null)));
    await listener.start();
    await connected;
    try {
      const notifying = createPgStores({ pool: db().pool });
      const coalesced = vi.spyOn(notifying.notifier, 'jobsDue');
      const woke = new Promise((resolve) => listener.once('jobs', () => resolve(null)));
      const { execution } = await notifying.executions.create(newExecution());
      await notifying.parkOnNewJob(parkParams(execution));
      await woke;
      expect(coalesced).toHaveBeenCalledTimes(1);
    } finally {
      await listener.stop();
    }
  });

  it('asks for the wake-up of a due job only', async () => {
    const due = vi.spyOn(stores.notifier, 'jobsDue');
    const later = await stores.executions.create(newExecution());
    await stores.parkOnNewJob(parkParams(later.execution, Date.now() + 3_600_000));
    expect(due).not.toHaveBeenCalled();
    const now = await stores.executions.create(newExecution());
    await stores.parkOnNewJob(parkParams(now.execution));
    expect(due).toHaveBeenCalledTimes(1);
  });
});
