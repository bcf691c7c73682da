import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Execution } from '../execution.js';
import type { Job } from '../job.js';
import type { CompleteAndResumeManyParams, Stores } from '../stores/stores.js';
import {
  createRunning,
  expectValidationError,
  leaseOf,
  newExecution,
  type StoresFactory,
  useStores,
} from './contract-fixtures.js';

/** A parked execution and the running step job it waits on. */
interface Parked {
  execution: Execution;
  job: Job;
}

/**
 * Registers the `Stores.completeAndResumeMany` contract suite under `describe(name)`: the
 * jobs and the executions they resume are written all or none, equal to what a read
 * returns, and a lost lease, a moved version or a missing execution writes nothing.
 * `completeAndResumeMany` is optional for the engine: a store set with it registers this
 * suite besides `describeStoreContracts`.
 */
export function describeCompleteAndResumeManyContract(name: string, factory: StoresFactory): void {
  describe(`${name}: Stores.completeAndResumeMany contract`, () => {
    const stores = useStores(factory);
    const write = (params: CompleteAndResumeManyParams) =>
      completeAndResumeManyOf(stores())(params);

    /** An execution waiting on a running job of its own. */
    async function parked(): Promise<Parked> {
      const { execution } = await stores().executions.create(newExecution());
      const job = await createRunning(stores().jobs, Date.now(), {
        executionId: execution.id,
        stepId: 'first',
      });
      return { execution, job };
    }

    /** `p`'s execution resumed by its job: running its next step. */
    function resumed(p: Parked, result: unknown): Execution {
      return {
        ...p.execution,
        currentStepId: 'second',
        context: { ...p.execution.context, first: result },
        stepCount: p.execution.stepCount + 1,
        updatedAt: p.execution.updatedAt + 1,
      };
    }

    /** Both parks' items and executions, the second job's result `second`. */
    function paramsFor(a: Parked, b: Parked, second: unknown = { n: 2 }) {
      return {
        items: [
          { ...leaseOf(a.job), result: { n: 1 } },
          { ...leaseOf(b.job), result: second },
        ],
        executions: [
          { execution: resumed(a, { n: 1 }), expectedVersion: 0 },
          { execution: resumed(b, second), expectedVersion: 0 },
        ],
      };
    }

    /** Asserts that nothing of `parks` was written: jobs running, executions as created. */
    async function expectUntouched(...parks: Parked[]): Promise<void> {
      for (const p of parks) {
        expect(await stores().jobs.get(p.job.id)).toStrictEqual(p.job);
        expect(await stores().executions.get(p.execution.id)).toStrictEqual(p.execution);
      }
    }

    describe('Stores.completeAndResumeMany', () => {
      it('completes every job and writes every execution, as reads return them', async () => {
        const [a, b] = [await parked(), await parked()];
        const params = paramsFor(a, b);
        const written = await write(params);
        expect(written).toBeDefined();
        const { finishedAt, executions } = written as NonNullable<typeof written>;
        for (const [i, p] of [a, b].entries()) {
          expect(await stores().jobs.get(p.job.id)).toMatchObject({
            status: 'completed',
            result: params.items[i]?.result,
            leaseId: null,
            finishedAt,
          });
          expect(executions[i]).toMatchObject({ currentStepId: 'second', version: 1 });
          expect(await stores().executions.get(p.execution.id)).toStrictEqual(executions[i]);
        }
      });

      it('writes nothing and returns undefined when one lease is no longer held', async () => {
        const [a, b] = [await parked(), await parked()];
        const params = paramsFor(a, b);
        const items = [params.items[0], { ...params.items[1], leaseId: randomUUID() }];
        expect(await write({ ...params, items } as CompleteAndResumeManyParams)).toBeUndefined();
        await expectUntouched(a, b);
      });

      it('writes nothing and returns undefined when one version moved on', async () => {
        const [a, b] = [await parked(), await parked()];
        const moved = await stores().executions.update({
          execution: { ...b.execution, updatedAt: b.execution.updatedAt + 5 },
          expectedVersion: 0,
        });
        expect(await write(paramsFor(a, b))).toBeUndefined();
        await expectUntouched(a, { ...b, execution: moved });
      });

      it('writes nothing and returns undefined when one execution does not exist', async () => {
        const a = await parked();
        const ghost = newExecution();
        const params = paramsFor(a, { execution: ghost, job: a.job });
        const executions = [params.executions[0], params.executions[1]];
        const items = [params.items[0]];
        expect(await write({ items, executions } as CompleteAndResumeManyParams)).toBeUndefined();
        await expectUntouched(a);
        expect(await stores().executions.get(ghost.id)).toBeUndefined();
      });

      it('names the field of a bad item or execution and writes nothing', async () => {
        const [a, b] = [await parked(), await parked()];
        await expectValidationError(write(paramsFor(a, b, () => 1)), 'items[1].result');
        const noId = { ...paramsFor(a, b), items: [{ leaseId: a.job.leaseId, result: 1 }] };
        await expectValidationError(write(noId as never), 'items[0].jobId');
        await expectValidationError(write({ items: 'all' } as never), 'items');
        const params = paramsFor(a, b);
        const bad = { ...params.executions[1], execution: { ...resumed(b, 1), status: 'lost' } };
        await expectValidationError(
          write({
            ...params,
            executions: [params.executions[0], bad],
          } as CompleteAndResumeManyParams),
          'executions[1].execution.status',
        );
        await expectUntouched(a, b);
      });

      it('completes jobs without an execution to resume', async () => {
        const job = await createRunning(stores().jobs, Date.now());
        const written = await write({ items: [{ ...leaseOf(job), result: 7 }], executions: [] });
        expect(written?.executions).toEqual([]);
        expect(await stores().jobs.get(job.id)).toMatchObject({ status: 'completed', result: 7 });
      });
    });
  });
}

/** `stores`' `completeAndResumeMany`, which this suite requires. */
function completeAndResumeManyOf(stores: Stores): NonNullable<Stores['completeAndResumeMany']> {
  const write = stores.completeAndResumeMany;
  if (write === undefined) {
    throw new Error(
      'these stores have no completeAndResumeMany: leave describeCompleteAndResumeManyContract out',
    );
  }
  return write.bind(stores);
}
