import {
  assertExecutionUpdates,
  type CompleteAndResumeManyParams,
  type CompletedAndResumed,
  ConcurrencyError,
  type ExecutionJson,
  executionAsStored,
  normalizeRunnerEvents,
} from '@flowmonkey/core';
import { completionColumns, eventColumns } from './completion-values.js';
import { sortedUpdateDocuments } from './execution-update-documents.js';
import { isPgError } from './map-pg-error.js';
import { runStatement } from './queryable.js';
import type { StoreContext } from './store-context.js';

/** SQLSTATE undefined_function: `assert_all_written` is missing (migration 00006 not run). */
const UNDEFINED_FUNCTION = '42883';

/**
 * `Stores.completeAndResumeMany` on PostgreSQL: `completeMany` and `updateMany` in one
 * statement (`completeAndResumeMany` in sql/resumes.ts), all or nothing, so one round trip
 * and one commit where a transaction takes four. Everything is validated before it is
 * sent, in `completeMany`'s order (the events, the items), then the executions. A lost
 * lease, a moved version or a missing execution undoes the statement (SQLSTATE FM001, a
 * `ConcurrencyError` by `mapPgError`), as does a deadlock with another batch; the writer
 * then returns `undefined`, and so it does for executions too large for one document.
 * Always on the pool: FM001 would abort a caller's transaction. On a schema not yet
 * migrated to 00006 (new code deployed before `migrate` ran) the statement's function is
 * missing: the writer returns `undefined` from then on, and the engine keeps settling in
 * transactions, until the process restarts.
 */
export class ResumeWriter {
  readonly #ctx: StoreContext;
  /** Set when the schema lacks `assert_all_written` (migration 00006). */
  #unavailable = false;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async write(params: CompleteAndResumeManyParams): Promise<CompletedAndResumed | undefined> {
    const { maxPayloadBytes } = this.#ctx;
    const events = normalizeRunnerEvents(params?.events ?? [], maxPayloadBytes);
    const { jobIds, leaseIds, results } = completionColumns(params?.items, maxPayloadBytes);
    const updates = params.executions;
    const jsons = assertExecutionUpdates(updates, { maxBytes: maxPayloadBytes }, 'executions');
    if (this.#unavailable) return undefined;
    const documents = sortedUpdateDocuments(updates, jsons);
    if (documents.length > 1) return undefined;
    const [document] = documents;
    let at: unknown;
    try {
      const [row] = await runStatement(
        this.#ctx.db,
        this.#ctx.statements.resumes.completeAndResumeMany,
        [
          jobIds,
          leaseIds,
          results,
          null,
          ...eventColumns(events),
          document?.json ?? '[]',
          document?.rows ?? 0,
        ],
      );
      at = row?.at;
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
