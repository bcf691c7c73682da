import type { ErrorInfo } from './result.js';

/** Lifecycle of an execution. `completed`, `failed` and `cancelled` are terminal. */
export type ExecutionStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'completed'
  | 'failed'
  | 'cancelled';

/** Statuses after which an execution never changes again. */
export const TERMINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'completed',
  'failed',
  'cancelled',
];

/** How one visit to a step ended. `null` while the step is still in progress. */
export type StepOutcomeKind = 'success' | 'failure' | 'waiting' | 'cancelled';

/** One visit to one step, in order. A step visited twice (a loop) has two records. */
export interface StepRecord {
  stepId: string;
  /** 1 for the first visit of this step in this execution, 2 for the second, and so on. */
  attempt: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms, or `null` while in progress (e.g. waiting on a job). */
  finishedAt: number | null;
  outcome: StepOutcomeKind | null;
  /** The job that ran this step, for stateful steps. */
  jobId: string | null;
  error: ErrorInfo | null;
}

/** What a `waiting` execution waits for. */
export interface WaitState {
  stepId: string;
  /** The job whose outcome will resume the execution; `null` for a timed or external wait. */
  jobId: string | null;
  reason: string;
  /** Epoch ms at which a timed wait is due; `null` when it waits for a resume. */
  until: number | null;
}

/**
 * One run of a flow. `context` accumulates step outputs: it starts as `{ input }` and each
 * step's output is stored under the step's `outputKey` (default: the step id).
 */
export interface Execution {
  id: string;
  flowId: string;
  flowVersion: number;
  status: ExecutionStatus;
  /** The step the execution is at (running it, or waiting in it); `null` once finished. */
  currentStepId: string | null;
  input: unknown;
  context: Record<string, unknown>;
  /** The final output (the last step's output) once completed. */
  output: unknown;
  error: ErrorInfo | null;
  history: StepRecord[];
  /** Steps started so far; bounded by the flow's `maxSteps`. */
  stepCount: number;
  waitingOn: WaitState | null;
  /** Epoch ms at which a timed wait is due (mirrors `waitingOn.until` for indexing). */
  wakeAt: number | null;
  /** Starting a flow twice with the same key returns the first execution. */
  idempotencyKey: string | null;
  tenantId: string | null;
  parentExecutionId: string | null;
  /** Optimistic-concurrency version; every update increments it by one. */
  version: number;
  createdAt: number;
  updatedAt: number;
}
