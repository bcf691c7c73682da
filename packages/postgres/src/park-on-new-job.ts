import {
  executionAsStored,
  newJobAsStored,
  normalizeNewJob,
  type ParkedOnNewJob,
  type ParkOnNewJobParams,
  ValidationError,
} from '@flowmonkey/core';
import { insertedTimes, newJobParams } from './job-inserter.js';
import { notUpdated, updateValues } from './pg-execution-store.js';
import { runStatement } from './queryable.js';
import type { StoreContext } from './store-context.js';

/** The unique index a step job's idempotency key is held in. */
const JOB_KEYS_INDEX = 'jobs_idempotency_idx';

/**
 * `Stores.parkOnNewJob` on PostgreSQL: the execution's `update` and the job's `createOne`
 * in one statement (`parkOnNewJob` in sql/parks.ts), so one round trip and one commit
 * where a transaction takes four round trips. Both are validated before anything is
 * sent. The wake-up of a due job goes to `ctx.wake` after the statement (coalesced by the
 * pool's notifier), not in it: see the statement's comment. Runs on the pool, never
 * inside a caller's transaction: a taken key fails the statement, which would abort that
 * transaction too.
 */
export async function parkOnNewJob(
  ctx: StoreContext,
  params: ParkOnNewJobParams,
): Promise<ParkedOnNewJob | undefined> {
  const { values, json, expected } = updateValues(params, ctx.maxPayloadBytes);
  const job = normalizeNewJob(params.job, {
    now: Date.now(),
    maxPayloadBytes: ctx.maxPayloadBytes,
  });
  let row: Record<string, unknown> | undefined;
  try {
    [row] = await runStatement(ctx.db, ctx.statements.parks.parkOnNewJob, [
      ...values,
      ...newJobParams(job, params.job),
    ]);
  } catch (error) {
    if (error instanceof ValidationError && error.details.constraint === JOB_KEYS_INDEX) {
      return undefined;
    }
    throw error;
  }
  if (row === undefined) return notUpdated(ctx, params.execution.id, expected);
  if (row.due === true) ctx.wake.jobsDue();
  // The row holds only what the database chose; the rest is what was sent.
  return {
    job: newJobAsStored(job, insertedTimes(row)),
    execution: executionAsStored(params.execution, json, expected + 1),
  };
}
