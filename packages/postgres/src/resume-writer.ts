import {
  assertExecutionUpdates,
  type CompleteAndResumeManyParams,
  type CompletedAndResumed,
  ConcurrencyError,
  type ExecutionJson,
  executionAsStored,
  normalizeRunnerEvents,
} from '@flowmonkey/core';
import { type CompletionColumns, completionColumns, eventColumns } from './completion-values.js';
import {
  STATEMENT_DOCUMENT_CHARS,
  sortedUpdateDocuments,
  type UpdateDocument,
} from './execution-update-documents.js';
import { isPgError } from './map-pg-error.js';
import { inOneCommit } from './pool-transaction.js';
import { type Queryable, runStatement } from './queryable.js';
import type { StoreContext } from './store-context.js';

/** SQLSTATE undefined_function: `assert_all_written` is missing (migration 00006 not run). */
const UNDEFINED_FUNCTION = '42883';

/** Characters a completed job adds to a statement besides its result: two UUIDs and quoting. */
export const JOB_CHARS = 80;

/**
 * `Stores.completeAndResumeMany` on PostgreSQL: `completeMany` and `updateMany` in one
 * statement (`completeAndResumeMany` in sql/resumes.ts), all or nothing, so one round trip
 * and one commit where a transaction takes four. Everything is validated before it is
 * sent, in `completeMany`'s order (the events, the items), then the executions. A batch
 * whose executions and results are larger than `STATEMENT_DOCUMENT_CHARS` goes in several
 * such statements, each with its share of the jobs and executions (the events with the
 * first), in one transaction. A lost lease, a moved version or a missing execution undoes
 * it all (SQLSTATE FM001, a `ConcurrencyError` by `mapPgError`), as does a deadlock with
 * another batch; the writer then returns `undefined`. Always on the pool: FM001 would
 * abort a caller's transaction. On a schema not yet migrated to 00006 (new code deployed
 * before `migrate` ran) the statement's function is missing: the writer returns
 * `undefined` from then on, and the engine keeps settling in transactions, until the
 * process restarts.
 */
export class ResumeWriter {
  readonly #ctx: StoreContext;
  /** Set when the schema lacks `assert_all_written` (migration 00006). */
  #unavailable = false;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async write(params: CompleteAndResumeManyParams): Promise<CompletedAndResumed | undefined> {
    const { maxPayloadBytes, db } = this.#ctx;
    const events = normalizeRunnerEvents(params?.events ?? [], maxPayloadBytes);
    const jobs = completionColumns(params?.items, maxPayloadBytes);
    const updates = params.executions;
    const jsons = assertExecutionUpdates(updates, { maxBytes: maxPayloadBytes }, 'executions');
    if (this.#unavailable) return undefined;
    const statements = planStatements(sortedUpdateDocuments(updates, jsons), jobs);
    // Every statement runs in the same transaction, so its `now()`, the completion time,
    // is the same: the first one's answer stands for all.
    const write = async (client: Queryable) => {
      let at: unknown;
      for (const [i, { jobs: share, document }] of statements.entries()) {
        const [row] = await runStatement(
          client,
          this.#ctx.statements.resumes.completeAndResumeMany,
          [
            share.jobIds,
            share.leaseIds,
            share.results,
            null,
            ...eventColumns(i === 0 ? events : []),
            document?.json ?? '[]',
            document?.rows ?? 0,
          ],
        );
        if (i === 0) at = row?.at;
      }
      return at;
    };
    let at: unknown;
    try {
      at = await inOneCommit(db, statements.length, write);
    } catch (error) {
      if (error instanceof ConcurrencyError) return undefined;
      if (isPgError(error) && error.code === UNDEFINED_FUNCTION) {
        this.#unavailable = true;
        return undefined;
      }
      throw error;
    }
    return {
      finishedAt: Number(at),
      executions: updates.map((u, i) =>
        executionAsStored(u.execution, jsons[i] as ExecutionJson, u.expectedVersion + 1),
      ),
    };
  }
}

/** One statement of a batch: its share of the jobs and its document of executions, if any. */
export interface PlannedStatement {
  jobs: CompletionColumns;
  document: UpdateDocument | undefined;
}

/**
 * The statements of a batch, in order: each document of executions (at most
 * `STATEMENT_DOCUMENT_CHARS` unless one row alone is larger) with as many of the jobs as
 * fit beside it, then the jobs left over in statements of their own, no statement over
 * the limit unless one job's result alone is. Jobs keep their order. At least one
 * statement, however empty the batch.
 */
export function planStatements(
  documents: readonly UpdateDocument[],
  jobs: CompletionColumns,
): PlannedStatement[] {
  const none = (): CompletionColumns => ({ jobIds: [], leaseIds: [], results: [] });
  const planned: (PlannedStatement & { size: number })[] = documents.map((document) => ({
    jobs: none(),
    document,
    size: document.json.length,
  }));
  const jobsOnly = () => planned.push({ jobs: none(), document: undefined, size: 0 });
  if (planned.length === 0) jobsOnly();
  let at = 0;
  jobs.jobIds.forEach((jobId, i) => {
    const result = jobs.results[i] ?? 'null';
    const chars = JOB_CHARS + result.length;
    for (;;) {
      const statement = planned[at];
      if (statement === undefined) {
        jobsOnly();
        continue;
      }
      const empty = statement.size === 0;
      if (empty || statement.size + chars <= STATEMENT_DOCUMENT_CHARS) {
        statement.jobs.jobIds.push(jobId);
        statement.jobs.leaseIds.push(jobs.leaseIds[i] ?? null);
        statement.jobs.results.push(result);
        statement.size += chars;
        break;
      }
      at++;
    }
  });
  return planned;
}
