/** A named, parameterised statement as node-postgres accepts it. */
export interface NamedStatement {
  /** Prepared-statement name: the store method, suffixed with the schema. */
  name: string;
  /** SQL text; every value is a `$n` parameter. */
  text: string;
}

/** The current time in SQL: the injected `now` parameter `$n` when given, else database time. */
export function nowParam(n: number): string {
  return `coalesce($${n}::timestamptz, now())`;
}

/** SQL for a timestamptz expression as epoch milliseconds (bigint). */
export function epochMs(expression: string): string {
  return `floor(extract(epoch from ${expression}) * 1000)::bigint`;
}

/**
 * Builds the named statements of one store. Prepared-statement names are per connection,
 * so the name carries the schema and the store: `fm_<schema>_<store>_<method>`.
 */
export function namedStatements<K extends string>(
  schema: string,
  store: string,
  texts: Record<K, string>,
): Record<K, NamedStatement> {
  const out = {} as Record<K, NamedStatement>;
  for (const name of Object.keys(texts) as K[]) {
    out[name] = { name: `fm_${schema}_${store}_${name}`, text: texts[name] };
  }
  return out;
}
