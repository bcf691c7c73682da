import { describe, expect, it } from 'vitest';
import { ConcurrencyError } from '../errors.js';
import { newExecution, type StoresFactory, useStores } from './contract-fixtures.js';

/**
 * Registers the `Stores.transaction` contract suite under `describe(name)`: writes made
 * through the transaction's stores commit together when `fn` resolves, and none of them
 * is visible when it throws.
 */
export function describeTransactionContract(name: string, factory: StoresFactory): void {
  describe(`${name}: Stores.transaction contract`, () => {
    const stores = useStores(factory);

    describe('Stores.transaction', () => {
      it('commits the job and the execution update together and returns the result', async () => {
        const { execution } = await stores().executions.create(newExecution());
        const result = await stores().transaction(async (tx) => {
          const job = await tx.jobs.create({
            handler: 'h',
            executionId: execution.id,
            stepId: 'first',
          });
          const parked = await tx.executions.update({
            execution: { ...execution, status: 'waiting' },
            expectedVersion: 0,
          });
          expect(await tx.jobs.get(job.id)).toEqual(job);
          return { job, parked };
        });
        expect(await stores().jobs.get(result.job.id)).toEqual(result.job);
        expect(await stores().executions.get(execution.id)).toEqual(result.parked);
        expect(result.parked).toMatchObject({ status: 'waiting', version: 1 });
      });

      it('leaves neither the job nor the execution update visible when fn throws', async () => {
        const { execution } = await stores().executions.create(newExecution());
        const boom = new Error('boom');
        const run = stores().transaction(async (tx) => {
          await tx.jobs.create({ handler: 'h', executionId: execution.id, stepId: 'first' });
          await tx.executions.update({
            execution: { ...execution, status: 'waiting' },
            expectedVersion: 0,
          });
          await tx.executions.create(newExecution({ flowId: 'inner' }));
          throw boom;
        });
        await expect(run).rejects.toBe(boom);
        expect(await stores().jobs.getByExecution(execution.id)).toEqual([]);
        expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
        expect(await stores().executions.get(execution.id)).toEqual(execution);
        expect(await stores().executions.list({ limit: 10, flowId: 'inner' })).toEqual([]);
      });

      it('rolls back earlier writes when a later store call fails', async () => {
        const { execution } = await stores().executions.create(newExecution());
        await stores().executions.update({ execution, expectedVersion: 0 });
        const run = stores().transaction(async (tx) => {
          await tx.jobs.create({ handler: 'h', executionId: execution.id, stepId: 'first' });
          await tx.executions.update({ execution, expectedVersion: 0 });
        });
        await expect(run).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await stores().jobs.getByExecution(execution.id)).toEqual([]);
      });

      it('keeps the work of a committed transaction when a concurrent one rolls back', async () => {
        // The committing transaction writes while the other is still open, then the other
        // rolls back: the rollback must not take the committed write with it.
        const [ok, failed] = await Promise.allSettled([
          stores().transaction(async (tx) => {
            await yieldToEventLoop(1);
            return tx.jobs.create({ handler: 'kept' });
          }),
          stores().transaction(async (tx) => {
            await tx.jobs.create({ handler: 'dropped' });
            await yieldToEventLoop(5);
            throw new Error('rollback');
          }),
        ]);
        expect(ok.status).toBe('fulfilled');
        expect(failed.status).toBe('rejected');
        const pending = await stores().jobs.listByStatus({ status: 'pending', limit: 10 });
        expect(pending.map((j) => j.handler)).toEqual(['kept']);
      });
    });
  });
}

/** Lets other pending callbacks run `times` times (an interleaving point, not a wait for time). */
async function yieldToEventLoop(times: number): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
