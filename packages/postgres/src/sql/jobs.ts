import type { JobStatus } from '@flowmonkey/core';
import {
  insertNewJobs,
  NEW_JOB_RECORD_VALUES,
  NEW_JOB_TIMES,
  newJobRecords,
  newJobValues,
} from './jobs/insert-new-jobs.js';
import { jobCompletionStatements } from './jobs/job-completion-statements.js';
import { jobDeadLetterStatements } from './jobs/job-dead-letter-statements.js';
import { jobFailureStatements } from './jobs/job-failure-statements.js';
import { jobLeaseStatements } from './jobs/job-lease-statements.js';
import { jobStalledStatements } from './jobs/job-stalled-statements.js';
import { type NamedStatement, namedStatements } from './sql-helpers.js';

/** Names of the job store's statements (each equal to the store method it serves). */
export type JobStatementName =
  | 'createOne'
  | 'createMany'
  | 'getByIdempotencyKeys'
  | 'get'
  | 'claimBatch'
  | 'heartbeat'
  | 'heartbeatMany'
  | 'progress'
  | 'complete'
  | 'completeMany'
  | 'completeManyReturningJobs'
  | 'recordEvents'
  | 'fail'
  | 'release'
  | 'cancel'
  | 'confirmCancel'
  | `listByStatus_${JobStatus}`
  | 'findStalled'
  | 'resetStalled'
  | 'getByExecution'
  | 'claimById'
  | 'listDeadLetters'
  | 'redrive'
  | 'redriveMany'
  | 'pruneFinished';

/**
 * Builds the job store's SQL for the quoted schema `s`; `schema` (unquoted) only suffixes
 * the prepared-statement names. Data-modifying CTEs append the job event in the same
 * statement as the change it records.
 */
export function jobStatements(s: string, schema: string): Record<JobStatementName, NamedStatement> {
  return namedStatements<JobStatementName>(schema, 'jobs', {
    // $1-$13: the job (see newJobValues). $14: the jobs channel to NOTIFY (delivered at
    // commit) when the job was inserted due; NULL leaves the wake-up to the caller. One row:
    // no JSON to unpack, and the NOTIFY is a CASE in the select list, not a CTE. Returns
    // only what the database chose (times as epoch ms; see newJobAsStored): node-postgres
    // handled the 30-column row description and row of `RETURNING *` on every call.
    createOne: `${insertNewJobs(s, '', `VALUES (${newJobValues(1)})`)}
      SELECT ${NEW_JOB_TIMES}, CASE WHEN $14::text IS NOT NULL
        AND src.run_at <= now() THEN pg_notify($14::text, '') END AS notified
      FROM src`,
    // $1: JSON array of new jobs (with `ord`); idempotent on the partial unique index.
    // $2: channel for an in-statement NOTIFY, or NULL. Returns per inserted job its id and
    // what the database chose, as createOne does (a batch of 5,000 read back whole cost
    // node-postgres more than the insert cost the server).
    createMany: `${insertNewJobs(
      s,
      `${newJobRecords('$1')}, `,
      `SELECT ${NEW_JOB_RECORD_VALUES} FROM r ORDER BY r.ord`,
    )},
      -- $2: the jobs channel to NOTIFY (delivered at commit) when a due job was inserted;
      -- NULL leaves the wake-up to the caller. Referenced below so that it runs.
      wake AS (SELECT pg_notify($2::text, '') FROM src
        WHERE $2::text IS NOT NULL AND src.run_at <= now() LIMIT 1)
      SELECT src.id, ${NEW_JOB_TIMES}, (SELECT count(*) FROM wake) AS notified
      FROM src`,
    getByIdempotencyKeys: `SELECT * FROM ${s}.jobs WHERE idempotency_key = ANY($1::text[])`,
    get: `SELECT * FROM ${s}.jobs WHERE id = $1`,
    ...jobLeaseStatements(s),
    ...jobCompletionStatements(s),
    ...jobFailureStatements(s),
    ...listByStatusStatements(s),
    ...jobStalledStatements(s),
    getByExecution: `SELECT * FROM ${s}.jobs WHERE execution_id = $1 ORDER BY created_at, id`,
    ...jobDeadLetterStatements(s),
  });
}

/**
 * One `listByStatus` statement per status, with the status as a literal: only then can the
 * planner use the partial index that holds it (`jobs_pending_created_idx` for pending, the
 * small `jobs_running_idx` for running, `jobs_finished_idx` / `jobs_dead_letter_idx` for
 * finished jobs, which are then sorted by creation), also in a generic prepared plan.
 * `$1` limit, `$2` offset.
 */
function listByStatusStatements(s: string): Record<`listByStatus_${JobStatus}`, string> {
  const list = (status: JobStatus) => `SELECT * FROM ${s}.jobs WHERE status = '${status}'
      ORDER BY created_at, id LIMIT $1 OFFSET $2`;
  return {
    listByStatus_pending: list('pending'),
    listByStatus_running: list('running'),
    listByStatus_completed: list('completed'),
    listByStatus_failed: list('failed'),
    listByStatus_cancelled: list('cancelled'),
  };
}
