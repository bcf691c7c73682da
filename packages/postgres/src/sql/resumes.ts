import { updateExecutionsFrom } from './executions.js';
import { completeJobsCtes } from './jobs.js';
import { epochMs, type NamedStatement, namedStatements } from './sql-helpers.js';

/** Names of the statements that complete jobs and resume their executions together. */
export type ResumeStatementName = 'completeAndResumeMany';

/** SQLSTATE of `assert_all_written` (migration 00006): the statement wrote nothing. */
export const NOT_ALL_WRITTEN = 'FM001';

/**
 * Builds the SQL of `Stores.completeAndResumeMany` for the quoted schema `s`; `schema`
 * (unquoted) only suffixes the prepared-statement names.
 */
export function resumeStatements(
  s: string,
  schema: string,
): Record<ResumeStatementName, NamedStatement> {
  return namedStatements<ResumeStatementName>(schema, 'resumes', {
    // $1-$9 as `completeMany` takes them (the jobs, then the runner events); $10 the
    // resumed executions as `updateMany` takes them (sorted by id), $11 how many. One
    // statement and one commit where a transaction takes four round trips: CTE `src`
    // completes the jobs, each fenced by its lease, `resumed` writes the executions, each
    // fenced by its version, and `assert_all_written` undoes the whole statement (SQLSTATE
    // FM001) unless every job and every execution was written: the caller then settles the
    // batch in a transaction, where a lost lease or a moved version is decided row by row.
    // Returns the completion time.
    completeAndResumeMany: `WITH ${completeJobsCtes(s, 'j.id, j.attempts, j.updated_at')},
      resumed AS (${updateExecutionsFrom(s, '$10', '$11')})
      SELECT ${s}.assert_all_written(
          (SELECT count(*) FROM src) + (SELECT count(*) FROM resumed),
          cardinality($1::uuid[]) + $11::int
        ) AS ok,
        (SELECT ${epochMs('updated_at')} FROM src LIMIT 1) AS at`,
  });
}
