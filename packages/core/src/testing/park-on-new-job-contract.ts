import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, NotFoundError } from '../errors.js';
import type { ParkOnNewJobParams, Stores } from '../stores/stores.js';
import {
  expectValidationError,
  newExecution,
  newParkParams,
  type StoresFactory,
  useStores,
} from './contract-fixtures.js';

/**
 * Registers the `Stores.parkOnNewJob` contract suite under `describe(name)`: the job and
 * the parked execution are written both or neither, equal to what a read returns, and a
 * taken idempotency key writes nothing. `parkOnNewJob` is optional for the engine: a store
 * set with it registers this suite besides `describeStoreContracts`.
 */
export function describeParkOnNewJobContract(name: string, factory: StoresFactory): void {
  describe(`${name}: Stores.parkOnNewJob contract`, () => {
    const stores = useStores(factory);
    const park = (params: ParkOnNewJobParams) => parkOnNewJobOf(stores())(params);

    describe('Stores.parkOnNewJob', () => {
      it('creates the job and writes the execution parked on it, as a read returns them', async () => {
        const { execution } = await stores().executions.create(newExecution());
        const params = newParkParams(execution, { priority: 7, maxAttempts: 4, timeoutMs: 900 });
        const written = await park(params);
        expect(written).toBeDefined();
        const { job, execution: parked } = written as NonNullable<typeof written>;
        expect(job).toMatchObject({
          id: params.job.id,
          status: 'pending',
          executionId: execution.id,
          stepId: 'first',
          input: { amount: 42 },
          priority: 7,
          attempts: 0,
          maxAttempts: 4,
          timeoutMs: 900,
          idempotencyKey: params.job.idempotencyKey,
        });
        expect(parked).toMatchObject({ status: 'waiting', version: 1 });
        expect(parked.waitingOn).toEqual(params.execution.waitingOn);
        expect(await stores().jobs.get(job.id)).toStrictEqual(job);
        expect(await stores().executions.get(execution.id)).toStrictEqual(parked);
      });

      it('writes nothing and throws ConcurrencyError when the version moved on', async () => {
        const { execution } = await stores().executions.create(newExecution());
        const moved = await stores().executions.update({ execution, expectedVersion: 0 });
        await expect(park(newParkParams(execution))).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await stores().jobs.getByExecution(execution.id)).toEqual([]);
        expect(await stores().executions.get(execution.id)).toStrictEqual(moved);
      });

      it('writes nothing and throws NotFoundError for an execution that does not exist', async () => {
        const execution = newExecution();
        await expect(park(newParkParams(execution))).rejects.toBeInstanceOf(NotFoundError);
        expect(await stores().jobs.getByExecution(execution.id)).toEqual([]);
      });

      it('returns undefined and writes nothing when the idempotency key is taken', async () => {
        const { execution } = await stores().executions.create(newExecution());
        const params = newParkParams(execution);
        const holder = await stores().jobs.create({
          handler: 'other',
          idempotencyKey: params.job.idempotencyKey ?? null,
        });
        expect(await park(params)).toBeUndefined();
        expect(await stores().jobs.get(params.job.id)).toBeUndefined();
        expect(await stores().jobs.get(holder.id)).toStrictEqual(holder);
        expect(await stores().executions.get(execution.id)).toStrictEqual(execution);
      });

      it('throws ConcurrencyError, not undefined, when the key is taken and the version moved', async () => {
        const { execution } = await stores().executions.create(newExecution());
        const moved = await stores().executions.update({ execution, expectedVersion: 0 });
        const params = newParkParams(execution);
        await stores().jobs.create({
          handler: 'other',
          idempotencyKey: params.job.idempotencyKey ?? null,
        });
        await expect(park(params)).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await stores().executions.get(execution.id)).toStrictEqual(moved);
      });

      it('names the bad field of the job or the execution and writes nothing', async () => {
        const { execution } = await stores().executions.create(newExecution());
        const badJob = newParkParams(execution, { priority: Number.NaN });
        await expectValidationError(park(badJob), 'priority');
        const badExecution = newParkParams(execution);
        badExecution.execution = { ...badExecution.execution, stepCount: -1 };
        await expectValidationError(park(badExecution), 'stepCount');
        const otherExecution = newParkParams(execution, { executionId: 'another' });
        await expectValidationError(park(otherExecution), 'job.executionId');
        const otherJob = newParkParams(execution, { id: randomUUID() });
        await expectValidationError(park(otherJob), 'execution.waitingOn.jobId');
        expect(await stores().jobs.getByExecution(execution.id)).toEqual([]);
        expect(await stores().executions.get(execution.id)).toStrictEqual(execution);
      });
    });
  });
}

/** The stores' `parkOnNewJob`, bound; fails the test when the store set has none. */
function parkOnNewJobOf(stores: Stores): NonNullable<Stores['parkOnNewJob']> {
  const park = stores.parkOnNewJob;
  if (park === undefined) {
    throw new Error('these stores have no parkOnNewJob: leave describeParkOnNewJobContract out');
  }
  return park.bind(stores);
}
