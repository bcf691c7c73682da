import { describe, expect, it } from 'vitest';
import { assertExecution } from '../src/assert-execution.js';
import {
  assertJsonPayload,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_PAYLOAD_DEPTH,
} from '../src/assert-json-payload.js';
import { ValidationError } from '../src/errors.js';
import type { Execution } from '../src/execution.js';
import type { NewJob } from '../src/job.js';
import { assertText, normalizeNewJob, normalizeNewSchedule } from '../src/validation.js';

const NOW = Date.UTC(2026, 0, 1);

/** Runs `fn`, expects a ValidationError, and returns its field. */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).field;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('assertJsonPayload', () => {
  it('returns the JSON text of a valid payload', () => {
    const value = { a: [1, 'two', true, null], b: { c: 1.5 }, emoji: '😀' };
    expect(JSON.parse(assertJsonPayload(value, 'input'))).toEqual(value);
  });

  it('treats top-level undefined as null and drops undefined properties', () => {
    expect(assertJsonPayload(undefined, 'input')).toBe('null');
    expect(assertJsonPayload({ a: undefined, b: 1 }, 'input')).toBe('{"b":1}');
  });

  it('serialises a Date through toJSON', () => {
    expect(assertJsonPayload({ at: new Date(0) }, 'input')).toBe(
      '{"at":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it.each([
    ['a BigInt', { items: [{ n: 1n }] }, 'input.items[0].n'],
    ['a function', { f: () => 1 }, 'input.f'],
    ['a symbol', { s: Symbol('x') }, 'input.s'],
    ['NaN', { a: { b: Number.NaN } }, 'input.a.b'],
    ['Infinity', [1, Number.POSITIVE_INFINITY], 'input[1]'],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'input'],
    ['a NUL in a string', { items: [0, 1, 2, { name: 'a\u0000b' }] }, 'input.items[3].name'],
    ['a lone high surrogate', { s: 'x\uD800' }, 'input.s'],
    ['a lone low surrogate', { s: '\uDC00x' }, 'input.s'],
    ['a NUL in a key', { 'a\u0000': 1 }, 'input["a\\u0000"]'],
    ['a lone surrogate in a key', { ok: { '\uDBFF': 1 } }, 'input.ok["\\udbff"]'],
    ['a Map', { m: new Map([[1, 2]]) }, 'input.m'],
    ['a Set', { s: new Set([1]) }, 'input.s'],
  ])('rejects %s, naming its path', (_name, value, field) => {
    expect(fieldOf(() => assertJsonPayload(value, 'input'))).toBe(field);
  });

  it('accepts a well-formed surrogate pair', () => {
    expect(assertJsonPayload('\uD83D\uDE00', 'input')).toBe('"😀"');
  });

  it('rejects a cycle, naming where it closes', () => {
    const root: Record<string, unknown> = { a: {} };
    (root.a as Record<string, unknown>).back = root;
    expect(fieldOf(() => assertJsonPayload(root, 'input'))).toBe('input.a.back');
  });

  it('accepts the same object referenced twice without a cycle', () => {
    const shared = { x: 1 };
    expect(assertJsonPayload({ a: shared, b: shared }, 'input')).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('accepts nesting up to the limit and rejects one level more', () => {
    const nest = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    expect(() => assertJsonPayload(nest(MAX_PAYLOAD_DEPTH), 'input')).not.toThrow();
    expect(() => assertJsonPayload(nest(MAX_PAYLOAD_DEPTH + 1), 'input')).toThrow(ValidationError);
  });

  it('fails cleanly on a hostile, very deep payload instead of overflowing the stack', () => {
    let value: unknown = {};
    for (let i = 0; i < 200_000; i++) value = { a: value };
    expect(() => assertJsonPayload(value, 'input')).toThrow(ValidationError);
  });

  it('rejects JSON over maxBytes counted in UTF-8 bytes', () => {
    // 'é' is 2 UTF-8 bytes: '"' + 400 * 2 + '"' = 802 bytes, 402 UTF-16 code units.
    const text = 'é'.repeat(400);
    expect(() => assertJsonPayload(text, 'input', { maxBytes: 802 })).not.toThrow();
    expect(fieldOf(() => assertJsonPayload(text, 'input', { maxBytes: 801 }))).toBe('input');
  });

  it('defaults maxBytes to DEFAULT_MAX_PAYLOAD_BYTES', () => {
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(1024 * 1024);
    const big = 'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES);
    expect(fieldOf(() => assertJsonPayload(big, 'result'))).toBe('result');
  });
});

describe('assertText', () => {
  it('returns a valid value', () => {
    expect(assertText('abc', 'name', { maxLength: 3 })).toBe('abc');
  });

  it.each([
    ['a number', 42],
    ['an empty string', ''],
    ['a string over maxLength', 'abcd'],
    ['a NUL', 'a\u0000'],
    ['a lone surrogate', 'a\uD800'],
  ])('rejects %s', (_name, value) => {
    expect(fieldOf(() => assertText(value, 'name', { maxLength: 3 }))).toBe('name');
  });

  it('applies the pattern', () => {
    expect(fieldOf(() => assertText('a b', 'queue', { maxLength: 9, pattern: /^\w+$/ }))).toBe(
      'queue',
    );
  });
});

describe('normalizeNewJob', () => {
  it('fills every default', () => {
    const job = normalizeNewJob({ handler: 'email' }, { now: NOW });
    expect(job).toMatchObject({
      queue: 'default',
      handler: 'email',
      executionId: null,
      stepId: null,
      input: null,
      inputJson: 'null',
      priority: 0,
      runAt: NOW,
      maxAttempts: 3,
      timeoutMs: null,
      retry: null,
      idempotencyKey: null,
      correlationId: null,
    });
    expect(job.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps valid explicit values and converts a Date runAt', () => {
    const id = '0190a6a8-0000-7000-8000-00000000000A';
    const job = normalizeNewJob(
      {
        id,
        handler: 'h',
        queue: 'mail.high:1',
        executionId: 'e1',
        stepId: 's1',
        input: { a: 1 },
        priority: -1000,
        runAt: new Date(NOW + 5),
        maxAttempts: 1000,
        timeoutMs: 500,
        retry: { strategy: 'FIXED', baseDelayMs: 10, jitterFactor: 1, extra: 1 } as never,
        idempotencyKey: 'k',
        correlationId: 'c',
      },
      { now: NOW },
    );
    expect(job.id).toBe(id.toLowerCase());
    expect(job.runAt).toBe(NOW + 5);
    expect(job.retry).toEqual({ strategy: 'FIXED', baseDelayMs: 10, jitterFactor: 1 });
    expect(job.inputJson).toBe('{"a":1}');
  });

  const bad: [string, Partial<NewJob> & Record<string, unknown>, string][] = [
    ['a missing handler', { handler: undefined }, 'handler'],
    ['a handler over 255 chars', { handler: 'h'.repeat(256) }, 'handler'],
    ['an id that is not a UUID', { id: 'job-1' }, 'id'],
    ['a queue with a space', { queue: 'my queue' }, 'queue'],
    ['a queue over 128 chars', { queue: 'q'.repeat(129) }, 'queue'],
    ['a fractional priority', { priority: 1.5 }, 'priority'],
    ['a priority above MAX_PRIORITY', { priority: 1001 }, 'priority'],
    ['a priority below MIN_PRIORITY', { priority: -1001 }, 'priority'],
    ['a NaN runAt', { runAt: Number.NaN }, 'runAt'],
    ['an invalid Date runAt', { runAt: new Date('nope') }, 'runAt'],
    ['a runAt in the year 10000', { runAt: Date.UTC(10000, 0, 1) }, 'runAt'],
    ['a string runAt', { runAt: '2026-01-01' as never }, 'runAt'],
    ['zero maxAttempts', { maxAttempts: 0 }, 'maxAttempts'],
    ['maxAttempts over 1000', { maxAttempts: 1001 }, 'maxAttempts'],
    ['a zero timeoutMs', { timeoutMs: 0 }, 'timeoutMs'],
    ['a fractional timeoutMs', { timeoutMs: 1.5 }, 'timeoutMs'],
    ['an unknown retry strategy', { retry: { strategy: 'RANDOM' as never } }, 'retry.strategy'],
    ['a negative retry delay', { retry: { baseDelayMs: -1 } }, 'retry.baseDelayMs'],
    ['an infinite retry cap', { retry: { maxDelayMs: Infinity } }, 'retry.maxDelayMs'],
    ['a jitterFactor above 1', { retry: { jitterFactor: 1.5 } }, 'retry.jitterFactor'],
    ['an idempotencyKey over 255 chars', { idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey'],
    ['an empty correlationId', { correlationId: '' }, 'correlationId'],
    ['an executionId without stepId', { executionId: 'e1' }, 'stepId'],
    ['a numeric executionId', { executionId: 7 as never, stepId: 's' }, 'executionId'],
    ['a nested bad input', { input: { a: { b: 1n } } }, 'input.a.b'],
  ];
  it.each(bad)('rejects %s', (_name, patch, field) => {
    expect(fieldOf(() => normalizeNewJob({ handler: 'h', ...patch } as NewJob, { now: NOW }))).toBe(
      field,
    );
  });

  it('applies maxPayloadBytes to the input', () => {
    const job = { handler: 'h', input: 'x'.repeat(100) };
    expect(fieldOf(() => normalizeNewJob(job, { now: NOW, maxPayloadBytes: 50 }))).toBe('input');
  });
});

describe('normalizeNewSchedule', () => {
  it('fills every default', () => {
    expect(
      normalizeNewSchedule({ name: 'n', cron: '* * * * *', handler: 'h', nextFireAt: 5 }),
    ).toEqual({
      name: 'n',
      cron: '* * * * *',
      timezone: 'UTC',
      handler: 'h',
      queue: 'default',
      input: null,
      inputJson: 'null',
      priority: 0,
      maxAttempts: 3,
      enabled: true,
      overlap: 'allow',
      nextFireAt: 5,
    });
  });

  it.each([
    ['an empty name', { name: '' }, 'name'],
    ['an empty cron', { cron: '' }, 'cron'],
    ['a cron over 255 chars', { cron: '*'.repeat(256) }, 'cron'],
    ['an empty timezone', { timezone: '' }, 'timezone'],
    ['a missing handler', { handler: undefined }, 'handler'],
    ['a bad queue', { queue: 'a/b' }, 'queue'],
    ['a bad priority', { priority: 5000 }, 'priority'],
    ['a bad maxAttempts', { maxAttempts: 0 }, 'maxAttempts'],
    ['an unknown overlap policy', { overlap: 'queue' }, 'overlap'],
    ['a non-boolean enabled', { enabled: 'yes' }, 'enabled'],
    ['a NaN nextFireAt', { nextFireAt: Number.NaN }, 'nextFireAt'],
    ['a bad input', { input: [Symbol('x')] }, 'input[0]'],
  ])('rejects %s', (_name, patch, field) => {
    const schedule = { name: 'n', cron: '* * * * *', handler: 'h', nextFireAt: null, ...patch };
    expect(fieldOf(() => normalizeNewSchedule(schedule as never))).toBe(field);
  });
});

describe('assertExecution', () => {
  const execution: Execution = {
    id: 'e1',
    flowId: 'f',
    flowVersion: 1,
    status: 'running',
    currentStepId: 's1',
    input: { a: 1 },
    context: { input: { a: 1 } },
    output: null,
    error: null,
    history: [],
    stepCount: 1,
    waitingOn: null,
    wakeAt: null,
    idempotencyKey: null,
    tenantId: null,
    parentExecutionId: null,
    version: 0,
    createdAt: NOW,
    updatedAt: NOW,
  };

  it('returns the payloads as JSON text', () => {
    expect(assertExecution(execution)).toMatchObject({
      context: '{"input":{"a":1}}',
      error: 'null',
    });
  });

  it.each([
    ['an unknown status', { status: 'paused' }, 'status'],
    ['a fractional version', { version: 0.5 }, 'version'],
    ['a bad context value', { context: { s1: { n: Number.NaN } } }, 'context.s1.n'],
    ['an error without code', { error: { message: 'm' } }, 'error.code'],
    ['a NaN wakeAt', { wakeAt: Number.NaN }, 'wakeAt'],
    ['an empty flowId', { flowId: '' }, 'flowId'],
  ])('rejects %s', (_name, patch, field) => {
    expect(fieldOf(() => assertExecution({ ...execution, ...patch } as Execution))).toBe(field);
  });
});
