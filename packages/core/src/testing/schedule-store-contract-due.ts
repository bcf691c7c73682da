import { describe, expect, it } from 'vitest';
import type { NewSchedule } from '../schedule.js';
import type { Stores } from '../stores/stores.js';
import { expectNearNow, expectValidationError } from './contract-fixtures.js';

const T1 = Date.UTC(2030, 0, 1, 9, 0, 0);
const T2 = Date.UTC(2030, 0, 2, 9, 0, 0);
const T3 = Date.UTC(2030, 0, 3, 9, 0, 0);

function schedule(name: string, nextFireAt: number | null, enabled = true): NewSchedule {
  return { name, cron: '0 9 * * *', handler: 'report.build', nextFireAt, enabled };
}

/**
 * The contract of the methods a scheduler's tick uses: `listDue`, `getLastFire` and
 * `advance`. Registered by `describeScheduleStoreContract`.
 */
export function describeScheduleTickContract(stores: () => Stores): void {
  describe('ScheduleStore.listDue', () => {
    it('lists enabled schedules due at now, earliest first, up to the limit', async () => {
      const s = stores().schedules;
      await s.upsert(schedule('late', T2));
      await s.upsert(schedule('early', T1));
      await s.upsert(schedule('future', T3));
      await s.upsert(schedule('paused', T1, false));
      await s.upsert(schedule('never', null));
      const due = await s.listDue({ limit: 10, now: T2 });
      expect(due.now).toBe(T2);
      expect(due.schedules.map((d) => d.name)).toEqual(['early', 'late']);
      expect((await s.listDue({ limit: 1, now: T2 })).schedules.map((d) => d.name)).toEqual([
        'early',
      ]);
    });

    it("reports the store's own time when no now is given, also when nothing is due", async () => {
      const due = await stores().schedules.listDue({ limit: 10 });
      expect(due.schedules).toEqual([]);
      expectNearNow(due.now);
    });

    it('rejects a bad limit', async () => {
      await expectValidationError(stores().schedules.listDue({ limit: -1 }), 'limit');
    });
  });

  describe('ScheduleStore.getLastFire', () => {
    it('returns the latest tick by fire time with its job, or undefined before any', async () => {
      const s = stores().schedules;
      await s.upsert(schedule('nightly', T1));
      expect(await s.getLastFire({ name: 'nightly' })).toBeUndefined();
      const second = await s.recordFire({
        name: 'nightly',
        fireAt: T2,
        nextFireAt: T3,
        job: { handler: 'report.build' },
      });
      await s.recordFire({ name: 'nightly', fireAt: T1, nextFireAt: T2, job: { handler: 'h' } });
      expect(await s.getLastFire({ name: 'nightly' })).toEqual({
        fireAt: T2,
        jobId: second.job.id,
        job: second.job,
      });
    });
  });

  describe('ScheduleStore.recordFire (order)', () => {
    it('never moves the schedule backwards when an older tick is recorded late', async () => {
      const s = stores().schedules;
      await s.upsert(schedule('nightly', T1));
      await s.recordFire({ name: 'nightly', fireAt: T2, nextFireAt: T3, job: { handler: 'h' } });
      await s.recordFire({ name: 'nightly', fireAt: T1, nextFireAt: T2, job: { handler: 'h' } });
      expect(await s.get('nightly')).toMatchObject({ lastFireAt: T2, nextFireAt: T3 });
    });
  });

  describe('ScheduleStore.advance', () => {
    it('moves nextFireAt only from the expected value, creating no job', async () => {
      const s = stores().schedules;
      await s.upsert(schedule('nightly', T1));
      expect(await s.advance({ name: 'nightly', expectedNextFireAt: T2, nextFireAt: T3 })).toBe(
        false,
      );
      expect((await s.get('nightly'))?.nextFireAt).toBe(T1);
      expect(await s.advance({ name: 'nightly', expectedNextFireAt: T1, nextFireAt: T2 })).toBe(
        true,
      );
      expect(await s.get('nightly')).toMatchObject({ nextFireAt: T2, lastFireAt: null });
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
    });

    it('matches and sets null, and says false for an unknown schedule', async () => {
      const s = stores().schedules;
      await s.upsert(schedule('ended', null));
      expect(await s.advance({ name: 'ended', expectedNextFireAt: null, nextFireAt: T1 })).toBe(
        true,
      );
      expect(await s.advance({ name: 'ended', expectedNextFireAt: T1, nextFireAt: null })).toBe(
        true,
      );
      expect((await s.get('ended'))?.nextFireAt).toBeNull();
      expect(await s.advance({ name: 'nope', expectedNextFireAt: null, nextFireAt: T1 })).toBe(
        false,
      );
    });

    it('lets exactly one of many concurrent callers win', async () => {
      const s = stores().schedules;
      await s.upsert(schedule('nightly', T1));
      const wins = await Promise.all(
        Array.from({ length: 5 }, () =>
          s.advance({ name: 'nightly', expectedNextFireAt: T1, nextFireAt: T2 }),
        ),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
    });
  });
}
