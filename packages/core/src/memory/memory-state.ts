import type { Clock } from '../clock.js';
import type { Execution } from '../execution.js';
import type { Job } from '../job.js';
import type { Schedule } from '../schedule.js';

/** The scheduler leadership lease row. */
export interface MemoryLeadershipRow {
  holderId: string;
  term: number;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Everything the in-memory stores hold, shared by the three stores of one
 * `createMemoryStores()` call so that a transaction can snapshot and restore it whole.
 * The maps are replaced (not mutated) on rollback, so stores must read them through the
 * state object on every call rather than keep references to them.
 */
export interface MemoryState {
  jobs: Map<string, Job>;
  /** `idempotencyKey` → job id. */
  jobKeys: Map<string, string>;
  executions: Map<string, Execution>;
  /** `flowId` + NUL + `idempotencyKey` → execution id. */
  executionKeys: Map<string, string>;
  schedules: Map<string, Schedule>;
  /** Schedule name + NUL + fire time → id of the job created for that tick. */
  fires: Map<string, string>;
  leadership: MemoryLeadershipRow | null;
}

/** Settings shared by the in-memory stores. */
export interface MemoryStoreContext {
  state: MemoryState;
  /** Source of time when a method gets no `now`. */
  clock: Clock;
  /** Largest JSON payload in UTF-8 bytes; `undefined` uses the validation default. */
  maxPayloadBytes: number | undefined;
}

/** Returns a new, empty state. */
export function createMemoryState(): MemoryState {
  return {
    jobs: new Map(),
    jobKeys: new Map(),
    executions: new Map(),
    executionKeys: new Map(),
    schedules: new Map(),
    fires: new Map(),
    leadership: null,
  };
}

/** Returns a deep copy of `state`, for rolling back a transaction. */
export function snapshotMemoryState(state: MemoryState): MemoryState {
  return structuredClone(state);
}

/** Puts the contents of `snapshot` back into `state` (in place, keeping its identity). */
export function restoreMemoryState(state: MemoryState, snapshot: MemoryState): void {
  Object.assign(state, snapshot);
}

/** Deep copy of a stored value, so callers never share objects with the store. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}
