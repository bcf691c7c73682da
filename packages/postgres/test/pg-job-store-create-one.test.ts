import { setTimeout as delay } from 'node:timers/promises';
import { type Job, ValidationError } from '@flowmonkey/core';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobsChannel } from '../src/channels.js';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { createTestPool, useTestDatabase } from '../src/testing/index.js';
import { rowCounts, truncateAll, wakesListener } from './helpers.js';

const db = useTestDatabase();
let stores: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  stores = createPgStores({ pool: db().pool, notify: false });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * The queries every client of this process sends while `fn` runs: a job statement by its
 * method name (`createOne`), any other query by its text.
 */
async function queriesDuring<T>(fn: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const query = vi.spyOn(pg.Client.prototype, 'query');
  try {
    const result = await fn();
    const queries = query.mock.calls.map(([config]: unknown[]) => {
      if (typeof config === 'string') return config;
      const { name, text } = config as { name?: string; text?: string };
      return name?.replace('fm_flowmonkey_jobs_', '') ?? String(text);
    });
    return { result, queries };
  } finally {
    query.mockRestore();
  }
}

async function eventsOf(jobId: string): Promise<Record<string, unknown>[]> {
  const { rows } = await db().pool.query(
    `SELECT e.kind, e.attempt, e.lease_id, e.data, e.at = j.created_at AS at_creation
     FROM flowmonkey.job_events e JOIN flowmonkey.jobs j ON j.id = e.job_id
     WHERE e.job_id = $1 ORDER BY e.id`,
    [jobId],
  );
  return rows;
}

const CREATED = { kind: 'created', attempt: 0, lease_id: null, data: null, at_creation: true };

/** Resolves once some backend of the test database waits for a lock (polled). */
async function someoneWaitsForALock(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await db().pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n > 0) return;
    await delay(10);
  }
  throw new Error('no backend started waiting for a lock');
}

describe('PgJobStore.create (one job, one row statement)', () => {
  it('writes a lone create with the one-row statement and its created event', async () => {
    const { result: job, queries } = await queriesDuring(() =>
      stores.jobs.create({ handler: 'h', input: { a: [1, 'two'] }, retry: { baseDelayMs: 5 } }),
    );
    expect(queries).toEqual(['createOne']);
    expect(job).toMatchObject({ status: 'pending', input: { a: [1, 'two'] }, attempts: 0 });
    expect(job.retry).toEqual({ baseDelayMs: 5 });
    expect(await stores.jobs.get(job.id)).toEqual(job);
    expect(await eventsOf(job.id)).toEqual([CREATED]);
  });

  it('returns the job as a read gives it back, with every field set', async () => {
    const at = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6));
    const id = '01A2B3C4-D5E6-7F80-9123-456789ABCDEF';
    const job = await stores.jobs.create({
      id,
      queue: 'q',
      handler: 'h',
      executionId: 'exec-1',
      stepId: 'step-1',
      input: { at, gone: undefined, n: [1.5, null] },
      priority: 7,
      runAt: at.getTime(),
      maxAttempts: 9,
      timeoutMs: 1234,
      retry: { strategy: 'FIXED', baseDelayMs: 10 },
      idempotencyKey: 'key-1',
      correlationId: 'corr-1',
    });
    expect(job).toEqual(await stores.jobs.get(id.toLowerCase()));
    expect(job).toMatchObject({
      id: id.toLowerCase(),
      input: { at: at.toISOString(), n: [1.5, null] },
    });
  });

  it('writes a create inside a transaction with the one-row statement too', async () => {
    const { result: job, queries } = await queriesDuring(() =>
      stores.transaction((tx) => tx.jobs.create({ handler: 'h', input: 'in-tx' })),
    );
    expect(queries).toEqual(['BEGIN', 'createOne', 'COMMIT']);
    expect(await stores.jobs.get(job.id)).toEqual(job);
    expect(await eventsOf(job.id)).toEqual([CREATED]);
  });

  it('takes a default runAt from the database clock, not the caller’s', async () => {
    const past = Date.UTC(2001, 0, 1);
    vi.spyOn(Date, 'now').mockReturnValue(past);
    const pooled = await stores.jobs.create({ handler: 'h' });
    const inTx = await stores.transaction((tx) => tx.jobs.create({ handler: 'h' }));
    vi.mocked(Date.now).mockRestore();
    for (const job of [pooled, inTx]) {
      expect(job.runAt).toBe(job.createdAt);
      expect(job.runAt).toBeGreaterThan(Date.UTC(2020, 0, 1));
    }
    const { rows } = await db().pool.query(
      'SELECT bool_and(run_at = created_at) AS same FROM flowmonkey.jobs',
    );
    expect(rows[0].same).toBe(true);
  });

  it('keeps a runAt given, to the millisecond', async () => {
    const runAt = Date.UTC(2031, 1, 2, 3, 4, 5, 678);
    const job = await stores.jobs.create({ handler: 'h', runAt });
    expect(job.runAt).toBe(runAt);
    expect((await stores.jobs.get(job.id))?.runAt).toBe(runAt);
  });
});

describe('PgJobStore.create (one job) with an idempotency key', () => {
  it('returns the first job to a second create with the key, writing nothing more', async () => {
    const first = await stores.jobs.create({ handler: 'h', idempotencyKey: 'k', input: 1 });
    const { result: second, queries } = await queriesDuring(() =>
      stores.jobs.create({ handler: 'other', idempotencyKey: 'k', input: 2 }),
    );
    expect(queries).toEqual(['createOne', 'getByIdempotencyKeys']);
    expect(second).toEqual(first);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1 });
  });

  it('returns the job a batch created with the key, and works inside a transaction', async () => {
    const [batched] = await stores.jobs.createMany([
      { handler: 'h', idempotencyKey: 'b' },
      { handler: 'h' },
    ]);
    expect(await stores.jobs.create({ handler: 'h', idempotencyKey: 'b' })).toEqual(batched);
    const [a, b] = await stores.transaction(async (tx) => [
      await tx.jobs.create({ handler: 'h', idempotencyKey: 't', input: 'a' }),
      await tx.jobs.create({ handler: 'h', idempotencyKey: 't', input: 'b' }),
    ]);
    expect(b).toEqual(a);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 3, events: 3 });
  });

  it('gives concurrent creates with one key from separate pools the same single job', async () => {
    const pools = Array.from({ length: 6 }, () =>
      createTestPool(db().connectionString, { max: 1 }),
    );
    try {
      const results = await Promise.all(
        pools.map((pool, i) =>
          createPgStores({ pool, notify: false }).jobs.create({
            handler: 'h',
            idempotencyKey: 'same',
            input: i,
          }),
        ),
      );
      expect(new Set(results.map((j) => j.id)).size).toBe(1);
      for (const job of results) expect(job).toEqual(results[0]);
      expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1 });
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('waits for an uncommitted insert of the key and returns that job once it commits', async () => {
    let racing: Promise<Job> | undefined;
    const mine = await stores.transaction(async (tx) => {
      const job = await tx.jobs.create({ handler: 'h', idempotencyKey: 'race', input: 'tx' });
      racing = stores.jobs.create({ handler: 'h', idempotencyKey: 'race', input: 'pool' });
      await someoneWaitsForALock();
      return job;
    });
    expect(await racing).toEqual(mine);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1 });
  });

  it('inserts its own job when the uncommitted insert of the key rolls back', async () => {
    let racing: Promise<Job> | undefined;
    const aborted = stores.transaction(async (tx) => {
      await tx.jobs.create({ handler: 'h', idempotencyKey: 'race', input: 'tx' });
      racing = stores.jobs.create({ handler: 'h', idempotencyKey: 'race', input: 'pool' });
      await someoneWaitsForALock();
      throw new Error('abort');
    });
    await expect(aborted).rejects.toThrow('abort');
    const job = await racing;
    expect(job?.input).toBe('pool');
    expect(await eventsOf(job?.id as string)).toEqual([CREATED]);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1 });
  });
});

describe('PgJobStore.create (one job) wake-ups', () => {
  it('wakes a JobListener with the NOTIFY sent inside the insert', async () => {
    const notifying = createPgStores({ pool: db().pool });
    const separate = vi.spyOn(notifying.notifier, 'jobsDue');
    let queries: string[] = [];
    await wakesListener(db().pool, async () => {
      ({ queries } = await queriesDuring(() => notifying.jobs.create({ handler: 'h' })));
    });
    expect(queries).toEqual(['createOne']);
    expect(separate).not.toHaveBeenCalled();
  });

  it('notifies for a due job only', async () => {
    const channel = jobsChannel('flowmonkey');
    const client = new pg.Client({ connectionString: db().connectionString });
    await client.connect();
    try {
      await client.query(`LISTEN "${channel}"`);
      const payloads: string[] = [];
      const two = new Promise<void>((resolve) => {
        client.on('notification', (n) => {
          payloads.push(n.payload ?? '');
          if (payloads.length === 2) resolve();
        });
      });
      const notifying = createPgStores({ pool: db().pool });
      await notifying.jobs.create({ handler: 'h', runAt: Date.now() + 3_600_000 });
      await db().pool.query(`SELECT pg_notify($1, 'marker')`, [channel]);
      await notifying.jobs.create({ handler: 'h' });
      await two;
      expect(payloads).toEqual(['marker', '']);
    } finally {
      await client.end();
    }
  });

  it('holds the wake-up of a create in a transaction until commit, and sends none for a later job', async () => {
    const notifying = createPgStores({ pool: db().pool });
    const sent: string[] = [];
    notifying.notifier.jobsDue = () => {
      sent.push('jobs');
    };
    await notifying.transaction(async (tx) => {
      await tx.jobs.create({ handler: 'h', runAt: Date.now() + 3_600_000 });
    });
    expect(sent).toEqual([]);
    await notifying.transaction(async (tx) => {
      await tx.jobs.create({ handler: 'h' });
      expect(sent).toEqual([]);
    });
    expect(sent).toEqual(['jobs']);
  });

  it('asks the notifier for the wake-up when notifications are off (it sends nothing)', async () => {
    const due = vi.spyOn(stores.notifier, 'jobsDue');
    const { queries } = await queriesDuring(async () => {
      await stores.jobs.create({ handler: 'h', runAt: Date.now() + 3_600_000 });
      expect(due).not.toHaveBeenCalled();
      await stores.jobs.create({ handler: 'h' });
    });
    expect(due).toHaveBeenCalledTimes(1);
    expect(queries).toEqual(['createOne', 'createOne']);
  });
});

describe('PgJobStore.create (one job) bad input', () => {
  it('names the bad field and sends no statement at all', async () => {
    const { result: error, queries } = await queriesDuring(() =>
      stores.jobs.create({ handler: 'h', input: { deep: [1, 2n] } }).catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('input.deep[1]');
    expect(queries).toEqual([]);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 0, events: 0 });
  });

  it('names the bad field inside a transaction, which then writes nothing', async () => {
    const outcome = stores.transaction(async (tx) => {
      await tx.jobs.create({ handler: 'h' });
      await tx.jobs.create({ handler: 'h', priority: 5000 });
    });
    await expect(outcome).rejects.toMatchObject({ field: 'priority' });
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 0, events: 0 });
  });

  it('maps a duplicate id (SQLSTATE 23505) to a ValidationError naming id, adding no event', async () => {
    const first = await stores.jobs.create({ handler: 'h' });
    const error = await stores.jobs.create({ handler: 'h', id: first.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'id', details: { sqlstate: '23505' } });
    expect((error as ValidationError).cause).toBeInstanceOf(Error);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1 });
  });
});
