import { DEFAULT_MAX_PAYLOAD_BYTES } from '../assert-json-payload.js';
import { type Clock, systemClock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { EventBus } from '../events.js';
import { DEFAULT_MAX_STEPS } from '../flow/define-flow.js';
import type { Flow } from '../flow.js';
import { HandlerRegistry } from '../handler-registry.js';
import { type Logger, noopLogger } from '../logger.js';
import type { Stores } from '../stores/stores.js';
import type { EngineOptions } from './engine-types.js';

/** {@link EngineOptions} checked and with every default filled in. */
export interface ResolvedEngineOptions {
  /** Where executions and jobs live. */
  readonly stores: Stores;
  /** The handler registry (the one passed in, or a new one holding the handlers given). */
  readonly handlers: HandlerRegistry;
  /** Flows to register, in the order given. */
  readonly flows: readonly Flow[];
  /** Source of timestamps. */
  readonly clock: Clock;
  /** Where lifecycle events go. */
  readonly events: EventBus;
  /** Where the engine logs. */
  readonly logger: Logger;
  /** Step limit for flows without their own. */
  readonly maxSteps: number;
  /** Largest input, step output and execution context, in UTF-8 bytes of JSON. */
  readonly maxPayloadBytes: number;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'stores',
  'handlers',
  'flows',
  'clock',
  'events',
  'logger',
  'maxSteps',
  'maxPayloadBytes',
] satisfies (keyof EngineOptions)[]);

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error', 'child'] as const;

/**
 * Checks the options of `new Engine(...)` and fills in the defaults; returns a frozen
 * object. Throws `ConfigError` naming the field: `options` when it is not an object, the
 * key of an unknown option, `stores` without `executions`, `jobs` and a `transaction`
 * function, `clock` without `now()`, `handlers` that is neither an array nor a
 * `HandlerRegistry`, `flows` that is not an array, `events` without `on`/`emit`, `logger`
 * without the {@link Logger} methods, and `maxSteps` or `maxPayloadBytes` that are not
 * positive integers.
 */
export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError('options', 'must be an object with at least `stores`');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new ConfigError(key, `is not an Engine option (known: ${[...KNOWN_KEYS].join(', ')})`);
    }
  }
  return Object.freeze({
    stores: checkStores(options.stores),
    handlers: checkHandlers(options.handlers),
    flows: checkFlows(options.flows),
    clock: checkClock(options.clock),
    events: checkEvents(options.events, options.logger),
    logger: checkLogger(options.logger),
    maxSteps: positiveInteger(options.maxSteps, 'maxSteps', DEFAULT_MAX_STEPS),
    maxPayloadBytes: positiveInteger(
      options.maxPayloadBytes,
      'maxPayloadBytes',
      DEFAULT_MAX_PAYLOAD_BYTES,
    ),
  });
}

function checkStores(stores: unknown): Stores {
  if (stores === undefined) throw new ConfigError('stores', 'is required');
  const candidate = stores as Partial<Record<keyof Stores, unknown>> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    !isObject(candidate.executions) ||
    !isObject(candidate.jobs) ||
    typeof candidate.transaction !== 'function'
  ) {
    throw new ConfigError(
      'stores',
      'must have `executions` and `jobs` stores and a `transaction` function (e.g. createMemoryStores())',
    );
  }
  return stores as Stores;
}

function checkHandlers(handlers: unknown): HandlerRegistry {
  if (handlers === undefined) return new HandlerRegistry([]);
  if (handlers instanceof HandlerRegistry) return handlers;
  if (!Array.isArray(handlers)) {
    throw new ConfigError('handlers', 'must be an array of step handlers or a HandlerRegistry');
  }
  return new HandlerRegistry(handlers);
}

function checkFlows(flows: unknown): readonly Flow[] {
  if (flows === undefined) return [];
  if (!Array.isArray(flows)) throw new ConfigError('flows', 'must be an array of flows');
  return flows as Flow[];
}

function checkClock(clock: unknown): Clock {
  if (clock === undefined) return systemClock;
  if (!isObject(clock) || typeof (clock as Partial<Clock>).now !== 'function') {
    throw new ConfigError('clock', 'must have a now() method returning epoch ms');
  }
  return clock as Clock;
}

function checkLogger(logger: unknown): Logger {
  if (logger === undefined) return noopLogger;
  const candidate = logger as Record<string, unknown> | null;
  if (!isObject(candidate) || LOGGER_METHODS.some((m) => typeof candidate?.[m] !== 'function')) {
    throw new ConfigError('logger', `must have the methods ${LOGGER_METHODS.join(', ')}`);
  }
  return logger as Logger;
}

function checkEvents(events: unknown, logger: unknown): EventBus {
  if (events === undefined) return new EventBus({ logger: checkLogger(logger) });
  const candidate = events as Partial<EventBus> | null;
  if (
    !isObject(candidate) ||
    typeof candidate?.on !== 'function' ||
    typeof candidate.emit !== 'function'
  ) {
    throw new ConfigError('events', 'must be an EventBus');
  }
  return events as EventBus;
}

function positiveInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(field, 'must be a positive integer');
  }
  return value;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
