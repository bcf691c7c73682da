import type { StepHandler } from '@flowmonkey/core';
import { DuplicateError, ValidationError } from '@flowmonkey/core';
import type { JobEngine } from './job-engine.js';
import type { JobHandlerFunction, JobHandlerOptions, RegisteredJobHandler } from './job-handler.js';
import { resolveHandlerOptions } from './resolve-handler-options.js';

/**
 * A runner's handlers by job type: those registered with it, and those of its engine's
 * registry, read at each call (so steps registered with the engine later are found too).
 * One registered with the runner takes precedence over the engine's for the same type.
 */
export class RunnerHandlers {
  readonly #own = new Map<string, RegisteredJobHandler>();
  readonly #engine: JobEngine | undefined;

  constructor(engine: JobEngine | undefined) {
    this.#engine = engine;
  }

  /**
   * Registers the handler for jobs of `type`: a core `StepHandler` or a plain function,
   * with its options. Throws `ValidationError` for a bad type or handler, `ConfigError`
   * naming the field for bad options (see `resolveHandlerOptions`), and `DuplicateError`
   * when `type` already has one registered here.
   */
  register<I, O>(
    type: string,
    handler: StepHandler<I, O> | JobHandlerFunction<I, O>,
    options: JobHandlerOptions,
  ): void {
    if (typeof type !== 'string' || type === '') {
      throw new ValidationError('type', 'a handler needs a non-empty type');
    }
    if (this.#own.has(type)) throw new DuplicateError('handler', type);
    const checked = resolveHandlerOptions(options);
    if (typeof handler === 'function') {
      this.#own.set(type, { type, fn: handler as JobHandlerFunction, options: checked });
    } else if (typeof handler?.execute === 'function') {
      this.#own.set(type, { type, step: handler as StepHandler, options: checked });
    } else {
      throw new ValidationError(
        'handler',
        `handler "${type}" is neither a function nor a StepHandler`,
      );
    }
  }

  /** The job types there is a handler for: the runner's own and the engine's. */
  types(): string[] {
    const types = new Set(this.#own.keys());
    for (const h of this.#engine?.handlers.list() ?? []) {
      types.add(typeof h === 'string' ? h : h.type);
    }
    return [...types];
  }

  /**
   * The handler for jobs of `type`: the one registered with the runner, else the engine's
   * step handler (with no options); `undefined` when neither has one.
   */
  lookup(type: string): RegisteredJobHandler | undefined {
    const own = this.#own.get(type);
    if (own !== undefined) return own;
    const registry = this.#engine?.handlers;
    if (registry === undefined || !registry.has(type)) return undefined;
    const step = registry.get(type);
    return step === undefined ? undefined : { type, step, options: {} };
  }
}
