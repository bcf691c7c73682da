import { LeaseLostError, NotFoundError, ValidationError } from '@flowmonkey/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { createTestPool, insertJob, useTestDatabase } from '../src/testing/index.js';
import { rowCounts, truncateAll } from './helpers.js';

const db = useTestDatabase();
let stores: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  stores = createPgStores({ pool: db().pool, notify: false });
});

describe('PgJobStore.claimBatch', () => {
  it('hands each of 2,000 jobs to exactly one of 8 concurrent claimers', async () => {
    const jobs = Array.from({ length: 2000 }, (_, i) => ({ handler: 'h', priority: i % 5 }));
    for (let i = 0; i < jobs.length; i += 500) await stores.jobs.createMany(jobs.slice(i, i + 500));
    const pools = Array.from({ length: 8 }, () =>
      createTestPool(db().connectionString, { max: 1 }),
    );
    try {
      const claimed = await Promise.all(
        pools.map(async (pool, r) => {
          const mine = createPgStores({ pool, notify: false });
          const ids: string[] = [];
          for (;;) {
            const batch = await mine.jobs.claimBatch({ runnerId: `r${r}`, limit: 25 });
            if (batch.length === 0) return ids;
            ids.push(...batch.map((j) => j.id));
          }
        }),
      );
      const all = claimed.flat();
      expect(all).toHaveLength(2000);
      expect(new Set(all).size).toBe(2000);
      const { rows } = await db().pool.query(
        "SELECT count(*)::int AS n FROM flowmonkey.jobs WHERE status = 'running' AND attempts = 1",
      );
      expect(rows[0].n).toBe(2000);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('claims higher priority first, then older runAt, and only due jobs (by injected now)', async () => {
    const t0 = Date.UTC(2030, 0, 1);
    const low = await stores.jobs.create({ handler: 'h', priority: 0, runAt: t0 - 2000 });
    const high = await stores.jobs.create({ handler: 'h', priority: 10, runAt: t0 - 1000 });
    const older = await stores.jobs.create({ handler: 'h', priority: 0, runAt: t0 - 3000 });
    await stores.jobs.create({ handler: 'h', priority: 99, runAt: t0 + 1000 });
    const batch = await stores.jobs.claimBatch({ runnerId: 'r', limit: 10, now: t0 });
    expect(batch.map((j) => j.id)).toEqual([high.id, older.id, low.id]);
    expect(batch.every((j) => j.heartbeatAt === t0 && j.leaseId !== null)).toBe(true);
  });
});

describe('PgJobStore fencing', () => {
  it('refuses heartbeat, progress, complete and fail with a stale lease and changes nothing', async () => {
    const stale = await insertJob(db().pool, {
      status: 'running',
      heartbeatAt: Date.now() - 600_000,
    });
    const [reaped] = await stores.jobs.findStalled({ stalledThresholdMs: 60_000, limit: 10 });
    expect(reaped?.id).toBe(stale.id);
    await stores.jobs.resetStalled({ jobId: stale.id, leaseId: stale.leaseId as string });
    const [again] = await stores.jobs.claimBatch({ runnerId: 'new', limit: 1 });
    expect(again?.id).toBe(stale.id);
    const before = await db().pool.query('SELECT * FROM flowmonkey.jobs');
    const events = await rowCounts(db().pool);
    const lease = { jobId: stale.id, leaseId: stale.leaseId as string };
    const attempts = [
      () => stores.jobs.heartbeat(lease),
      () => stores.jobs.progress({ ...lease, percent: 50 }),
      () => stores.jobs.complete({ ...lease, result: 'late' }),
      () => stores.jobs.fail({ ...lease, error: { code: 'X', message: 'late' } }),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(LeaseLostError);
    expect((await db().pool.query('SELECT * FROM flowmonkey.jobs')).rows).toEqual(before.rows);
    expect(await rowCounts(db().pool)).toEqual(events);
  });
});

describe('PgJobStore.create', () => {
  it('makes one job from concurrent enqueues with one idempotency key', async () => {
    const pools = Array.from({ length: 4 }, () =>
      createTestPool(db().connectionString, { max: 2 }),
    );
    try {
      const results = await Promise.all(
        pools.flatMap((pool) => {
          const s = createPgStores({ pool, notify: false });
          return [1, 2, 3].map(() => s.jobs.create({ handler: 'h', idempotencyKey: 'once' }));
        }),
      );
      expect(new Set(results.map((j) => j.id)).size).toBe(1);
      expect((await rowCounts(db().pool)).jobs).toBe(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('creates many in input order, all or none', async () => {
    const jobs = await stores.jobs.createMany([{ handler: 'a' }, { handler: 'b' }]);
    expect(jobs.map((j) => j.handler)).toEqual(['a', 'b']);
    await expect(
      stores.jobs.createMany([{ handler: 'c' }, { handler: 'd', priority: 5000 }]),
    ).rejects.toBeInstanceOf(ValidationError);
    expect((await rowCounts(db().pool)).jobs).toBe(2);
  });

  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const bad: [string, Record<string, unknown>, string][] = [
    ['a BigInt input', { input: { n: 1n } }, 'input.n'],
    ['a cyclic input', { input: cycle }, 'input.self'],
    ['a NUL in a string', { input: { s: 'a\u0000b' } }, 'input.s'],
    ['a lone surrogate', { input: ['\uD800'] }, 'input[0]'],
    ['a payload over 1 MiB', { input: 'x'.repeat(1024 * 1024 + 1) }, 'input'],
    ['a priority above the range', { priority: 1001 }, 'priority'],
    ['a fractional priority', { priority: 1.5 }, 'priority'],
    ['a NaN runAt', { runAt: Number.NaN }, 'runAt'],
    ['a far-future runAt', { runAt: Date.UTC(20000, 0, 1) }, 'runAt'],
    ['zero maxAttempts', { maxAttempts: 0 }, 'maxAttempts'],
    ['a malformed id', { id: 'not-a-uuid' }, 'id'],
  ];
  it.each(bad)('rejects %s with ValidationError and writes nothing', async (_, job, field) => {
    const error = await stores.jobs.create({ handler: 'h', ...job }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(await rowCounts(db().pool)).toEqual({ jobs: 0, events: 0, executions: 0, schedules: 0 });
  });

  it('enforces a smaller maxPayloadBytes', async () => {
    const small = createPgStores({ pool: db().pool, notify: false, maxPayloadBytes: 100 });
    await expect(small.jobs.create({ handler: 'h', input: 'x'.repeat(200) })).rejects.toThrow(
      ValidationError,
    );
    expect((await rowCounts(db().pool)).jobs).toBe(0);
  });

  it('throws NotFoundError when cancelling an unknown id', async () => {
    await expect(stores.jobs.cancel({ jobId: crypto.randomUUID() })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(stores.jobs.cancel({ jobId: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('PgJobStore job events', () => {
  it('records created, claimed, progress and completed with attempt and lease', async () => {
    const job = await stores.jobs.create({ handler: 'h' });
    const [claimed] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 });
    const lease = { jobId: job.id, leaseId: claimed?.leaseId as string };
    await stores.jobs.progress({ ...lease, percent: 40, message: 'half' });
    const done = await stores.jobs.complete({ ...lease, result: { ok: true } });
    expect(done).toMatchObject({ status: 'completed', result: { ok: true }, leaseId: null });
    const { rows } = await db().pool.query(
      'SELECT kind, attempt, lease_id FROM flowmonkey.job_events WHERE job_id = $1 ORDER BY id',
      [job.id],
    );
    expect(rows).toEqual([
      { kind: 'created', attempt: 0, lease_id: null },
      { kind: 'claimed', attempt: 1, lease_id: lease.leaseId },
      { kind: 'progress', attempt: 1, lease_id: lease.leaseId },
      { kind: 'completed', attempt: 1, lease_id: lease.leaseId },
    ]);
  });
});
