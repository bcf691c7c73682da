import {
  assertExecutionUpdates,
  type CompleteAndResumeManyParams,
  type CompletedAndResumed,
  ConcurrencyError,
  type ExecutionJson,
  type ExecutionUpdate,
  executionAsStored,
  normalizeRunnerEvents,
} from '@flowmonkey/core';
import { completionColumns, eventColumns } from './completion-values.js';
import { compareText, updateManyDocuments } from './execution-update-documents.js';
import { runStatement } from './queryable.js';
import type { StoreContext } from './store-context.js';

/**
 * `Stores.completeAndResumeMany` on PostgreSQL: `completeMany` and `updateMany` in one
 * statement (`completeAndResumeMany` in sql/resumes.ts), all or nothing, so one round trip
 * and one commit where a transaction takes four. Everything is validated before it is
 * sent. A lost lease, a moved version or a missing execution undoes the statement
 * (SQLSTATE FM001, a `ConcurrencyError` by `mapPgError`), as does a deadlock with another
 * batch; the writer then returns `undefined`, and so it does for executions too large for
 * one document. Always on the pool: FM001 would abort a caller's transaction.
 */
export class ResumeWriter {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async write(params: CompleteAndResumeManyParams): Promise<CompletedAndResumed | undefined> {
    const { maxPayloadBytes } = this.#ctx;
    const { jobIds, leaseIds, results } = completionColumns(params?.items, maxPayloadBytes);
    const events = normalizeRunnerEvents(params.events ?? [], maxPayloadBytes);
    const updates = params.executions;
    const jsons = assertExecutionUpdates(updates, { maxBytes: maxPayloadBytes }, 'executions');
    // Sorted by id, as `updateMany` sends them (see its statement).
    const order = updates
      .map((_, i) => i)
      .sort((a, b) => compareText(updates[a]?.execution.id ?? '', updates[b]?.execution.id ?? ''));
    const documents = updateManyDocuments(
      order.map((i) => [updates[i] as ExecutionUpdate, jsons[i] as ExecutionJson]),
    );
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
      throw error;
    }
    return {
      finishedAt: at === null || at === undefined ? Date.now() : Number(at),
      executions: updates.map((u, i) =>
        executionAsStored(u.execution, jsons[i] as ExecutionJson, u.expectedVersion + 1),
      ),
    };
  }
}
