import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect } from 'vitest';
import { LeaseLostError, ValidationError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { Job, NewJob } from '../job.js';
import type { JobStore } from '../stores/job-store.js';
import type { ParkOnNewJobParams, Stores } from '../stores/stores.js';

/**
 * Makes a fresh, empty set of stores for one test, plus an optional `teardown` run after
 * it (close pools, drop the test schema). Called in `beforeEach`.
 */
export type StoresFactory = () => Promise<{ stores: Stores; teardown?: () => Promise<void> }>;

/** Pattern of a UUID string, any version. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How far a timestamp the store sets itself (from its own clock, database time for
 * Postgres) may be from the test process's `Date.now()`, in ms.
 */
export const CLOCK_TOLERANCE_MS = 30_000;

/** Registers `beforeEach`/`afterEach` hooks around `factory` and returns a getter for the current stores. */
export function useStores(factory: StoresFactory): () => Stores {
  let current: Awaited<ReturnType<StoresFactory>> | undefined;
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    await done?.teardown?.();
  });
  return () => {
    if (current === undefined) throw new Error('stores are only available inside a test');
    return current.stores;
  };
}

/** Asserts that `promise` rejects with a `ValidationError` whose `field` is `field`. */
export async function expectValidationError(
  promise: Promise<unknown>,
  field: string,
): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected a ValidationError for ${field}`).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe(field);
}

/** Asserts that `promise` rejects with a `LeaseLostError`. */
export async function expectLeaseLost(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(LeaseLostError);
}

/** Asserts that `actual` is within {@link CLOCK_TOLERANCE_MS} of the real time. */
export function expectNearNow(actual: number | null): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual ?? 0) - Date.now())).toBeLessThan(CLOCK_TOLERANCE_MS);
}

/** Creates a job due an hour before `t0`, unless `job.runAt` says otherwise. */
export function dueJob(t0: number, job: Partial<NewJob> = {}): NewJob {
  return { handler: 'contract.handler', runAt: t0 - 3_600_000, ...job };
}

/** Creates one due job and claims it at `t0`, returning the running job. */
export async function createRunning(
  jobs: JobStore,
  t0: number,
  job: Partial<NewJob> = {},
): Promise<Job> {
  const created = await jobs.create(dueJob(t0, { handler: `contract.${randomUUID()}`, ...job }));
  const claimed = await jobs.claimBatch({
    runnerId: 'runner-1',
    limit: 1,
    handlers: [created.handler],
    now: t0,
  });
  expect(claimed.map((j) => j.id)).toEqual([created.id]);
  const [running] = claimed;
  if (running === undefined) throw new Error('claim returned nothing');
  return running;
}

/** The `{ jobId, leaseId }` of a running job. */
export function leaseOf(job: Job): { jobId: string; leaseId: string } {
  if (job.leaseId === null) throw new Error(`job ${job.id} has no lease`);
  return { jobId: job.id, leaseId: job.leaseId };
}

/** A lease reference for `job` with a lease id that was never issued. */
export function staleLease(job: Job): { jobId: string; leaseId: string } {
  return { jobId: job.id, leaseId: randomUUID() };
}

/** A valid new execution (version 0) with a fresh UUID id. */
export function newExecution(overrides: Partial<Execution> = {}): Execution {
  const now = Date.now();
  return {
    id: randomUUID(),
    flowId: 'contract-flow',
    flowVersion: 1,
    status: 'running',
    currentStepId: 'first',
    input: { order: 42 },
    context: { input: { order: 42 } },
    output: null,
    error: null,
    history: [],
    stepCount: 0,
    waitingOn: null,
    wakeAt: null,
    idempotencyKey: null,
    tenantId: null,
    parentExecutionId: null,
    version: 0,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/**
 * `Stores.parkOnNewJob` parameters for `execution` (at version 0): a stateful step's job
 * (`charge`, step `first`, visit 1, a fresh id) with `job` applied over it, and the
 * execution parked on that job.
 */
export function newParkParams(
  execution: Execution,
  job: Partial<ParkOnNewJobParams['job']> = {},
): ParkOnNewJobParams {
  const id = randomUUID();
  return {
    job: {
      id,
      handler: 'charge',
      executionId: execution.id,
      stepId: 'first',
      input: { amount: 42 },
      idempotencyKey: `${execution.id}:first:1`,
      ...job,
    },
    execution: {
      ...execution,
      status: 'waiting',
      waitingOn: { stepId: 'first', jobId: id, reason: 'job:charge', until: null },
      updatedAt: execution.updatedAt + 1,
    },
    expectedVersion: 0,
  };
}

/**
 * `stores` whose `parkOnNewJob` first creates a job holding the new job's idempotency key
 * (as a store that parks in two steps could leave behind), so the park finds it taken;
 * `holders` and `answers` record those jobs and what `parkOnNewJob` returned. For testing
 * an engine's fallback to `transaction`.
 */
export function withTakenParkKeys(stores: Stores & Required<Pick<Stores, 'parkOnNewJob'>>): {
  stores: Stores;
  holders: Job[];
  answers: unknown[];
} {
  const holders: Job[] = [];
  const answers: unknown[] = [];
  const wrapped: Stores = {
    executions: stores.executions,
    jobs: stores.jobs,
    schedules: stores.schedules,
    transaction: (fn) => stores.transaction(fn),
    parkOnNewJob: async (params) => {
      const { id: _fresh, ...job } = params.job;
      holders.push(await stores.jobs.create(job));
      const answer = await stores.parkOnNewJob(params);
      answers.push(answer);
      return answer;
    },
  };
  return { stores: wrapped, holders, answers };
}
