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
  executionAsStored,
  NotFoundError,
  normalizeExecutionIds,
  type UpdateManyExecutionsResult,
  ValidationError,
} from '@flowmonkey/core';
import pg from 'pg';
import {
  compareText,
  sortedUpdateDocuments,
  type UpdateDocument,
  updateManyDocuments,
} from './execution-update-documents.js';
import { GroupCommit } from './group-commit.js';
import { inOneCommit } from './pool-transaction.js';
import { type Queryable, type Row, runStatement } from './queryable.js';
import { rowToExecution } from './rows.js';
import { nowValue } from './statement-values.js';
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

  /**
   * On the pool, concurrent creates are group-committed (one INSERT and commit for all
   * those waiting while the previous one runs; a lone create, the first after an idle
   * spell or one of a failed batch, goes through the one-row statement). Inside a
   * transaction: written at once. Validated before it waits, so a bad execution fails
   * alone; a taken idempotency key is read after the write.
   */
  async create(execution: Execution): Promise<CreateExecutionResult> {
    const { values, json } = executionValues(execution, this.#ctx.maxPayloadBytes);
    if (execution.version !== 0) throw new ValidationError('version', 'must be 0 on create');
    const item = { execution, values, json };
    const inserted =
      this.#ctx.db instanceof pg.Pool ? await this.#creates.add(item) : await this.#insertOne(item);
    // What it stores is what was sent: the statements return ids only.
    if (inserted) return { execution: executionAsStored(execution, json, 0), created: true };
    return this.#existing(execution);
  }

  readonly #creates = new GroupCommit<NewExecution, boolean>({
    writeMany: (items) => this.#insertMany(items),
    writeOne: (item) => this.#insertOne(item),
    maxBatch: 100,
  });

  /** Inserts one execution; false when its idempotency key is taken. */
  async #insertOne({ values }: NewExecution): Promise<boolean> {
    const [row] = await runStatement(this.#ctx.db, this.#sql().create, values);
    return row !== undefined;
  }

  /**
   * Inserts `items` with one statement, sorted by flow and key (so concurrent batches
   * wait for each other's keys in one order); per item, false when its key was taken (by
   * an earlier row of the batch too). Refused before sending, so each is written alone,
   * when two items share an id (their results would be ambiguous) or the batch is too
   * large for one document.
   */
  async #insertMany(items: readonly NewExecution[]): Promise<boolean[]> {
    const ids = new Set(items.map((item) => item.execution.id));
    if (ids.size < items.length) throw new ValidationError('id', 'given twice in one batch');
    const byKey = [...items].sort(
      (a, b) =>
        compareText(a.execution.flowId, b.execution.flowId) ||
        compareText(a.execution.idempotencyKey ?? '', b.execution.idempotencyKey ?? ''),
    );
    const documents = updateManyDocuments(
      byKey.map(({ execution, json }) => [{ execution, expectedVersion: 0 }, json]),
    );
    if (documents.length > 1) throw new ValidationError('executions', 'too large for one batch');
    const rows = await runStatement(this.#ctx.db, this.#sql().createMany, [documents[0]?.json]);
    const inserted = new Set(rows.map((row) => String(row.id)));
    return items.map((item) => inserted.has(item.execution.id));
  }

  /** The execution holding `execution`'s idempotency key, which an insert found taken. */
  async #existing(execution: Execution): Promise<CreateExecutionResult> {
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
    const rows = await this.#updateDocuments(sortedUpdateDocuments(items, jsons));
    // The rows come back as ids only: what they store is what was sent.
    const written = new Set(rows.map((row) => String(row.id)));
    const out: UpdateManyExecutionsResult = { updated: [], conflicts: [] };
    items.forEach((item, i) => {
      if (written.has(item.execution.id)) {
        out.updated.push(
          executionAsStored(item.execution, jsons[i] as ExecutionJson, item.expectedVersion + 1),
        );
      } else out.conflicts.push(item.execution.id);
    });
    return out;
  }

  /**
   * Runs `updateMany` once per document. A batch split in several (see
   * `STATEMENT_DOCUMENT_CHARS`) is written in one transaction of its own on the pool, so a
   * failure halfway leaves none of it written, as with one statement.
   */
  async #updateDocuments(documents: readonly UpdateDocument[]): Promise<Row[]> {
    const write = async (db: Queryable) => {
      const rows: Row[] = [];
      for (const { json, rows: count } of documents) {
        rows.push(...(await runStatement(db, this.#sql().updateMany, [json, count])));
      }
      return rows;
    };
    return inOneCommit(this.#ctx.db, documents.length, write);
  }

  async update(params: { execution: Execution; expectedVersion: number }): Promise<Execution> {
    const { values, json, expected } = updateValues(params, this.#ctx.maxPayloadBytes);
    const [row] = await runStatement(this.#ctx.db, this.#sql().update, values);
    if (row !== undefined) return executionAsStored(params.execution, json, expected + 1);
    return notUpdated(this.#ctx, params.execution.id, expected);
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
}

/** A validated execution waiting to be created, with its column values and JSON. */
interface NewExecution {
  execution: Execution;
  values: unknown[];
  json: ExecutionJson;
}

/**
 * Validates `execution` (nothing written on failure) and returns the 19 column values
 * (`COLUMNS` order) and the JSON of its payloads.
 */
function executionValues(
  execution: Execution,
  maxBytes: number,
): { values: unknown[]; json: ExecutionJson } {
  const json = assertExecution(execution, { maxBytes });
  const values = [
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
    execution.wakeAt == null ? null : new Date(execution.wakeAt),
    execution.idempotencyKey,
    execution.tenantId,
    execution.parentExecutionId,
    execution.version,
    new Date(execution.createdAt),
    new Date(execution.updatedAt),
  ];
  return { values, json };
}

/**
 * Validates an `update` (nothing written on failure) and returns its 19 parameters (the
 * expected version as $17), the JSON of the payloads and the expected version.
 */
export function updateValues(
  params: { execution: Execution; expectedVersion: number },
  maxBytes: number,
): { values: unknown[]; json: ExecutionJson; expected: number } {
  const expected = assertInteger(params?.expectedVersion, 'expectedVersion', {
    min: 0,
    max: 2_147_483_646,
  });
  const { values, json } = executionValues(params.execution, maxBytes);
  values[16] = expected;
  return { values, json, expected };
}

/**
 * Throws why an `update` of execution `id` over version `expected` matched no row:
 * `NotFoundError` when it does not exist, else `ConcurrencyError`.
 */
export async function notUpdated(ctx: StoreContext, id: string, expected: number): Promise<never> {
  const [current] = await runStatement(ctx.db, ctx.statements.executions.exists, [id]);
  if (current === undefined) throw new NotFoundError('execution', id);
  throw new ConcurrencyError('execution', id, expected);
}
