import { ValidationError } from '@flowmonkey/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { GroupCommit } from '../src/group-commit.js';
import { useTestDatabase } from '../src/testing/index.js';
import { truncateAll } from './helpers.js';

describe('GroupCommit', () => {
  it('writes the items added while a write is in flight with one writeMany call', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writeOne = vi.fn(async (n: number) => {
      await gate;
      return n * 10;
    });
    const writeMany = vi.fn(async (items: number[]) => items.map((n) => n * 10));
    const group = new GroupCommit({ writeMany, writeOne });
    const first = group.add(1);
    await Promise.resolve();
    const rest = [2, 3, 4].map((n) => group.add(n));
    release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40]);
    expect(writeOne).toHaveBeenCalledTimes(1);
    expect(writeMany).toHaveBeenCalledTimes(1);
    expect(writeMany).toHaveBeenCalledWith([2, 3, 4]);
  });

  it('retries a failed batch item by item, so each caller gets its own outcome', async () => {
    const writeMany = vi.fn(async (_items: number[]): Promise<number[]> => {
      throw new Error('batch failed');
    });
    const writeOne = vi.fn(async (n: number) => {
      if (n === 2) throw new ValidationError('input', 'bad');
      return n;
    });
    const group = new GroupCommit({ writeMany, writeOne });
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.add(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(writeMany).toHaveBeenCalledTimes(1);
  });
});

describe('PgJobStore.create (group commit)', () => {
  const db = useTestDatabase();
  let stores: PgStores;

  beforeEach(async () => {
    await truncateAll(db().pool);
    stores = createPgStores({ pool: db().pool, notify: false });
  });

  it('gives each of 50 concurrent callers its own job, batching their inserts', async () => {
    const query = vi.spyOn(db().pool, 'query');
    const jobs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => stores.jobs.create({ handler: 'h', input: { i } })),
    );
    expect(jobs.map((j) => j.input)).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(50);
    expect(query.mock.calls.length).toBeLessThan(50);
    const { rows } = await db().pool.query('SELECT count(*)::int AS n FROM flowmonkey.jobs');
    expect(rows[0].n).toBe(50);
  });

  it('returns the same job to concurrent callers with one idempotency key, and fails a bad one alone', async () => {
    const [a, b, bad] = await Promise.allSettled([
      stores.jobs.create({ handler: 'h', idempotencyKey: 'k', input: 1 }),
      stores.jobs.create({ handler: 'h', idempotencyKey: 'k', input: 2 }),
      stores.jobs.create({ handler: 'h', priority: 5000 }),
    ]);
    expect(a.status === 'fulfilled' && b.status === 'fulfilled' && a.value.id === b.value.id).toBe(
      true,
    );
    expect(bad.status === 'rejected' && bad.reason instanceof ValidationError).toBe(true);
    const { rows } = await db().pool.query('SELECT count(*)::int AS n FROM flowmonkey.jobs');
    expect(rows[0].n).toBe(1);
  });
});
