import { updateExecution, updateExecutionsFrom } from './executions.js';
import {
  insertNewJobs,
  NEW_JOB_RECORD_VALUES,
  NEW_JOB_TIMES,
  newJobRecords,
  newJobValues,
} from './jobs/insert-new-jobs.js';
import { type NamedStatement, namedStatements } from './sql-helpers.js';

/** Names of the statements that write a job and an execution together. */
export type ParkStatementName = 'parkOnNewJob' | 'parkOnNewJobMany';

/**
 * Builds the SQL of `Stores.parkOnNewJob` for the quoted schema `s`; `schema` (unquoted)
 * only suffixes the prepared-statement names.
 */
export function parkStatements(
  s: string,
  schema: string,
): Record<ParkStatementName, NamedStatement> {
  return namedStatements<ParkStatementName>(schema, 'parks', {
    // $1-$19: the parked execution as `update` takes it ($17 the expected version);
    // $20-$32: the job as `createOne` takes it. One statement, so one round trip and one
    // commit where a transaction takes four: CTE `parked` writes the execution, fenced by
    // its version; `src` inserts the job only when `parked` returned a row; `ev` appends
    // its `created` event. No row back: the version moved on or the execution is missing,
    // and nothing was written. A taken idempotency key is not skipped: it fails the
    // statement (unique violation), which undoes the execution's write too. No NOTIFY in
    // the statement, unlike `createOne`: parks come from many producers at once, and
    // PostgreSQL holds one lock for every notifying transaction until its commit is
    // flushed, so in-statement NOTIFYs would make the parks' commits wait in line (the
    // store sends the coalesced wake-up after the statement instead).
    parkOnNewJob: `${insertNewJobs(
      s,
      `parked AS (${updateExecution(s)}), `,
      `SELECT ${newJobValues(20)} FROM parked`,
      false,
    )}
      SELECT ${NEW_JOB_TIMES} FROM src`,
    // A group-committed batch of `parkOnNewJob`s, each park on its own: $1 the parked
    // executions as `updateMany` takes them (sorted by id, as there), $2 their jobs as
    // `createMany` takes them, each with its execution's id, $3 the number of parks.
    // A job is inserted only when its execution's update matched; the ids of the jobs
    // inserted come back, with the times the database chose. A taken key fails the batch.
    parkOnNewJobMany: `${insertNewJobs(
      s,
      `${newJobRecords('$2')}, parked AS (${updateExecutionsFrom(s, '$1', '$3')}), `,
      `SELECT ${NEW_JOB_RECORD_VALUES} FROM r JOIN parked ON parked.id = r.execution_id
        ORDER BY r.ord`,
      false,
    )}
      SELECT src.id, ${NEW_JOB_TIMES} FROM src`,
  });
}
