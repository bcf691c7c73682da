import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Execution } from '../execution.js';
import type { ExecutionStore } from '../stores/execution-store.js';
import type { Stores } from '../stores/stores.js';
import { expectValidationError, newExecution } from './contract-fixtures.js';

type GetMany = NonNullable<ExecutionStore['getMany']>;
type UpdateMany = NonNullable<ExecutionStore['updateMany']>;

/**
 * Contract tests of the optional batch methods `ExecutionStore.getMany` and `updateMany`
 * (each test returns early for a store without the method).
 */
export function describeExecutionBatchContract(stores: () => Stores): void {
  const created = async (patch: Partial<Execution> = {}) =>
    (await stores().executions.create(newExecution(patch))).execution;
  const getMany = (): GetMany | undefined => stores().executions.getMany?.bind(stores().executions);
  const updateMany = (): UpdateMany | undefined =>
    stores().executions.updateMany?.bind(stores().executions);

  describe('ExecutionStore.getMany', () => {
    it('returns the executions found, in input order, each once; missing ids are left out', async () => {
      const fn = getMany();
      if (fn === undefined) return;
      const [a, b, c] = [await created(), await created({ status: 'waiting' }), await created()];
      const found = await fn([c.id, randomUUID(), a.id, c.id, b.id]);
      expect(found.map((e) => e.id)).toEqual([c.id, a.id, b.id]);
      expect(found[0]).toStrictEqual(await stores().executions.get(c.id));
      expect(await fn([])).toEqual([]);
      expect(await fn([randomUUID(), ''])).toEqual([]);
    });

    it('rejects executionIds that is not an array', async () => {
      const fn = getMany();
      if (fn === undefined) return;
      await expectValidationError(fn('abc' as unknown as string[]), 'executionIds');
    });
  });

  describe('ExecutionStore.updateMany', () => {
    it('writes every item with version + 1 and returns them as stored, in input order', async () => {
      const fn = updateMany();
      if (fn === undefined) return;
      const [a, b] = [await created(), await created()];
      const out = await fn({
        items: [
          { execution: { ...b, status: 'completed', output: { ok: 'b' } }, expectedVersion: 0 },
          { execution: { ...a, stepCount: 4, context: { input: 1, x: [1] } }, expectedVersion: 0 },
        ],
      });
      expect(out.conflicts).toEqual([]);
      expect(out.updated.map((e) => [e.id, e.version])).toEqual([
        [b.id, 1],
        [a.id, 1],
      ]);
      expect(out.updated[0]).toMatchObject({ status: 'completed', output: { ok: 'b' } });
      expect(await stores().executions.get(a.id)).toStrictEqual(out.updated[1]);
      expect(out.updated[1]).toMatchObject({ stepCount: 4, context: { input: 1, x: [1] } });
      expect(await fn({ items: [] })).toEqual({ updated: [], conflicts: [] });
    });

    it('returns each written execution as a read gives it back, values JSON changes included', async () => {
      const fn = updateMany();
      if (fn === undefined) return;
      const e = await created();
      const at = new Date('2026-01-02T03:04:05.678Z');
      const execution = {
        ...e,
        context: { at, gone: undefined, list: [1, 'two', { three: null }] },
        output: { at },
        updatedAt: e.updatedAt + 0.5,
        wakeAt: e.updatedAt + 60_000.7,
      } as typeof e;
      const out = await fn({ items: [{ execution, expectedVersion: 0 }] });
      const read = await stores().executions.get(e.id);
      expect(out.updated).toStrictEqual([read]);
      expect(read?.context).toStrictEqual({
        at: at.toISOString(),
        list: [1, 'two', { three: null }],
      });
      expect(read?.updatedAt).toBe(Math.trunc(e.updatedAt));
      expect(read?.wakeAt).toBe(Math.trunc(e.updatedAt + 60_000.7));
    });

    it('lists stale and unknown items as conflicts, writing nothing for them and the rest as usual', async () => {
      const fn = updateMany();
      if (fn === undefined) return;
      const [moved, fresh] = [await created(), await created()];
      const first = await stores().executions.update({
        execution: { ...moved, stepCount: 1 },
        expectedVersion: 0,
      });
      const unknown = newExecution();
      const out = await fn({
        items: [
          { execution: { ...moved, stepCount: 99 }, expectedVersion: 0 },
          { execution: { ...fresh, stepCount: 2 }, expectedVersion: 0 },
          { execution: unknown, expectedVersion: 0 },
        ],
      });
      expect(out.conflicts).toEqual([moved.id, unknown.id]);
      expect(out.updated.map((e) => e.id)).toEqual([fresh.id]);
      expect(await stores().executions.get(moved.id)).toEqual(first);
      expect(await stores().executions.get(unknown.id)).toBeUndefined();
      expect((await stores().executions.get(fresh.id))?.stepCount).toBe(2);
    });

    it('lets exactly one of two concurrent batches updating one execution from the same version win', async () => {
      const fn = updateMany();
      if (fn === undefined) return;
      const e = await created();
      const [one, two] = await Promise.all([
        fn({ items: [{ execution: { ...e, stepCount: 1 }, expectedVersion: 0 }] }),
        fn({ items: [{ execution: { ...e, stepCount: 2 }, expectedVersion: 0 }] }),
      ]);
      expect([one.updated.length, two.updated.length].sort()).toEqual([0, 1]);
      expect([...one.conflicts, ...two.conflicts]).toEqual([e.id]);
      const winner = one.updated[0] ?? two.updated[0];
      expect(await stores().executions.get(e.id)).toEqual(winner);
    });

    it('rejects a bad item, naming it, and writes none of the items', async () => {
      const fn = updateMany();
      if (fn === undefined) return;
      const [a, b] = [await created(), await created()];
      const good = { execution: { ...a, stepCount: 5 }, expectedVersion: 0 };
      const cases: [Parameters<UpdateMany>[0]['items'], string][] = [
        [
          [good, { execution: { ...b, output: { big: 1n } }, expectedVersion: 0 }],
          'items[1].execution.output.big',
        ],
        [
          [good, { execution: { ...b, status: 'bogus' as 'running' }, expectedVersion: 0 }],
          'items[1].execution.status',
        ],
        [[good, { execution: b, expectedVersion: -1 }], 'items[1].expectedVersion'],
        [[good, { ...good, execution: { ...a, stepCount: 6 } }], 'items[1].execution.id'],
        [[good, null as unknown as typeof good], 'items[1]'],
      ];
      for (const [items, field] of cases) await expectValidationError(fn({ items }), field);
      await expectValidationError(fn({ items: 'x' as unknown as [] }), 'items');
      expect((await stores().executions.get(a.id))?.version).toBe(0);
      expect((await stores().executions.get(b.id))?.version).toBe(0);
    });

    it('commits or rolls back with the transaction it runs in', async () => {
      const fn = updateMany();
      if (fn === undefined) return;
      const e = await created();
      const run = stores().transaction(async (tx) => {
        const out = await tx.executions.updateMany?.({
          items: [{ execution: { ...e, stepCount: 3 }, expectedVersion: 0 }],
        });
        expect(out?.updated).toHaveLength(1);
        throw new Error('rollback');
      });
      await expect(run).rejects.toThrow('rollback');
      expect((await stores().executions.get(e.id))?.version).toBe(0);
    });
  });
}
