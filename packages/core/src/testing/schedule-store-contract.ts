import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import type { NewSchedule } from '../schedule.js';
import type { Stores } from '../stores/stores.js';
import {
  expectNearNow,
  expectValidationError,
  type StoresFactory,
  useStores,
} from './contract-fixtures.js';
import { describeScheduleTickContract } from './schedule-store-contract-due.js';

const FIRE = Date.UTC(2030, 0, 1, 9, 0, 0);
const NEXT = Date.UTC(2030, 0, 2, 9, 0, 0);

function nightly(overrides: Partial<NewSchedule> = {}): NewSchedule {
  return {
    name: 'nightly',
    cron: '0 9 * * *',
    handler: 'report.build',
    nextFireAt: FIRE,
    ...overrides,
  };
}

/**
 * Registers the `ScheduleStore` contract suite under `describe(name)`: one `describe` per
 * method, against fresh stores from `factory` for every test.
 */
export function describeScheduleStoreContract(name: string, factory: StoresFactory): void {
  describe(`${name}: ScheduleStore contract`, () => {
    const stores = useStores(factory);
    describeSchedules(stores);
    describeFires(stores);
    describeLeadership(stores);
    describeScheduleTickContract(stores);
  });
}

function describeSchedules(stores: () => Stores): void {
  describe('ScheduleStore.upsert', () => {
    it('creates a schedule with defaults filled', async () => {
      const saved = await stores().schedules.upsert(nightly());
      expect(saved).toMatchObject({
        name: 'nightly',
        cron: '0 9 * * *',
        timezone: 'UTC',
        handler: 'report.build',
        queue: 'default',
        input: null,
        priority: 0,
        maxAttempts: 3,
        enabled: true,
        overlap: 'allow',
        lastFireAt: null,
        nextFireAt: FIRE,
      });
      expectNearNow(saved.createdAt);
      expect(await stores().schedules.get('nightly')).toEqual(saved);
    });

    it('replaces a schedule with the same name, keeping its fire history', async () => {
      await stores().schedules.upsert(nightly());
      await stores().schedules.recordFire({
        name: 'nightly',
        fireAt: FIRE,
        nextFireAt: NEXT,
        job: { handler: 'report.build' },
      });
      const replaced = await stores().schedules.upsert(
        nightly({
          cron: '30 8 * * *',
          timezone: 'Europe/London',
          input: { v: 2 },
          nextFireAt: NEXT,
        }),
      );
      expect(replaced).toMatchObject({
        cron: '30 8 * * *',
        timezone: 'Europe/London',
        input: { v: 2 },
        lastFireAt: FIRE,
        nextFireAt: NEXT,
      });
      expect(await stores().schedules.list()).toHaveLength(1);
    });

    it.each([
      ['overlap', { overlap: 'queue' as 'allow' }],
      ['cron', { cron: '' }],
      ['priority', { priority: 0.5 }],
      ['input.when', { input: { when: Number.POSITIVE_INFINITY } }],
    ])('rejects a bad %s and stores nothing', async (field, patch) => {
      await expectValidationError(stores().schedules.upsert(nightly(patch)), field);
      expect(await stores().schedules.list()).toEqual([]);
    });
  });

  describe('ScheduleStore.get', () => {
    it('returns undefined for an unknown name', async () => {
      expect(await stores().schedules.get('nope')).toBeUndefined();
    });
  });

  describe('ScheduleStore.list', () => {
    it('lists every schedule by name', async () => {
      await stores().schedules.upsert(nightly({ name: 'b' }));
      await stores().schedules.upsert(nightly({ name: 'a' }));
      expect((await stores().schedules.list()).map((s) => s.name)).toEqual(['a', 'b']);
    });
  });

  describe('ScheduleStore.remove', () => {
    it('deletes the schedule and says whether there was one', async () => {
      await stores().schedules.upsert(nightly());
      expect(await stores().schedules.remove('nightly')).toBe(true);
      expect(await stores().schedules.get('nightly')).toBeUndefined();
      expect(await stores().schedules.remove('nightly')).toBe(false);
    });
  });

  describe('ScheduleStore.setEnabled', () => {
    it('pauses and resumes a schedule', async () => {
      await stores().schedules.upsert(nightly());
      expect(
        (await stores().schedules.setEnabled({ name: 'nightly', enabled: false })).enabled,
      ).toBe(false);
      expect((await stores().schedules.get('nightly'))?.enabled).toBe(false);
      expect(
        (await stores().schedules.setEnabled({ name: 'nightly', enabled: true })).enabled,
      ).toBe(true);
    });

    it('throws NotFoundError for an unknown name', async () => {
      await expect(
        stores().schedules.setEnabled({ name: 'nope', enabled: true }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}

function describeFires(stores: () => Stores): void {
  describe('ScheduleStore.recordFire', () => {
    it('creates the tick job and advances the schedule', async () => {
      await stores().schedules.upsert(nightly());
      const { job, created } = await stores().schedules.recordFire({
        name: 'nightly',
        fireAt: FIRE,
        nextFireAt: NEXT,
        job: { handler: 'report.build', input: { day: 1 }, runAt: FIRE, priority: 5 },
      });
      expect(created).toBe(true);
      expect(job).toMatchObject({
        handler: 'report.build',
        input: { day: 1 },
        runAt: FIRE,
        priority: 5,
      });
      expect(await stores().jobs.get(job.id)).toEqual(job);
      expect(await stores().schedules.get('nightly')).toMatchObject({
        lastFireAt: FIRE,
        nextFireAt: NEXT,
      });
    });

    it('creates nothing for a tick already recorded and returns the first job', async () => {
      await stores().schedules.upsert(nightly());
      const params = { name: 'nightly', fireAt: FIRE, nextFireAt: NEXT, job: { handler: 'h' } };
      const first = await stores().schedules.recordFire(params);
      const second = await stores().schedules.recordFire({ ...params, job: { handler: 'other' } });
      expect(second).toEqual({ job: first.job, created: false });
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toHaveLength(1);
      const next = await stores().schedules.recordFire({
        ...params,
        fireAt: NEXT,
        nextFireAt: null,
      });
      expect(next.created).toBe(true);
      expect(next.job.id).not.toBe(first.job.id);
    });

    it('creates exactly one job when many schedulers record the same tick at once', async () => {
      await stores().schedules.upsert(nightly());
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          stores().schedules.recordFire({
            name: 'nightly',
            fireAt: FIRE,
            nextFireAt: NEXT,
            job: { handler: 'report.build' },
          }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toHaveLength(1);
    });

    it('rejects a bad job and records no fire', async () => {
      await stores().schedules.upsert(nightly());
      const params = { name: 'nightly', fireAt: FIRE, nextFireAt: NEXT };
      await expectValidationError(
        stores().schedules.recordFire({ ...params, job: { handler: 'h', maxAttempts: -1 } }),
        'maxAttempts',
      );
      expect((await stores().schedules.get('nightly'))?.lastFireAt).toBeNull();
      expect(
        (await stores().schedules.recordFire({ ...params, job: { handler: 'h' } })).created,
      ).toBe(true);
    });

    it('throws NotFoundError for an unknown schedule', async () => {
      await expect(
        stores().schedules.recordFire({
          name: 'nope',
          fireAt: FIRE,
          nextFireAt: null,
          job: { handler: 'h' },
        }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}

function describeLeadership(stores: () => Stores): void {
  describe('ScheduleStore.acquireLeadership', () => {
    it('grants a free lease, renews it for its holder and refuses it to others', async () => {
      const t0 = Date.now();
      const s = stores().schedules;
      const first = await s.acquireLeadership({ holderId: 'a', ttlMs: 10_000, now: t0 });
      expect(first).toMatchObject({ isLeader: true, holderId: 'a', expiresAt: t0 + 10_000 });
      expect(first.term).toBeGreaterThanOrEqual(1);
      const renewed = await s.acquireLeadership({ holderId: 'a', ttlMs: 10_000, now: t0 + 5000 });
      expect(renewed).toEqual({
        isLeader: true,
        holderId: 'a',
        term: first.term,
        expiresAt: t0 + 15_000,
      });
      const refused = await s.acquireLeadership({ holderId: 'b', ttlMs: 10_000, now: t0 + 6000 });
      expect(refused).toEqual({
        isLeader: false,
        holderId: 'a',
        term: first.term,
        expiresAt: t0 + 15_000,
      });
    });

    it('hands a lapsed lease to a new holder with the next term', async () => {
      const t0 = Date.now();
      const s = stores().schedules;
      const first = await s.acquireLeadership({ holderId: 'a', ttlMs: 1000, now: t0 });
      const taken = await s.acquireLeadership({ holderId: 'b', ttlMs: 1000, now: t0 + 1001 });
      expect(taken).toEqual({
        isLeader: true,
        holderId: 'b',
        term: first.term + 1,
        expiresAt: t0 + 2001,
      });
      const old = await s.acquireLeadership({ holderId: 'a', ttlMs: 1000, now: t0 + 1002 });
      expect(old.isLeader).toBe(false);
    });
  });

  describe('ScheduleStore.releaseLeadership', () => {
    it('frees the lease for another holder, and ignores a caller that does not hold it', async () => {
      const t0 = Date.now();
      const s = stores().schedules;
      const first = await s.acquireLeadership({ holderId: 'a', ttlMs: 60_000, now: t0 });
      await s.releaseLeadership({ holderId: 'b' });
      expect(
        (await s.acquireLeadership({ holderId: 'b', ttlMs: 60_000, now: t0 + 1 })).isLeader,
      ).toBe(false);
      await s.releaseLeadership({ holderId: 'a' });
      const next = await s.acquireLeadership({ holderId: 'b', ttlMs: 60_000, now: t0 + 2 });
      expect(next).toMatchObject({ isLeader: true, holderId: 'b', term: first.term + 1 });
    });
  });
}
