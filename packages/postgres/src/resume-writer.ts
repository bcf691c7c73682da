import {
  assertExecutionUpdates,
  type CompleteAndResumeManyParams,
  type CompletedAndResumed,
  ConcurrencyError,
  type ExecutionJson,
  executionAsStored,
  normalizeRunnerEvents,
} from '@flowmonkey/core';
import pg from 'pg';
import { type CompletionColumns, completionColumns, eventColumns } from './completion-values.js';
import {
  STATEMENT_DOCUMENT_CHARS,
  sortedUpdateDocuments,
  type UpdateDocument,
} from './execution-update-documents.js';
import { isPgError } from './map-pg-error.js';
import { inPoolTransaction } from './pool-transaction.js';
import { type Queryable, runStatement } from './queryable.js';
import type { StoreContext } from './store-context.js';

/** SQLSTATE undefined_function: `assert_all_written` is missing (migration 00006 not run). */
const UNDEFINED_FUNCTION = '42883';

/** Characters a completed job adds to a statement besides its result: two UUIDs and quoting. */
const JOB_CHARS = 80;

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
    const documents = sortedUpdateDocuments(updates, jsons);
    const jobShares = sharesOf(jobs);
    const statements = Math.max(documents.length, jobShares.length, 1);
    if (statements > 1 && !(db instanceof pg.Pool)) return undefined;
    const send = async (client: Queryable, i: number) => {
      const share = jobShares[i] ?? { jobIds: [], leaseIds: [], results: [] };
      const document: UpdateDocument | undefined = documents[i];
      const [row] = await runStatement(client, this.#ctx.statements.resumes.completeAndResumeMany, [
        share.jobIds,
        share.leaseIds,
        share.results,
        null,
        ...eventColumns(i === 0 ? events : []),
        document?.json ?? '[]',
        document?.rows ?? 0,
      ]);
      return row?.at;
    };
    let at: unknown;
    try {
      if (statements === 1) at = await send(db, 0);
      else {
        at = await inPoolTransaction(db as pg.Pool, async (client) => {
          // One transaction: every statement's `now()` and so its completion time are the same.
          const first = await send(client, 0);
          for (let i = 1; i < statements; i++) await send(client, i);
          return first;
        });
      }
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

/**
 * `jobs` in shares of at most `STATEMENT_DOCUMENT_CHARS` of results each (a share holds at
 * least one job, however large its result), in order; none for no jobs.
 */
function sharesOf(jobs: CompletionColumns): CompletionColumns[] {
  const shares: CompletionColumns[] = [];
  let share: CompletionColumns | undefined;
  let size = 0;
  jobs.jobIds.forEach((jobId, i) => {
    const chars = JOB_CHARS + (jobs.results[i]?.length ?? 0);
    if (
      share === undefined ||
      (share.jobIds.length > 0 && size + chars > STATEMENT_DOCUMENT_CHARS)
    ) {
      share = { jobIds: [], leaseIds: [], results: [] };
      shares.push(share);
      size = 0;
    }
    share.jobIds.push(jobId);
    share.leaseIds.push(jobs.leaseIds[i] ?? null);
    share.results.push(jobs.results[i] ?? 'null');
    size += chars;
  });
  return shares;
}
