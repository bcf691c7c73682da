import type { Logger } from '@flowmonkey/core';

/**
 * Calls one lifecycle hook with the context `context()` builds, and waits for it. A hook
 * that throws or rejects is logged at `error` on `attempt.log` (read only then) with the
 * hook's name and changes nothing else. Callers skip it for a hook that is not set, so an
 * attempt without hooks builds no context, logger or promise for them.
 */
export async function callHook<C>(
  hook: (context: C) => void | Promise<void>,
  context: () => C,
  attempt: { readonly log: Logger },
  name: string,
): Promise<void> {
  try {
    await hook(context());
  } catch (error) {
    attempt.log.error({ err: error, hook: name }, 'job hook failed; outcome unchanged');
  }
}
