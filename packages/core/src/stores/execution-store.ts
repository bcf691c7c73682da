import type { Execution, ExecutionStatus } from '../execution.js';

/** Result of {@link ExecutionStore.create}. */
export interface CreateExecutionResult {
  execution: Execution;
  /** False when an execution with the same `(flowId, idempotencyKey)` already existed and was returned instead. */
  created: boolean;
}

/** One item of {@link ExecutionStore.updateMany}: an `update` of one execution. */
export interface ExecutionUpdate {
  /** The execution to write, whole (as for `update`). */
  execution: Execution;
  /** The version it must still have when written. */
  expectedVersion: number;
}

/** Result of {@link ExecutionStore.updateMany}. */
export interface UpdateManyExecutionsResult {
  /** The executions written, as stored (`version = expectedVersion + 1`), in input order. */
  updated: Execution[];
  /**
   * Ids of the items that changed nothing, in input order: the stored version was no longer
   * `expectedVersion` (someone else wrote first), or the execution does not exist.
   */
  conflicts: string[];
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
   * Returns the executions with these ids that exist, in the order of `executionIds`, each
   * once (a repeated id is returned at its first position; missing ids are left out). One
   * query for the Postgres store. Throws `ValidationError` (field `executionIds`) when it
   * is not an array. Optional: callers fall back to `get` per id when a store lacks it.
   */
  getMany?(executionIds: readonly string[]): Promise<Execution[]>;

  /**
   * Writes `execution` if the stored version still equals `expectedVersion`, storing it
   * with `version = expectedVersion + 1` and returning what was stored. Throws
   * `ConcurrencyError` (nothing written) if someone else updated it first, and
   * `NotFoundError` if it does not exist.
   */
  update(params: { execution: Execution; expectedVersion: number }): Promise<Execution>;

  /**
   * Many `update`s in one call (one statement for the Postgres store), each optimistic on
   * its own `expectedVersion`. An item whose execution moved on or does not exist changes
   * nothing and is listed in `conflicts` instead of throwing; the others are written.
   * Validates every item first and writes nothing when one is bad: `ValidationError`
   * naming `items[i].execution.<field>` or `items[i].expectedVersion`, and
   * `items[i].execution.id` for an id already given by an earlier item. Optional: callers
   * fall back to `update` per item when a store lacks it.
   */
  updateMany?(params: { items: readonly ExecutionUpdate[] }): Promise<UpdateManyExecutionsResult>;

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
