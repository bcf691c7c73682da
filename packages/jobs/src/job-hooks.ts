import type { Logger } from '@flowmonkey/core';

/**
 * Calls one lifecycle hook, if set, with the context `context()` builds (only then), and
 * waits for it. A hook that throws or rejects is logged at `error` with the hook's name and
 * changes nothing else.
 */
export async function callHook<C>(
  hook: ((context: C) => void | Promise<void>) | undefined,
  context: () => C,
  log: Logger,
  name: string,
): Promise<void> {
  if (hook === undefined) return;
  try {
    await hook(context());
  } catch (error) {
    log.error({ err: error, hook: name }, 'job hook failed; outcome unchanged');
  }
}
