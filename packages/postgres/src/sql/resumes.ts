import { updateExecutionsFrom } from './executions.js';
import { completeJobsCtes } from './jobs/job-completion-statements.js';
import { epochMs, type NamedStatement, namedStatements, opaque } from './sql-helpers.js';

/** Names of the statements that complete jobs and resume their executions together. */
export type ResumeStatementName = 'completeAndResumeMany';

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
    // Returns the completion time (database now when no job was given). The number of
    // executions is hidden from custom plans, as the jobs' is (see `opaque`). A large
    // batch is sent as several of these in one transaction (see `ResumeWriter`).
    completeAndResumeMany: `WITH ${completeJobsCtes(s, 'j.id, j.attempts, j.updated_at')},
      resumed AS (${updateExecutionsFrom(s, '$10', opaque('$11::int'))})
      SELECT ${s}.assert_all_written('jobs', (SELECT count(*) FROM src), cardinality($1::uuid[]))
          AND ${s}.assert_all_written('executions', (SELECT count(*) FROM resumed), $11::int)
          AS ok,
        ${epochMs('coalesce((SELECT updated_at FROM src LIMIT 1), now())')} AS at`,
  });
}
