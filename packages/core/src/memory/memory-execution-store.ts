import { assertExecution, assertExecutionStatus, type ExecutionJson } from '../assert-execution.js';
import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js';
import type { Execution, ExecutionStatus } from '../execution.js';
import { executionAsStored } from '../execution-as-stored.js';
import { assertExecutionUpdates, normalizeExecutionIds } from '../execution-store-checks.js';
import type {
  CreateExecutionResult,
  ExecutionStore,
  ExecutionUpdate,
  UpdateManyExecutionsResult,
} from '../stores/execution-store.js';
import { assertInteger, assertTimestamp } from '../validation.js';
import { copy, type MemoryStoreContext } from './memory-state.js';

const MAX_LIMIT = 100_000;

/**
 * In-memory {@link ExecutionStore} for unit tests and quick scripts, with the same
 * validation, idempotency (per `flowId`) and optimistic concurrency as the Postgres store.
 * Payloads are stored as their JSON round trip, so what comes back is what Postgres would
 * return (a `Date` in the context comes back as an ISO string). Values are deep-copied in
 * and out.
 */
export class MemoryExecutionStore implements ExecutionStore {
  readonly #ctx: MemoryStoreContext;

  /** @param ctx state, clock and limits shared with the other memory stores. */
  constructor(ctx: MemoryStoreContext) {
    this.#ctx = ctx;
  }

  async create(execution: Execution): Promise<CreateExecutionResult> {
    const json = assertExecution(execution, { maxBytes: this.#ctx.maxPayloadBytes });
    if (execution.version !== 0)
      throw new ValidationError('version', 'must be 0 for a new execution');
    const { state } = this.#ctx;
    if (execution.idempotencyKey !== null && execution.idempotencyKey !== undefined) {
      const existingId = state.executionKeys.get(keyOf(execution.flowId, execution.idempotencyKey));
      const existing = existingId === undefined ? undefined : state.executions.get(existingId);
      if (existing !== undefined) return { execution: copy(existing), created: false };
    }
    if (state.executions.has(execution.id)) {
      throw new ValidationError('id', 'an execution with this id already exists');
    }
    const stored = executionAsStored(execution, json, 0);
    state.executions.set(stored.id, stored);
    if (stored.idempotencyKey !== null) {
      state.executionKeys.set(keyOf(stored.flowId, stored.idempotencyKey), stored.id);
    }
    return { execution: copy(stored), created: true };
  }

  async get(executionId: string): Promise<Execution | undefined> {
    const execution = this.#ctx.state.executions.get(executionId);
    return execution === undefined ? undefined : copy(execution);
  }

  async getMany(executionIds: readonly string[]): Promise<Execution[]> {
    const found: Execution[] = [];
    for (const id of normalizeExecutionIds(executionIds)) {
      const execution = this.#ctx.state.executions.get(id);
      if (execution !== undefined) found.push(copy(execution));
    }
    return found;
  }

  async update(params: { execution: Execution; expectedVersion: number }): Promise<Execution> {
    const { execution, expectedVersion } = params;
    const json = assertExecution(execution, { maxBytes: this.#ctx.maxPayloadBytes });
    assertInteger(expectedVersion, 'expectedVersion', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const current = this.#ctx.state.executions.get(execution.id);
    if (current === undefined) throw new NotFoundError('execution', execution.id);
    if (current.version !== expectedVersion) {
      throw new ConcurrencyError('execution', execution.id, expectedVersion);
    }
    return copy(this.#store(current, execution, json, expectedVersion));
  }

  async updateMany(params: {
    items: readonly ExecutionUpdate[];
  }): Promise<UpdateManyExecutionsResult> {
    const items = params?.items;
    const jsons = assertExecutionUpdates(items, { maxBytes: this.#ctx.maxPayloadBytes });
    const out: UpdateManyExecutionsResult = { updated: [], conflicts: [] };
    items.forEach(({ execution, expectedVersion }, i) => {
      const current = this.#ctx.state.executions.get(execution.id);
      if (current === undefined || current.version !== expectedVersion) {
        out.conflicts.push(execution.id);
        return;
      }
      // assertExecutionUpdates returns one entry per item.
      const json = jsons[i] as ExecutionJson;
      out.updated.push(copy(this.#store(current, execution, json, expectedVersion)));
    });
    return out;
  }

  /** Stores `execution` over `current` at `expectedVersion + 1`, keeping what never changes. */
  #store(
    current: Execution,
    execution: Execution,
    json: ExecutionJson,
    expectedVersion: number,
  ): Execution {
    const stored = executionAsStored(execution, json, expectedVersion + 1);
    stored.createdAt = current.createdAt;
    stored.flowId = current.flowId;
    stored.idempotencyKey = current.idempotencyKey;
    this.#ctx.state.executions.set(stored.id, stored);
    return stored;
  }

  async list(params: {
    status?: ExecutionStatus;
    flowId?: string;
    tenantId?: string;
    limit: number;
    offset?: number;
  }): Promise<Execution[]> {
    if (params.status !== undefined) assertExecutionStatus(params.status, 'status');
    const limit = assertInteger(params.limit, 'limit', { min: 0, max: MAX_LIMIT });
    const offset = assertInteger(params.offset ?? 0, 'offset', {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const found = [...this.#ctx.state.executions.values()].filter(
      (e) =>
        (params.status === undefined || e.status === params.status) &&
        (params.flowId === undefined || e.flowId === params.flowId) &&
        (params.tenantId === undefined || e.tenantId === params.tenantId),
    );
    // Newest first; reversed before a stable sort, so same-ms executions list last-inserted first.
    found.reverse().sort((a, b) => b.createdAt - a.createdAt);
    return found.slice(offset, offset + limit).map(copy);
  }

  async listDueWakeups(params: { limit: number; now?: number }): Promise<Execution[]> {
    const limit = assertInteger(params.limit, 'limit', { min: 0, max: MAX_LIMIT });
    const now =
      params.now === undefined ? this.#ctx.clock.now() : assertTimestamp(params.now, 'now');
    const due = [...this.#ctx.state.executions.values()].filter(
      (e) => e.status === 'waiting' && e.wakeAt !== null && e.wakeAt <= now,
    );
    due.sort((a, b) => (a.wakeAt ?? 0) - (b.wakeAt ?? 0) || compareIds(a, b));
    return due.slice(0, limit).map(copy);
  }
}

function keyOf(flowId: string, idempotencyKey: string): string {
  return `${flowId}\u0000${idempotencyKey}`;
}

function compareIds(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
