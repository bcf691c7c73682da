/**
 * Boundary checks of the batch `ExecutionStore` methods shared by the in-memory and
 * Postgres stores, so both reject the same input with the same {@link ValidationError} field.
 */

import { assertExecution, type ExecutionJson } from './assert-execution.js';
import type { JsonPayloadOptions } from './assert-json-payload.js';
import { ValidationError } from './errors.js';
import type { ExecutionUpdate } from './stores/execution-store.js';
import { assertInteger } from './validation.js';

/** Largest `expectedVersion` an update can name (the Postgres `version` column is an int). */
export const MAX_EXECUTION_VERSION = 2_147_483_646;

/**
 * Checks the ids of `getMany`: throws {@link ValidationError} (field `executionIds`) when
 * it is not an array. Returns the distinct ids in first-seen order, leaving out anything
 * that cannot be an execution id (not a string, empty, longer than 255), which `get` would
 * not find either.
 */
export function normalizeExecutionIds(executionIds: readonly string[]): string[] {
  if (!Array.isArray(executionIds)) {
    throw new ValidationError('executionIds', 'must be an array of execution ids');
  }
  const seen = new Set<string>();
  for (const id of executionIds as unknown[]) {
    if (typeof id === 'string' && id.length > 0 && id.length <= 255) seen.add(id);
  }
  return [...seen];
}

/**
 * Checks the items of `updateMany` before anything is written: `items` an array of objects,
 * each `expectedVersion` an integer in 0..{@link MAX_EXECUTION_VERSION}, each execution as
 * `update` checks it (see `assertExecution`), and no execution id given twice. Throws
 * {@link ValidationError} naming `items[i].expectedVersion`, `items[i].execution.<field>`
 * (wrapping the execution's own error as `cause`) or `items[i].execution.id`, where
 * `items` is `name`. Returns each execution's payloads as JSON text, in input order.
 */
export function assertExecutionUpdates(
  items: readonly ExecutionUpdate[],
  options: JsonPayloadOptions = {},
  name = 'items',
): ExecutionJson[] {
  if (!Array.isArray(items)) throw new ValidationError(name, 'must be an array');
  const ids = new Set<string>();
  return items.map((item: ExecutionUpdate, i) => {
    const at = `${name}[${i}]`;
    if (typeof item !== 'object' || item === null) {
      throw new ValidationError(at, 'must be an object');
    }
    assertInteger(item.expectedVersion, `${at}.expectedVersion`, {
      min: 0,
      max: MAX_EXECUTION_VERSION,
    });
    let json: ExecutionJson;
    try {
      json = assertExecution(item.execution, options);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const field =
        error.field === 'execution' ? `${at}.execution` : `${at}.execution.${error.field}`;
      // The reason without its own field prefix; the original error stays as `cause`.
      const reason = error.message.slice(error.field.length + 2);
      const { field: _inner, ...details } = error.details;
      throw new ValidationError(field, reason, { cause: error, details });
    }
    if (ids.has(item.execution.id)) {
      throw new ValidationError(`${at}.execution.id`, 'names an execution an earlier item updates');
    }
    ids.add(item.execution.id);
    return json;
  });
}
