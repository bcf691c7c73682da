import type { Execution, ExecutionStatus } from '../execution.js';

/** Result of {@link ExecutionStore.create}. */
export interface CreateExecutionResult {
  execution: Execution;
  /** False when an execution with the same `(flowId, idempotencyKey)` already existed and was returned instead. */
  created: boolean;
}

/** Persists executions. All methods may run inside `Stores.transaction`. */
export interface ExecutionStore {
  /**
   * Inserts a new execution (its `version` must be 0). When `idempotencyKey` is set and an
   * execution of the same flow already has it, returns that one with `created: false`.
   */
  create(execution: Execution): Promise<CreateExecutionResult>;

  /** Returns the execution, or `undefined` if there is none with that id. */
  get(executionId: string): Promise<Execution | undefined>;

  /**
   * Writes `execution` if the stored version still equals `expectedVersion`, storing it
   * with `version = expectedVersion + 1` and returning what was stored. Throws
   * `ConcurrencyError` (nothing written) if someone else updated it first, and
   * `NotFoundError` if it does not exist.
   */
  update(params: { execution: Execution; expectedVersion: number }): Promise<Execution>;

  /** Lists executions, newest first, optionally filtered. */
  list(params: {
    status?: ExecutionStatus;
    flowId?: string;
    tenantId?: string;
    limit: number;
    offset?: number;
  }): Promise<Execution[]>;

  /**
   * Returns `waiting` executions whose timed wait is due (`wakeAt <= now`), oldest due
   * first, at most `limit`. `now` defaults to the store's clock (database time for Postgres).
   */
  listDueWakeups(params: { limit: number; now?: number }): Promise<Execution[]>;
}
