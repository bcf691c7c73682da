import { DuplicateError, NotFoundError, ValidationError } from './errors.js';
import type { StepHandler } from './handler.js';

/**
 * Step handlers by type. The engine routes each step to the handler named by the step's
 * `type`; a job runner uses the same registry to run jobs. Types are unique.
 */
export class HandlerRegistry {
  readonly #handlers = new Map<string, StepHandler>();

  /** @param handlers handlers to register at once, in order (a duplicate throws). */
  constructor(handlers: Iterable<StepHandler> = []) {
    for (const handler of handlers) this.register(handler);
  }

  /**
   * Registers `handler` under its `type`. Throws `ValidationError` (field `type` or
   * `execute`) for a malformed handler and `DuplicateError` when the type is taken.
   */
  register(handler: StepHandler): void {
    if (typeof handler?.type !== 'string' || handler.type.length === 0) {
      throw new ValidationError('type', 'a handler needs a non-empty type');
    }
    if (typeof handler.execute !== 'function') {
      throw new ValidationError('execute', `handler "${handler.type}" has no execute function`);
    }
    if (this.#handlers.has(handler.type)) throw new DuplicateError('handler', handler.type);
    this.#handlers.set(handler.type, handler);
  }

  /** Returns the handler registered under `type`; throws `NotFoundError('handler', type)`. */
  get(type: string): StepHandler {
    const handler = this.#handlers.get(type);
    if (handler === undefined) throw new NotFoundError('handler', type);
    return handler;
  }

  /** True when a handler is registered under `type`. */
  has(type: string): boolean {
    return this.#handlers.has(type);
  }

  /** Every registered handler, in registration order. */
  list(): StepHandler[] {
    return [...this.#handlers.values()];
  }
}
