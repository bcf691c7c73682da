import { ConcurrencyError } from '../errors.js';

/** How many times a unit of work is tried when it keeps losing optimistic-concurrency races. */
export const CONFLICT_ATTEMPTS = 5;

/**
 * Runs `work` and, when it throws {@link ConcurrencyError} (someone else wrote first and
 * nothing of ours was committed), runs it again from the start, at most
 * {@link CONFLICT_ATTEMPTS} times in all. `work` must re-read what it decides on, so a
 * retry sees the other writer's change. Other errors, and the last conflict, are thrown.
 */
export async function retryOnConflict<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
  }
}
