import { type CreateExecutionResult, ValidationError } from '@flowmonkey/core';
import { newExecution } from '@flowmonkey/core/testing';
import pg from 'pg';
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

  it('retries a batch that wrote nothing item by item, so each caller gets its own outcome', async () => {
    const writeMany = vi.fn(async (_items: number[]): Promise<number[]> => {
      throw new ValidationError('items', 'refused before sending');
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

  it('fails every item of a batch lost without an answer (it may have committed) and writes none again', async () => {
    const lost = new Error('Connection terminated unexpectedly');
    const writeMany = vi.fn(async (_items: number[]): Promise<number[]> => {
      throw lost;
    });
    const writeOne = vi.fn(async (n: number) => n);
    const group = new GroupCommit({ writeMany, writeOne });
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.add(n)));
    expect(writeMany).toHaveBeenCalledWith([1, 2, 3]);
    expect(results.map((r) => r.status === 'rejected' && r.reason)).toEqual([lost, lost, lost]);
    expect(writeOne).not.toHaveBeenCalled();
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

describe('PgExecutionStore.create (group commit)', () => {
  const db = useTestDatabase();
  let stores: PgStores;

  beforeEach(async () => {
    await truncateAll(db().pool);
    stores = createPgStores({ pool: db().pool, notify: false });
  });

  /** Names of the execution statements every client sends while `fn` runs. */
  async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
    const query = vi.spyOn(pg.Client.prototype, 'query');
    try {
      await fn();
      return query.mock.calls.map(([config]) =>
        String((config as { name?: string }).name).replace('fm_flowmonkey_executions_', ''),
      );
    } finally {
      query.mockRestore();
    }
  }

  it('gives each of 50 concurrent callers its execution as a read returns it, in fewer statements', async () => {
    const executions = Array.from({ length: 50 }, (_, i) => newExecution({ input: { i } }));
    let created: CreateExecutionResult[] = [];
    const sent = await statementsDuring(async () => {
      created = await Promise.all(executions.map((e) => stores.executions.create(e)));
    });
    expect(sent.every((name) => name === 'create' || name === 'createMany')).toBe(true);
    expect(sent.length).toBeLessThan(50);
    for (const [i, { execution, created: isNew }] of created.entries()) {
      expect(isNew).toBe(true);
      expect(execution.input).toEqual({ i });
      expect(await stores.executions.get(execution.id)).toStrictEqual(execution);
    }
  });

  it('gives two callers with one idempotency key in one batch one execution, and fails a bad one alone', async () => {
    let results: PromiseSettledResult<CreateExecutionResult>[] = [];
    const sent = await statementsDuring(async () => {
      results = await Promise.allSettled([
        stores.executions.create(newExecution({ idempotencyKey: 'k', input: 1 })),
        stores.executions.create(newExecution({ idempotencyKey: 'k', input: 2 })),
        stores.executions.create(newExecution({ stepCount: -1 })),
      ]);
    });
    expect(sent.filter((name) => name.startsWith('create'))).toEqual(['createMany']);
    const [a, b, bad] = results;
    if (a?.status !== 'fulfilled' || b?.status !== 'fulfilled') throw new Error('a create failed');
    expect([a.value.created, b.value.created].sort()).toEqual([false, true]);
    expect(b.value.execution).toStrictEqual(a.value.execution);
    expect(bad?.status === 'rejected' && bad.reason instanceof ValidationError).toBe(true);
    const { rows } = await db().pool.query('SELECT count(*)::int AS n FROM flowmonkey.executions');
    expect(rows[0].n).toBe(1);
  });

  it('writes a batch that a duplicate id fails one create at a time, refusing only the duplicate', async () => {
    const first = stores.executions.create(newExecution());
    const twin = newExecution();
    const results = await Promise.allSettled([
      stores.executions.create({ ...twin, input: 'one' }),
      stores.executions.create({ ...twin, input: 'two' }),
    ]);
    await first;
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.execution] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(won).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as ValidationError).field).toBe('id');
    expect(await stores.executions.get(twin.id)).toStrictEqual(won[0]);
  });
});
