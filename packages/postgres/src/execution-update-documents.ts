import type { ExecutionJson, ExecutionUpdate } from '@flowmonkey/core';

/**
 * Most characters (UTF-16 code units) in one `updateMany` document: jsonb holds at most
 * 256 MB, and a code unit takes at most 3 bytes in UTF-8.
 */
const MAX_UPDATE_DOCUMENT_CHARS = 32 * 2 ** 20;

/**
 * Most characters of executions (or job results) one batch statement carries; a batch
 * with more is written in several statements, in one transaction. A PostgreSQL server
 * process that had served small batches before took the memory of each statement of a
 * few hundred kilobytes fresh from the kernel on every call (glibc's malloc hands it back
 * after each; see "Large batches after small ones" in the package README): in the bench's
 * workflow (step batches of 250), 24,000 to 38,000 page faults per 5,000 executions and
 * 3,399 to 3,448 executions/s, against about 700 faults and 4,334 to 4,539/s with
 * batches of 60, whose statements stay under 64 KB (`studies/workflow-backlog.ts`; commit
 * 394f9c4, and the evening pass in bench/HISTORY.md for the page faults). 48 Ki characters
 * keeps a statement under 64 KB for ASCII JSON, beside its other arrays. (Smaller
 * statements do not remove the effect everywhere: a bulk `createMany` of 250 jobs still
 * shows it.)
 */
export const STATEMENT_DOCUMENT_CHARS = 48 * 1024;

/** One document of {@link updateManyDocuments}: a JSON array and how many rows it holds. */
export interface UpdateDocument {
  json: string;
  rows: number;
}

/**
 * The rows of `PgExecutionStore.updateMany` as JSON arrays for its `jsonb_to_recordset`:
 * keys as the recordset names them, timestamps as ISO text (exact to the ms, as `update`
 * stores them), `version` holding the expected one. The payloads are already JSON text
 * (checked by `assertExecutionUpdates`) and go in as they are. Split so that no document
 * passes `maxChars` unless one row alone does; rows are independent (each fenced by its own
 * version), so a batch written in several statements reports the same.
 */
export function updateManyDocuments(
  items: readonly [ExecutionUpdate, ExecutionJson][],
  maxChars = MAX_UPDATE_DOCUMENT_CHARS,
): UpdateDocument[] {
  const text = (value: string | null | undefined) =>
    value === null || value === undefined ? 'null' : JSON.stringify(value);
  const time = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? 'null' : `"${new Date(ms).toISOString()}"`;
  const documents: UpdateDocument[] = [];
  let rows: string[] = [];
  let size = 0;
  for (const [{ execution: e, expectedVersion }, j] of items) {
    const row = [
      `{"id":${text(e.id)},"flow_id":${text(e.flowId)},"flow_version":${e.flowVersion}`,
      `"status":${text(e.status)},"current_step_id":${text(e.currentStepId)}`,
      `"input":${j.input},"context":${j.context},"output":${j.output},"error":${j.error}`,
      `"history":${j.history},"step_count":${e.stepCount},"waiting_on":${j.waitingOn}`,
      `"wake_at":${time(e.wakeAt)},"idempotency_key":${text(e.idempotencyKey)}`,
      `"tenant_id":${text(e.tenantId)},"parent_execution_id":${text(e.parentExecutionId)}`,
      `"version":${expectedVersion},"created_at":${time(e.createdAt)}`,
      `"updated_at":${time(e.updatedAt)}}`,
    ].join(',');
    if (rows.length > 0 && size + row.length > maxChars) {
      documents.push({ json: `[${rows.join(',')}]`, rows: rows.length });
      rows = [];
      size = 0;
    }
    rows.push(row);
    size += row.length + 1;
  }
  if (rows.length > 0) documents.push({ json: `[${rows.join(',')}]`, rows: rows.length });
  return documents;
}

/**
 * `items` (with their checked payloads `jsons`, in the same order) as `updateMany`
 * documents of at most {@link STATEMENT_DOCUMENT_CHARS} each (unless one row alone is
 * larger), the rows sorted by execution id: concurrent batches then lock shared rows in
 * one order (see the `updateMany` statement).
 */
export function sortedUpdateDocuments(
  items: readonly ExecutionUpdate[],
  jsons: readonly ExecutionJson[],
): UpdateDocument[] {
  const order = items
    .map((_, i) => i)
    .sort((a, b) => compareText(items[a]?.execution.id ?? '', items[b]?.execution.id ?? ''));
  return updateManyDocuments(
    order.map((i) => [items[i] as ExecutionUpdate, jsons[i] as ExecutionJson]),
    STATEMENT_DOCUMENT_CHARS,
  );
}

/** Orders text by UTF-16 code units, as the stores sort ids and keys before a batch. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
