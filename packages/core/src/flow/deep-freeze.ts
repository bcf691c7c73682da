/**
 * Returns a deep copy of `value` in which every plain object and array is frozen. Other
 * values (functions, class instances such as `Date`) are kept as they are, unfrozen, so
 * the caller's own objects are never frozen behind their back.
 */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value)) {
    return Object.freeze(value.map((item: unknown) => deepFreeze(item))) as T;
  }
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = deepFreeze(item);
    return Object.freeze(copy) as T;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
