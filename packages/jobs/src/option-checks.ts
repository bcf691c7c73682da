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
