import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createMemoryStores,
  Engine,
  type EngineOptions,
  HandlerRegistry,
  ManualClock,
  Result,
} from '../src/index.js';

/** Builds an engine from options the type system would refuse, as JavaScript callers can. */
function engineFrom(options: unknown): Engine {
  return new Engine(options as EngineOptions);
}

/** The ConfigError `build` throws; fails the test when it throws nothing or something else. */
function configErrorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('new Engine', () => {
  const stores = createMemoryStores();

  it('rejects a missing or non-object options argument, naming options', () => {
    expect(configErrorOf(() => engineFrom(undefined)).field).toBe('options');
    expect(configErrorOf(() => engineFrom('stores')).field).toBe('options');
  });

  it('rejects an unknown option key, naming it', () => {
    const error = configErrorOf(() => engineFrom({ stores, maxStep: 5 }));
    expect(error.field).toBe('maxStep');
    expect(error.message).toContain('maxSteps');
  });

  it('rejects missing stores and stores without executions, jobs and transaction', () => {
    expect(configErrorOf(() => engineFrom({})).field).toBe('stores');
    expect(configErrorOf(() => engineFrom({ stores: {} })).field).toBe('stores');
    const { transaction: _omitted, ...noTransaction } = stores;
    expect(configErrorOf(() => engineFrom({ stores: noTransaction })).field).toBe('stores');
  });

  it('rejects a clock without now()', () => {
    expect(configErrorOf(() => engineFrom({ stores, clock: {} })).field).toBe('clock');
  });

  it('rejects handlers that are neither an array nor a HandlerRegistry', () => {
    expect(configErrorOf(() => engineFrom({ stores, handlers: {} })).field).toBe('handlers');
  });

  it('rejects flows that are not an array', () => {
    expect(configErrorOf(() => engineFrom({ stores, flows: 'x' })).field).toBe('flows');
  });

  it('rejects events and logger objects of the wrong shape', () => {
    expect(configErrorOf(() => engineFrom({ stores, events: {} })).field).toBe('events');
    expect(configErrorOf(() => engineFrom({ stores, logger: { error: () => {} } })).field).toBe(
      'logger',
    );
  });

  it('rejects maxSteps and maxPayloadBytes that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '10']) {
      expect(configErrorOf(() => engineFrom({ stores, maxSteps: bad })).field).toBe('maxSteps');
      expect(configErrorOf(() => engineFrom({ stores, maxPayloadBytes: bad })).field).toBe(
        'maxPayloadBytes',
      );
    }
  });

  it('accepts valid options and shares a HandlerRegistry passed in', async () => {
    const registry = new HandlerRegistry([
      { type: 'echo', metadata: {}, execute: async ({ input }) => Result.success(input) },
    ]);
    const clock = new ManualClock();
    const engine = new Engine({ stores, clock, handlers: registry, maxSteps: 5 });
    expect(engine.handlers).toBe(registry);
  });
});
