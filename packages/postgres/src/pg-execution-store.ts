import {
  assertExecution,
  assertExecutionStatus,
  assertExecutionUpdates,
  assertInteger,
  assertOptionalText,
  ConcurrencyError,
  type CreateExecutionResult,
  type Execution,
  type ExecutionJson,
  type ExecutionStatus,
  type ExecutionStore,
  type ExecutionUpdate,
  NotFoundError,
  normalizeExecutionIds,
  type UpdateManyExecutionsResult,
  ValidationError,
} from '@flowmonkey/core';
import { nowValue } from './pg-job-store.js';
import { type Row, runStatement } from './queryable.js';
import { rowToExecution } from './rows.js';
import type { StoreContext } from './store-context.js';

const TEXT = { maxLength: 255 } as const;

/**
 * Core's {@link ExecutionStore} on PostgreSQL. Updates are optimistic (`WHERE version =
 * expected`); idempotent creation relies on the unique index on `(flow_id, idempotency_key)`,
 * so concurrent starts with one key make one execution. Timestamps are the engine's.
 */
export class PgExecutionStore implements ExecutionStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  #sql() {
    return this.#ctx.statements.executions;
  }

  async create(execution: Execution): Promise<CreateExecutionResult> {
    const values = this.#values(execution);
    if (execution.version !== 0) throw new ValidationError('version', 'must be 0 on create');
    const [row] = await runStatement(this.#ctx.db, this.#sql().create, values);
    if (row !== undefined) return { execution: rowToExecution(row), created: true };
    const [existing] = await runStatement(this.#ctx.db, this.#sql().getByIdempotencyKey, [
      execution.flowId,
      execution.idempotencyKey,
    ]);
    if (existing === undefined) throw new NotFoundError('execution', execution.id);
    return { execution: rowToExecution(existing), created: false };
  }

  async get(executionId: string): Promise<Execution | undefined> {
    if (typeof executionId !== 'string' || executionId.length === 0) return undefined;
    const [row] = await runStatement(this.#ctx.db, this.#sql().get, [executionId]);
    return row === undefined ? undefined : rowToExecution(row);
  }

  async getMany(executionIds: readonly string[]): Promise<Execution[]> {
    const ids = normalizeExecutionIds(executionIds);
    if (ids.length === 0) return [];
    const rows = await runStatement(this.#ctx.db, this.#sql().getMany, [ids]);
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return ids.flatMap((id) => {
      const row = byId.get(id);
      return row === undefined ? [] : [rowToExecution(row)];
    });
  }

  async updateMany(params: {
    items: readonly ExecutionUpdate[];
  }): Promise<UpdateManyExecutionsResult> {
    const items = params?.items;
    const jsons = assertExecutionUpdates(items, { maxBytes: this.#ctx.maxPayloadBytes });
    if (items.length === 0) return { updated: [], conflicts: [] };
    const order = items
      .map((_, i) => i)
      .sort((a, b) => {
        const [x, y] = [items[a]?.execution.id ?? '', items[b]?.execution.id ?? ''];
        return x < y ? -1 : x > y ? 1 : 0;
      });
    const rows: Row[] = [];
    const documents = updateManyJson(
      order.map((i) => [items[i] as ExecutionUpdate, jsons[i] as ExecutionJson]),
    );
    for (const document of documents) {
      rows.push(...(await runStatement(this.#ctx.db, this.#sql().updateMany, [document])));
    }
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    const out: UpdateManyExecutionsResult = { updated: [], conflicts: [] };
    for (const { execution } of items) {
      const row = byId.get(execution.id);
      if (row === undefined) out.conflicts.push(execution.id);
      else out.updated.push(rowToExecution(row));
    }
    return out;
  }

  async update(params: { execution: Execution; expectedVersion: number }): Promise<Execution> {
    const expected = assertInteger(params.expectedVersion, 'expectedVersion', {
      min: 0,
      max: 2_147_483_646,
    });
    const values = this.#values(params.execution);
    values[16] = expected;
    const [row] = await runStatement(this.#ctx.db, this.#sql().update, values);
    if (row !== undefined) return rowToExecution(row);
    const id = params.execution.id;
    const [current] = await runStatement(this.#ctx.db, this.#sql().exists, [id]);
    if (current === undefined) throw new NotFoundError('execution', id);
    throw new ConcurrencyError('execution', id, expected);
  }

  async list(params: {
    status?: ExecutionStatus;
    flowId?: string;
    tenantId?: string;
    limit: number;
    offset?: number;
  }): Promise<Execution[]> {
    const rows = await runStatement(this.#ctx.db, this.#sql().list, [
      params.status === undefined ? null : assertExecutionStatus(params.status, 'status'),
      assertOptionalText(params.flowId, 'flowId', TEXT),
      assertOptionalText(params.tenantId, 'tenantId', TEXT),
      assertInteger(params.limit, 'limit', { min: 0, max: 100_000 }),
      assertInteger(params.offset ?? 0, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }),
    ]);
    return rows.map(rowToExecution);
  }

  async listDueWakeups(params: { limit: number; now?: number }): Promise<Execution[]> {
    const rows = await runStatement(this.#ctx.db, this.#sql().listDueWakeups, [
      assertInteger(params.limit, 'limit', { min: 0, max: 100_000 }),
      nowValue(params.now),
    ]);
    return rows.map(rowToExecution);
  }

  /** Validates `execution` (nothing written on failure) and returns the 19 column values. */
  #values(execution: Execution): unknown[] {
    const json = assertExecution(execution, { maxBytes: this.#ctx.maxPayloadBytes });
    return [
      execution.id,
      execution.flowId,
      execution.flowVersion,
      execution.status,
      execution.currentStepId,
      json.input,
      json.context,
      json.output,
      json.error,
      json.history,
      execution.stepCount,
      json.waitingOn,
      execution.wakeAt === null ? null : new Date(execution.wakeAt),
      execution.idempotencyKey,
      execution.tenantId,
      execution.parentExecutionId,
      execution.version,
      new Date(execution.createdAt),
      new Date(execution.updatedAt),
    ];
  }
}

/**
 * The rows of `updateMany` as JSON arrays (keys as its recordset names them, timestamps as
 * ISO text, exact to the ms as `update` stores them, `version` holding the expected one),
 * split so that no document nears jsonb's limit of 256 MB. The payloads are already JSON
 * text (checked by `assertExecutionUpdates`) and go in as they are. Rows are independent
 * (each fenced by its own version), so a batch written in several statements reports the
 * same.
 */
function updateManyJson(items: readonly [ExecutionUpdate, ExecutionJson][]): string[] {
  const text = (value: string | null | undefined) =>
    value === null || value === undefined ? 'null' : JSON.stringify(value);
  const time = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? 'null' : `"${new Date(ms).toISOString()}"`;
  const documents: string[] = [];
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
    if (rows.length > 0 && size + row.length > MAX_UPDATE_DOCUMENT_CHARS) {
      documents.push(`[${rows.join(',')}]`);
      rows = [];
      size = 0;
    }
    rows.push(row);
    size += row.length + 1;
  }
  if (rows.length > 0) documents.push(`[${rows.join(',')}]`);
  return documents;
}

/**
 * Most characters (UTF-16 code units) in one `updateMany` document: jsonb holds at most
 * 256 MB, and a code unit takes at most 3 bytes in UTF-8.
 */
const MAX_UPDATE_DOCUMENT_CHARS = 32 * 2 ** 20;
