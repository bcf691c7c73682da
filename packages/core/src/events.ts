import type { Execution } from './execution.js';
import type { Job, JobProgress } from './job.js';
import type { Logger } from './logger.js';
import { noopLogger } from './logger.js';
import type { ErrorInfo } from './result.js';

/**
 * Lifecycle events and their payloads. Execution and step events come from the engine,
 * emitted after the write they describe has committed; job events come from runners (and
 * `job:created` from the engine). Every payload carries the execution or job as written,
 * except `step:started` (the visit as begun, written with the step's end or park) and one
 * case: an inline step whose outcome is written together with the park of the stateful
 * step it leads to (see `Engine`) emits its `step:completed` (or `step:failed`) with the
 * state between the two steps, never stored on its own (its `version` is the one before
 * that write); that event and the stateful step's `step:started` come after the commit.
 */
export interface FlowMonkeyEvents {
  /** An execution was created by `Engine.start` (not for a repeated idempotency key). */
  'execution:started': { execution: Execution };
  /**
   * A visit to `stepId` began: its handler is about to run or its job to be created (or,
   * after an inline step it shares a write with, was just created; see above).
   */
  'step:started': { execution: Execution; stepId: string };
  /** Step `stepId` succeeded with `output`, now stored in the context (`null` for none). */
  'step:completed': { execution: Execution; stepId: string; output: unknown };
  /** Step `stepId` failed or was cancelled with `error`; its `onFailure` comes next, if any. */
  'step:failed': { execution: Execution; stepId: string; error: ErrorInfo };
  /**
   * The execution parked in `stepId`: on job `jobId` (a stateful step), until epoch ms
   * `until` (a timed wait), or until resumed (both `null`).
   */
  'execution:waiting': {
    execution: Execution;
    stepId: string;
    jobId: string | null;
    until: number | null;
  };
  /** The wait in `stepId` (on job `jobId`, or `null`) ended: by a resume, a job or a wake-up. */
  'execution:resumed': { execution: Execution; stepId: string; jobId: string | null };
  /** The execution reached the end of its flow; `execution.output` is its result. */
  'execution:completed': { execution: Execution };
  /** The execution failed with `error` (a step failure without `onFailure`, or the step limit). */
  'execution:failed': { execution: Execution; error: ErrorInfo };
  /** The execution was cancelled by `Engine.cancel` with `reason`. */
  'execution:cancelled': { execution: Execution; reason: string };
  /** A job was created (by the engine for a stateful step). */
  'job:created': { job: Job };
  /** A runner claimed the job and holds its lease; its handler is about to run. */
  'job:claimed': { job: Job };
  /** An attempt of the job started: its handler is being called. */
  'job:started': { job: Job };
  /** The job's handler reported `progress` (`percent` 0..100 and a `message`), now stored. */
  'job:progress': { job: Job; progress: JobProgress };
  /** The job completed; its result is stored in `job.result`. */
  'job:completed': { job: Job };
  /** The job failed for good with `error` (no attempts or retries left). */
  'job:failed': { job: Job; error: ErrorInfo };
  /** An attempt failed with `error`; the job runs again at epoch ms `retryAt`. */
  'job:retrying': { job: Job; error: ErrorInfo; retryAt: number };
  /** The job was cancelled with `reason` and its runner confirmed it stopped. */
  'job:cancelled': { job: Job; reason: string };
  /** The attempt ran longer than `timeoutMs` (ms) and was aborted. */
  'job:timeout': { job: Job; timeoutMs: number };
  /** The runner lost the job's lease (reset by the reaper or settled elsewhere); its outcome was dropped. */
  'job:lease-lost': { job: Job };
}

/** Names of lifecycle events. */
export type FlowMonkeyEventName = keyof FlowMonkeyEvents;

/** A listener for event `E`. May be async; its result is not awaited. */
export type EventListener<E extends FlowMonkeyEventName> = (
  payload: FlowMonkeyEvents[E],
) => void | Promise<void>;

/**
 * A typed, synchronous event bus. A listener that throws (or rejects) is logged and does
 * not affect other listeners or the code that emitted the event.
 */
export class EventBus {
  readonly #listeners = new Map<FlowMonkeyEventName, Set<EventListener<FlowMonkeyEventName>>>();
  readonly #log: Logger;

  constructor(options: { logger?: Logger } = {}) {
    this.#log = options.logger ?? noopLogger;
  }

  /** Subscribes `listener` to `event`; returns a function that unsubscribes it. */
  on<E extends FlowMonkeyEventName>(event: E, listener: EventListener<E>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as EventListener<FlowMonkeyEventName>);
    return () => this.off(event, listener);
  }

  /** Unsubscribes `listener` from `event`. */
  off<E extends FlowMonkeyEventName>(event: E, listener: EventListener<E>): void {
    this.#listeners.get(event)?.delete(listener as EventListener<FlowMonkeyEventName>);
  }

  /** True when anything listens to `event` (lets emitters skip building payloads). */
  has(event: FlowMonkeyEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  /** Calls every listener of `event` with `payload`. */
  emit<E extends FlowMonkeyEventName>(event: E, payload: FlowMonkeyEvents[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        const result = listener(payload);
        if (result instanceof Promise) {
          result.catch((error: unknown) =>
            this.#log.error({ err: error, event }, 'event listener failed'),
          );
        }
      } catch (error) {
        this.#log.error({ err: error, event }, 'event listener failed');
      }
    }
  }
}
