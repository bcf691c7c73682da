/**
 * The batch execution-store calls the engine makes, with their fallbacks for a store that
 * lacks the optional batch methods (one call per item then). Internal to the engine.
 */
import { ConcurrencyError, NotFoundError } from '../errors.js';
import type { Execution } from '../execution.js';
import type {
  ExecutionStore,
  ExecutionUpdate,
  UpdateManyExecutionsResult,
} from '../stores/execution-store.js';

/** `store.getMany(ids)`, or one `get` per distinct id: the found ones, in input order. */
export async function getManyOf(
  store: ExecutionStore,
  executionIds: readonly string[],
): Promise<Execution[]> {
  if (executionIds.length === 0) return [];
  if (store.getMany !== undefined) return store.getMany(executionIds);
  const found: Execution[] = [];
  for (const id of new Set(executionIds)) {
    const execution = await store.get(id);
    if (execution !== undefined) found.push(execution);
  }
  return found;
}

/**
 * `store.updateMany({ items })`, or one `update` per item in order, a `ConcurrencyError`
 * or `NotFoundError` of an item counting as its conflict (other errors are thrown, and
 * the items before it may then be written: run it in a transaction).
 */
export async function updateManyOf(
  store: ExecutionStore,
  items: readonly ExecutionUpdate[],
): Promise<UpdateManyExecutionsResult> {
  if (items.length === 0) return { updated: [], conflicts: [] };
  if (store.updateMany !== undefined) return store.updateMany({ items });
  const out: UpdateManyExecutionsResult = { updated: [], conflicts: [] };
  for (const item of items) {
    try {
      out.updated.push(await store.update(item));
    } catch (error) {
      if (!(error instanceof ConcurrencyError) && !(error instanceof NotFoundError)) throw error;
      out.conflicts.push(item.execution.id);
    }
  }
  return out;
}
