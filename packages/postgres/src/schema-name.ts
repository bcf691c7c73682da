import { ConfigError } from '@flowmonkey/core';

/** The schema FlowMonkey's tables live in when none is configured. */
export const DEFAULT_SCHEMA = 'flowmonkey';

/**
 * Pattern a schema name must match: a lower-case SQL identifier of at most 63 bytes
 * (PostgreSQL's limit), so quoting it can never change its meaning.
 */
export const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Throws `ConfigError` (field `schema`) unless `name` matches {@link SCHEMA_NAME_PATTERN}.
 * The schema name is the only identifier FlowMonkey ever interpolates into SQL, so this
 * check is what keeps every statement injection-free.
 */
export function assertSchemaName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !SCHEMA_NAME_PATTERN.test(name)) {
    throw new ConfigError(
      'schema',
      `must match ${SCHEMA_NAME_PATTERN.source} (lower-case letters, digits and _, at most 63), got ${JSON.stringify(name)}`,
    );
  }
}

/**
 * Returns `name` as a double-quoted SQL identifier, doubling any embedded quote. Callers
 * validate with {@link assertSchemaName} first; quoting is a second line of defence.
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
