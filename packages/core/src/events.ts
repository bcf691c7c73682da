import type { Execution } from './execution.js';
import type { Job, JobProgress } from './job.js';
import type { Logger } from './logger.js';
import { noopLogger } from './logger.js';
import type { ErrorInfo } from './result.js';

/** Lifecycle events and their payloads. Execution events come from the engine, job events from runners. */
export interface FlowMonkeyEvents {
  'execution:started': { execution: Execution };
  'step:started': { execution: Execution; stepId: string };
  'step:completed': { execution: Execution; stepId: string; output: unknown };
  'step:failed': { execution: Execution; stepId: string; error: ErrorInfo };
  'execution:waiting': {
    execution: Execution;
    stepId: string;
    jobId: string | null;
    until: number | null;
  };
  'execution:resumed': { execution: Execution; stepId: string; jobId: string | null };
  'execution:completed': { execution: Execution };
  'execution:failed': { execution: Execution; error: ErrorInfo };
  'execution:cancelled': { execution: Execution; reason: string };
  'job:created': { job: Job };
  'job:claimed': { job: Job };
  'job:started': { job: Job };
  'job:progress': { job: Job; progress: JobProgress };
  'job:completed': { job: Job };
  'job:failed': { job: Job; error: ErrorInfo };
  'job:retrying': { job: Job; error: ErrorInfo; retryAt: number };
  'job:cancelled': { job: Job; reason: string };
  'job:timeout': { job: Job; timeoutMs: number };
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
