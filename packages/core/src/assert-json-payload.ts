/**
 * The check every JSON payload (job input and result, execution context, error details)
 * passes before it is stored: what PostgreSQL `jsonb` accepts, with the path to the first
 * bad value in the error.
 */
import { ValidationError } from './errors.js';

/** Largest JSON payload accepted by default, in UTF-8 bytes (1 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Deepest nesting of objects and arrays accepted in a JSON payload. */
export const MAX_PAYLOAD_DEPTH = 100;

/** NUL, or a UTF-16 surrogate not part of a pair: both rejected by PostgreSQL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must be rejected.
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Cheap pre-test for {@link BAD_TEXT}: any NUL or surrogate at all. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must be rejected.
const MAYBE_BAD_TEXT = /[\u0000\uD800-\uDFFF]/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Options of {@link assertJsonPayload}. */
export interface JsonPayloadOptions {
  /** Largest serialised size in UTF-8 bytes. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxBytes?: number;
}

/**
 * Checks that `value` can be stored as PostgreSQL `jsonb` without loss and returns its JSON
 * text. Rejects BigInt, functions, symbols, NaN and infinities, cycles, Map and Set, binary
 * data (ArrayBuffer, typed arrays; a Buffer goes through its `toJSON`), a getter or
 * `toJSON` that throws, strings or object keys holding NUL or a lone surrogate, nesting
 * deeper than {@link MAX_PAYLOAD_DEPTH}, and JSON longer than `maxBytes` UTF-8 bytes.
 * `undefined` at the top level is accepted and stored as `null`; below it, `undefined`
 * properties are dropped as `JSON.stringify` does. Throws {@link ValidationError} whose `field` is the path to the bad
 * value, starting with `field`.
 */
export function assertJsonPayload(
  value: unknown,
  field: string,
  options: JsonPayloadOptions = {},
): string {
  if (value === undefined) return 'null';
  const path: (string | number)[] = [];
  try {
    walkJson(value, field, path, [], 0);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // A getter or toJSON threw; `path` still points at the value being read.
    throw new ValidationError(formatPath(field, path), 'could not be read as JSON (it threw)', {
      cause: error,
    });
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new ValidationError(field, 'is not JSON-serialisable', { cause: error });
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (json.length > maxBytes || (json.length * 3 > maxBytes && utf8Length(json) > maxBytes)) {
    throw new ValidationError(field, `is larger than ${maxBytes} bytes as JSON`, {
      details: { maxBytes },
    });
  }
  return json;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Depth-first check of one value; recursion is bounded by MAX_PAYLOAD_DEPTH, so a hostile
 * payload fails cleanly instead of overflowing the stack. `ancestors[d]` is the object at
 * depth `d` on the current path (a cycle is an object that is its own ancestor).
 */
function walkJson(
  raw: unknown,
  root: string,
  path: (string | number)[],
  ancestors: object[],
  depth: number,
): void {
  const value = resolveToJson(raw, path);
  switch (typeof value) {
    case 'string':
      if (isBadText(value)) throw pathError(root, path, describeBadText(value));
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw pathError(root, path, `must be a finite number, got ${value}`);
      return;
    case 'boolean':
    case 'undefined':
      return;
    case 'bigint':
      throw pathError(root, path, 'BigInt is not JSON-serialisable; convert it to a string');
    case 'function':
      throw pathError(root, path, 'a function is not JSON-serialisable');
    case 'symbol':
      throw pathError(root, path, 'a symbol is not JSON-serialisable');
  }
  if (value === null) return;
  const object = value as object;
  if (object instanceof Map || object instanceof Set) {
    throw pathError(root, path, `a ${object.constructor.name} is not JSON-serialisable`);
  }
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    throw pathError(root, path, 'binary data (ArrayBuffer, typed array) is not JSON-safe');
  }
  if (depth >= MAX_PAYLOAD_DEPTH)
    throw pathError(root, path, `nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  for (let i = 0; i < depth; i++) {
    if (ancestors[i] === object) throw pathError(root, path, 'contains a cycle');
  }
  ancestors[depth] = object;
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      path.push(i);
      walkJson(object[i], root, path, ancestors, depth + 1);
      path.pop();
    }
  } else {
    const record = object as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      path.push(key);
      if (isBadText(key)) throw pathError(root, path, `key ${describeBadText(key)}`);
      walkJson(record[key], root, path, ancestors, depth + 1);
      path.pop();
    }
  }
}

/** Applies `toJSON` once, as `JSON.stringify` does (a `Date` becomes its ISO string). */
function resolveToJson(value: unknown, path: readonly (string | number)[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== 'function') return value;
  const key = path.length === 0 ? '' : String(path[path.length - 1]);
  return toJSON.call(value, key);
}

/** True when `text` holds a NUL or a lone surrogate, which PostgreSQL cannot store. */
export function isBadText(text: string): boolean {
  return MAYBE_BAD_TEXT.test(text) && BAD_TEXT.test(text);
}

/** What is wrong with a text for which {@link isBadText} is true. */
export function describeBadText(text: string): string {
  return text.includes('\u0000')
    ? 'contains a NUL character (\\u0000), which PostgreSQL cannot store'
    : 'contains a lone UTF-16 surrogate, which PostgreSQL cannot store';
}

function pathError(
  root: string,
  path: readonly (string | number)[],
  message: string,
): ValidationError {
  return new ValidationError(formatPath(root, path), message);
}

/** Formats `root` plus keys as `root.a[3]["odd key"]`. */
function formatPath(root: string, path: readonly (string | number)[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (IDENTIFIER.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
