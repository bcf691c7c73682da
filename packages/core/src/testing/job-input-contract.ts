import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import type { ClaimBatchParams } from '../stores/job-store.js';
import type { Stores } from '../stores/stores.js';
import { createRunning, dueJob, expectValidationError, leaseOf } from './contract-fixtures.js';

/**
 * Contract tests of bad input at the `JobStore` boundary: both stores reject the same
 * values with a `ValidationError` naming the same field, and write nothing.
 */
export function describeJobInputContract(stores: () => Stores): void {
  describe('JobStore.claimBatch', () => {
    it('rejects handlers or queues that are not arrays of non-empty strings', async () => {
      const jobs = stores().jobs;
      const claim = (p: Partial<ClaimBatchParams>) =>
        jobs.claimBatch({ runnerId: 'r', limit: 5, ...p } as ClaimBatchParams);
      await jobs.create(dueJob(Date.now(), { handler: 'h' }));
      await expectValidationError(claim({ handlers: 'h' as unknown as string[] }), 'handlers');
      await expectValidationError(claim({ handlers: ['h', ''] }), 'handlers[1]');
      await expectValidationError(claim({ queues: ['de\u0000fault'] }), 'queues[0]');
      await expectValidationError(claim({ queues: [7] as unknown as string[] }), 'queues[0]');
      expect((await jobs.listByStatus({ status: 'pending', limit: 10 })).length).toBe(1);
    });

    it('rejects a limit that is not a positive integer', async () => {
      const claim = (limit: number) => stores().jobs.claimBatch({ runnerId: 'r', limit });
      await expectValidationError(claim(0), 'limit');
      await expectValidationError(claim(1.5), 'limit');
      await expectValidationError(claim(Number.NaN), 'limit');
    });
  });

  describe('JobStore.heartbeatMany', () => {
    it('rejects leases that are not an array of { jobId, leaseId }', async () => {
      const jobs = stores().jobs;
      const job = await createRunning(jobs, Date.now());
      const bad = (leases: unknown) =>
        jobs.heartbeatMany({ leases: leases as { jobId: string; leaseId: string }[] });
      await expectValidationError(bad('nope'), 'leases');
      await expectValidationError(
        bad([leaseOf(job), { jobId: 42, leaseId: 'x' }]),
        'leases[1].jobId',
      );
      await expectValidationError(bad([{ jobId: job.id }]), 'leases[0].leaseId');
    });
  });

  describe('JobStore.heartbeat', () => {
    it('rejects a jobId that is not a UUID string', async () => {
      const jobs = stores().jobs;
      const leaseId = randomUUID();
      await expectValidationError(jobs.heartbeat({ jobId: 'not-a-uuid', leaseId }), 'jobId');
      await expectValidationError(
        jobs.complete({ jobId: 42 as unknown as string, leaseId, result: 1 }),
        'jobId',
      );
    });
  });

  describe('JobStore.findStalled', () => {
    it('accepts a fractional stalledThresholdMs', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const stalled = await stores().jobs.findStalled({
        stalledThresholdMs: 999.5,
        limit: 10,
        now: t0 + 1000,
      });
      expect(stalled.map((j) => j.id)).toEqual([job.id]);
    });
  });

  describeCreateInput(stores);
}

function describeCreateInput(stores: () => Stores): void {
  describe('JobStore.createMany', () => {
    it('names the bad job by index once, without repeating the field in the message', async () => {
      const error = await stores()
        .jobs.createMany([{ handler: 'h' }, { handler: 'h', priority: 1.5 }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      const { field, message } = error as ValidationError;
      expect(field).toBe('jobs[1].priority');
      expect(message.startsWith('jobs[1].priority: ')).toBe(true);
      expect(message).not.toContain('priority: priority');
    });

    it('rejects a batch naming one id twice as jobs[1].id and writes nothing', async () => {
      const id = randomUUID();
      await expectValidationError(
        stores().jobs.createMany([
          { id, handler: 'h' },
          { id, handler: 'h' },
        ]),
        'jobs[1].id',
      );
      expect(await stores().jobs.get(id)).toBeUndefined();
    });
  });

  describe('JobStore.create', () => {
    it('rejects input whose getter or toJSON throws, and binary data, naming the path', async () => {
      const create = (input: unknown) => stores().jobs.create({ handler: 'h', input });
      const getter = {
        get bad(): string {
          throw new Error('boom');
        },
      };
      const throwing = {
        nested: {
          toJSON: (): never => {
            throw new Error('boom');
          },
        },
      };
      const caught = await create(getter).catch((e: unknown) => e);
      expect(caught).toBeInstanceOf(ValidationError);
      expect(caught).toMatchObject({ field: 'input.bad', cause: { message: 'boom' } });
      await expectValidationError(create(throwing), 'input.nested');
      await expectValidationError(create({ bytes: new Uint8Array(2) }), 'input.bytes');
      await expectValidationError(create({ raw: new ArrayBuffer(2) }), 'input.raw');
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
    });
  });
}
