import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, NotFoundError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { Stores } from '../stores/stores.js';
import {
  expectValidationError,
  newExecution,
  type StoresFactory,
  useStores,
} from './contract-fixtures.js';
import { describeExecutionBatchContract } from './execution-batch-contract.js';

/** The fields of an execution a store must keep exactly (the timestamps may be its own). */
function persisted(execution: Execution): Omit<Execution, 'createdAt' | 'updatedAt'> {
  const { createdAt: _created, updatedAt: _updated, ...rest } = execution;
  return rest;
}

/** A waiting execution with a rich payload, to check that everything round-trips. */
function richExecution(overrides: Partial<Execution> = {}): Execution {
  return newExecution({
    status: 'waiting',
    context: { input: { order: 42 }, charge: { id: 'ch_1', amount: 9.99, tags: ['a', 'b'] } },
    history: [
      {
        stepId: 'charge',
        attempt: 1,
        startedAt: 1_700_000_000_000,
        finishedAt: null,
        outcome: null,
        jobId: randomUUID(),
        error: null,
      },
    ],
    stepCount: 2,
    waitingOn: { stepId: 'charge', jobId: null, reason: 'timer', until: 1_700_000_100_000 },
    wakeAt: 1_700_000_100_000,
    error: { code: 'E', message: 'm', details: { n: 1 } },
    tenantId: 'tenant-1',
    parentExecutionId: 'parent-1',
    ...overrides,
  });
}

/**
 * Registers the `ExecutionStore` contract suite under `describe(name)`: one `describe` per
 * method, against fresh stores from `factory` for every test.
 */
export function describeExecutionStoreContract(name: string, factory: StoresFactory): void {
  describe(`${name}: ExecutionStore contract`, () => {
    const stores = useStores(factory);
    describeCreateAndGet(stores);
    describeUpdate(stores);
    describeQueries(stores);
    describeExecutionBatchContract(stores);
  });
}

function describeCreateAndGet(stores: () => Stores): void {
  describe('ExecutionStore.create', () => {
    it('stores the execution with every field, at version 0', async () => {
      const execution = richExecution();
      const result = await stores().executions.create(execution);
      expect(result.created).toBe(true);
      expect(persisted(result.execution)).toEqual(persisted(execution));
      expect(persisted((await stores().executions.get(execution.id)) as Execution)).toEqual(
        persisted(execution),
      );
    });

    it('returns the execution as a read gives it back, values JSON changes included', async () => {
      const at = new Date('2026-01-02T03:04:05.678Z');
      const base = richExecution();
      const execution = {
        ...base,
        context: { at, gone: undefined, list: [1, 'two', { three: null }] },
        createdAt: base.createdAt + 0.5,
        updatedAt: base.updatedAt + 0.25,
        wakeAt: base.updatedAt + 60_000.7,
      } as Execution;
      const { execution: created } = await stores().executions.create(execution);
      const read = await stores().executions.get(execution.id);
      expect(created).toStrictEqual(read);
      expect(read?.context).toStrictEqual({
        at: at.toISOString(),
        list: [1, 'two', { three: null }],
      });
      expect(read?.createdAt).toBe(Math.trunc(base.createdAt + 0.5));
      expect(read?.wakeAt).toBe(Math.trunc(base.updatedAt + 60_000.7));
    });

    it('returns the first execution of the same flow for an idempotency key already used', async () => {
      const first = await stores().executions.create(newExecution({ idempotencyKey: 'k1' }));
      const again = await stores().executions.create(
        newExecution({ idempotencyKey: 'k1', input: { other: true } }),
      );
      expect(again.created).toBe(false);
      expect(again.execution.id).toBe(first.execution.id);
      expect(again.execution.input).toEqual(first.execution.input);
      expect(await stores().executions.list({ limit: 10 })).toHaveLength(1);
    });

    it('scopes idempotency keys per flow', async () => {
      await stores().executions.create(newExecution({ idempotencyKey: 'k1', flowId: 'a' }));
      const other = await stores().executions.create(
        newExecution({ idempotencyKey: 'k1', flowId: 'b' }),
      );
      expect(other.created).toBe(true);
    });

    it('rejects a version other than 0 and stores nothing', async () => {
      const execution = newExecution({ version: 3 });
      await expectValidationError(stores().executions.create(execution), 'version');
      expect(await stores().executions.get(execution.id)).toBeUndefined();
    });

    it('rejects a payload PostgreSQL cannot store, naming its path, and stores nothing', async () => {
      const execution = newExecution({ context: { input: {}, step: { total: Number.NaN } } });
      await expectValidationError(stores().executions.create(execution), 'context.step.total');
      const nul = newExecution({ input: { note: 'a\u0000b' } });
      await expectValidationError(stores().executions.create(nul), 'input.note');
      expect(await stores().executions.list({ limit: 10 })).toEqual([]);
    });

    it('returns a copy: mutating what it returned does not change the stored execution', async () => {
      const { execution } = await stores().executions.create(newExecution());
      execution.context.injected = true;
      expect((await stores().executions.get(execution.id))?.context).not.toHaveProperty('injected');
    });
  });

  describe('ExecutionStore.get', () => {
    it('returns undefined for an unknown id', async () => {
      expect(await stores().executions.get(randomUUID())).toBeUndefined();
    });
  });
}

function describeUpdate(stores: () => Stores): void {
  describe('ExecutionStore.update', () => {
    it('writes the execution with version + 1 and returns what was stored', async () => {
      const { execution } = await stores().executions.create(newExecution());
      const changed = {
        ...execution,
        status: 'completed' as const,
        output: { ok: 1 },
        stepCount: 3,
      };
      const stored = await stores().executions.update({ execution: changed, expectedVersion: 0 });
      expect(stored.version).toBe(1);
      expect(stored).toMatchObject({ status: 'completed', output: { ok: 1 }, stepCount: 3 });
      expect(await stores().executions.get(execution.id)).toStrictEqual(stored);
      const next = await stores().executions.update({ execution: stored, expectedVersion: 1 });
      expect(next.version).toBe(2);
    });

    it('returns the execution as a read gives it back, values JSON changes included', async () => {
      const { execution } = await stores().executions.create(richExecution());
      const at = new Date('2026-01-02T03:04:05.678Z');
      const changed = {
        ...execution,
        output: { at, gone: undefined },
        error: null,
        updatedAt: execution.updatedAt + 0.5,
        wakeAt: execution.updatedAt + 60_000.7,
      } as Execution;
      const stored = await stores().executions.update({ execution: changed, expectedVersion: 0 });
      const read = await stores().executions.get(execution.id);
      expect(stored).toStrictEqual(read);
      expect(read?.output).toStrictEqual({ at: at.toISOString() });
      expect(read?.updatedAt).toBe(Math.trunc(execution.updatedAt + 0.5));
    });

    it('throws ConcurrencyError for a stale version and writes nothing', async () => {
      const { execution } = await stores().executions.create(newExecution());
      const first = await stores().executions.update({
        execution: { ...execution, stepCount: 1 },
        expectedVersion: 0,
      });
      const stale = stores().executions.update({
        execution: { ...execution, stepCount: 99 },
        expectedVersion: 0,
      });
      await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await stores().executions.get(execution.id)).toEqual(first);
    });

    it('lets exactly one of two concurrent updates from the same version win', async () => {
      const { execution } = await stores().executions.create(newExecution());
      const results = await Promise.allSettled([
        stores().executions.update({
          execution: { ...execution, stepCount: 1 },
          expectedVersion: 0,
        }),
        stores().executions.update({
          execution: { ...execution, stepCount: 2 },
          expectedVersion: 0,
        }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
      const stored = await stores().executions.get(execution.id);
      expect(stored?.version).toBe(1);
      expect(stored).toEqual((won[0] as PromiseFulfilledResult<Execution>).value);
    });

    it('throws NotFoundError for an execution that does not exist', async () => {
      const update = stores().executions.update({ execution: newExecution(), expectedVersion: 0 });
      await expect(update).rejects.toBeInstanceOf(NotFoundError);
    });

    it('rejects a bad payload and writes nothing', async () => {
      const { execution } = await stores().executions.create(newExecution());
      const bad = { ...execution, output: { big: 1n } };
      await expectValidationError(
        stores().executions.update({ execution: bad, expectedVersion: 0 }),
        'output.big',
      );
      expect((await stores().executions.get(execution.id))?.version).toBe(0);
    });
  });
}

function describeQueries(stores: () => Stores): void {
  describe('ExecutionStore.list', () => {
    it('lists newest first, filtered by status, flow and tenant, with limit and offset', async () => {
      const t0 = Date.now();
      const ex = stores().executions;
      const make = (i: number, patch: Partial<Execution>) =>
        ex.create(newExecution({ createdAt: t0 + i, updatedAt: t0 + i, ...patch }));
      const a = (await make(0, { flowId: 'f1', tenantId: 't1' })).execution;
      const b = (await make(1, { flowId: 'f2', status: 'completed' })).execution;
      const c = (await make(2, { flowId: 'f1', tenantId: 't2', status: 'completed' })).execution;
      const ids = async (params: Parameters<typeof ex.list>[0]) =>
        (await ex.list(params)).map((e) => e.id);
      expect(await ids({ limit: 10 })).toEqual([c.id, b.id, a.id]);
      expect(await ids({ limit: 1, offset: 1 })).toEqual([b.id]);
      expect(await ids({ limit: 10, status: 'completed' })).toEqual([c.id, b.id]);
      expect(await ids({ limit: 10, flowId: 'f1' })).toEqual([c.id, a.id]);
      expect(await ids({ limit: 10, tenantId: 't1' })).toEqual([a.id]);
      expect(await ids({ limit: 10, flowId: 'f2', status: 'running' })).toEqual([]);
    });

    it('rejects an unknown status', async () => {
      const status = 'bogus' as Execution['status'];
      await expectValidationError(stores().executions.list({ limit: 10, status }), 'status');
    });
  });

  describe('ExecutionStore.listDueWakeups', () => {
    it('returns waiting executions whose wakeAt has come, oldest due first', async () => {
      const t0 = Date.now();
      const ex = stores().executions;
      const waiting = (wakeAt: number | null, status: Execution['status'] = 'waiting') =>
        ex.create(newExecution({ status, wakeAt })).then((r) => r.execution);
      const later = await waiting(t0 - 10);
      const earlier = await waiting(t0 - 5000);
      const exactlyNow = await waiting(t0);
      await waiting(t0 + 1);
      await waiting(null);
      await waiting(t0 - 9999, 'running');
      const due = await ex.listDueWakeups({ limit: 10, now: t0 });
      expect(due.map((e) => e.id)).toEqual([earlier.id, later.id, exactlyNow.id]);
      const limited = await ex.listDueWakeups({ limit: 1, now: t0 });
      expect(limited.map((e) => e.id)).toEqual([earlier.id]);
    });
  });
}
