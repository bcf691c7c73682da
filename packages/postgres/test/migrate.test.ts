import { readdirSync } from 'node:fs';
import { ConfigError } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { createPgStores } from '../src/create-pg-stores.js';
import { migrate } from '../src/migrate.js';
import { createTestPool, useTestDatabase } from '../src/testing/index.js';

/** Every migration shipped, by name (`00002_dead_letters_retention.sql` → `dead_letters_retention`). */
const SHIPPED = readdirSync(new URL('../migrations/', import.meta.url))
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => file.replace(/^\d+_/, '').replace(/\.sql$/, ''));

describe('migrate', () => {
  const db = useTestDatabase();

  it('ships migrations numbered from 1 without gaps', () => {
    expect(SHIPPED[0]).toBe('initial');
    const numbers = readdirSync(new URL('../migrations/', import.meta.url))
      .filter((file) => file.endsWith('.sql'))
      .map((file) => Number(file.slice(0, 5)))
      .sort((a, b) => a - b);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  });

  it('is a no-op on an up-to-date schema', async () => {
    const first = await migrate({ pool: db().pool, schema: 'again' });
    expect(first.applied).toEqual(SHIPPED);
    const second = await migrate({ pool: db().pool, schema: 'again' });
    expect(second.applied).toEqual([]);
    const { rows } = await db().pool.query('SELECT count(*)::int AS n FROM again.migrations');
    expect(rows[0].n).toBe(SHIPPED.length + 1); // the library's bookkeeping row plus ours
  });

  it('succeeds from two pools at once, applying each migration exactly once', async () => {
    const a = createTestPool(db().connectionString);
    const b = createTestPool(db().connectionString);
    try {
      const results = await Promise.all([
        migrate({ pool: a, schema: 'racing' }),
        migrate({ pool: b, schema: 'racing' }),
      ]);
      expect(results.flatMap((r) => r.applied)).toEqual(SHIPPED);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('keeps two schemas in one database apart', async () => {
    await migrate({ pool: db().pool, schema: 'tenant_a' });
    await migrate({ connectionString: db().connectionString, schema: 'tenant_b' });
    const a = createPgStores({ pool: db().pool, schema: 'tenant_a', notify: false });
    const b = createPgStores({ pool: db().pool, schema: 'tenant_b', notify: false });
    const job = await a.jobs.create({ handler: 'h' });
    expect(await a.jobs.get(job.id)).toBeDefined();
    expect(await b.jobs.get(job.id)).toBeUndefined();
    // The all-or-nothing guard of migration 00006 is found in the schema's own functions.
    const [claimed] = await a.jobs.claimBatch({ runnerId: 'r', limit: 1 });
    const lost = { jobId: job.id, leaseId: '00000000-0000-4000-8000-000000000000', result: 1 };
    expect(await a.completeAndResumeMany({ items: [lost], executions: [] })).toBeUndefined();
    const items = [{ jobId: job.id, leaseId: claimed?.leaseId ?? '', result: 1 }];
    expect(await a.completeAndResumeMany({ items, executions: [] })).toBeDefined();
    expect(await a.jobs.get(job.id)).toMatchObject({ status: 'completed', result: 1 });
  });

  it.each(['Public', 'a-b', 'x"; DROP TABLE jobs; --', '', '1abc', 'a'.repeat(64)])(
    'refuses the unsafe schema name %j with ConfigError',
    async (schema) => {
      await expect(migrate({ pool: db().pool, schema })).rejects.toBeInstanceOf(ConfigError);
      expect(() => createPgStores({ pool: db().pool, schema })).toThrow(ConfigError);
      const { rows } = await db().pool.query(
        'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1',
        [schema],
      );
      expect(rows[0].n).toBe(0);
    },
  );
});
