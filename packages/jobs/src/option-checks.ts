import { ConfigError } from '@flowmonkey/core';

/**
 * Returns `value`, or `fallback` when undefined, after checking it is a finite number
 * `>= min` (and an integer with `int`); otherwise throws `ConfigError` naming `field`.
 */
export function checkNumber(
  field: string,
  value: unknown,
  rule: { fallback: number; min: number; int?: boolean },
): number {
  if (value === undefined) return rule.fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < rule.min ||
    (rule.int === true && !Number.isInteger(value))
  ) {
    const kind = rule.int === true ? 'an integer' : 'a finite number';
    throw new ConfigError(field, `must be ${kind} >= ${rule.min}, got ${String(value)}`);
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
