import { ConfigError } from '@flowmonkey/core';

/**
 * Returns `value`, or `fallback` when undefined, after checking it is a finite number
 * `>= min`, `<= max` when given (for a timer in ms, `MAX_TIMEOUT_MS`: Node fires a longer
 * `setTimeout` after 1 ms) and an integer with `int`; otherwise throws `ConfigError`
 * naming `field`.
 */
export function checkNumber(
  field: string,
  value: unknown,
  rule: { fallback: number; min: number; max?: number; int?: boolean },
): number {
  if (value === undefined) return rule.fallback;
  const max = rule.max ?? Number.POSITIVE_INFINITY;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < rule.min ||
    value > max ||
    (rule.int === true && !Number.isInteger(value))
  ) {
    const kind = rule.int === true ? 'an integer' : 'a finite number';
    const range = rule.max === undefined ? `>= ${rule.min}` : `between ${rule.min} and ${max}`;
    throw new ConfigError(field, `must be ${kind} ${range}, got ${String(value)}`);
  }
  return value;
}

/**
 * Throws `ConfigError` naming `field` unless `value` is an object (or function) with every
 * one of `methods` as a function; the message names the first missing method.
 */
export function checkMethods(field: string, value: unknown, methods: readonly string[]): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    throw new ConfigError(field, `must be an object with ${methods.join(', ')}, got ${value}`);
  }
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== 'function') {
      throw new ConfigError(field, `must have a ${method}() method`);
    }
  }
}

/** Throws `ConfigError` naming `field` unless `value` is undefined or a function. */
export function checkOptionalFunction(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigError(field, `must be a function when given, got ${typeof value}`);
  }
}

/** Throws `ConfigError` (field `options`) unless `options` is a plain options object. */
export function checkOptionsObject(options: unknown): asserts options is object {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('options', `must be an options object, got ${String(options)}`);
  }
}

/** The logger methods every service calls. */
export const LOGGER_METHODS = ['info', 'warn', 'error', 'debug', 'child'] as const;

/**
 * Throws `ConfigError` naming the first key of `options` not in `known`; for a key in
 * `renamed`, the message names its replacement.
 */
export function checkKnownKeys(
  options: object,
  known: readonly string[],
  renamed: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const hint = renamed[key];
    throw new ConfigError(
      key,
      hint === undefined ? 'unknown option' : `unknown option; did you mean ${hint}?`,
    );
  }
}
