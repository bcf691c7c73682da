import { MAX_TIMEOUT_MS } from '@flowmonkey/core';

/** Resolves when `promise` does or after `ms` milliseconds, whichever comes first. */
export function waitOrTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.min(ms, MAX_TIMEOUT_MS));
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
