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

/**
 * A LIMIT that removes no row, there to tell the planner how many rows a parameter's JSON
 * document unpacks to: `count` is a parameter holding that number. Without it PostgreSQL
 * assumes 100 rows for `jsonb_to_recordset`, and on a table of a few thousand rows (a
 * young or well-pruned one) joins them by hashing and a sequential scan of the table. A
 * custom plan takes the real number; a generic plan takes a LIMIT it cannot evaluate as a
 * tenth of the input, 10 rows, and probes the primary key. The number is sent, not
 * computed (`jsonb_array_length($1::jsonb)`), because that parses the document a second
 * time: 3.9 ms for 250 executions, against 0.4 ms for the round trip. (`unnest` of an
 * array parameter needs no hint: a generic plan assumes 10 elements; see {@link opaque}
 * for custom plans.)
 */
export function rowCountHint(count: string): string {
  return `LIMIT ${count}::int`;
}

/**
 * Parameter `param` behind a scalar subquery, a value no plan can see: a custom plan then
 * estimates the rows it stands for as the generic plan does (an array as 10 elements, a
 * LIMIT as a tenth of its input), and costs what the generic plan costs. Batch statements
 * pass their batch's size through it: a custom plan that saw a batch of one or two, or
 * empty runner-event arrays, looked cheaper than any generic plan, so PostgreSQL planned
 * the statement afresh on every call (about 0.5 ms each) instead of keeping the generic
 * plan, which probes the primary keys as wanted.
 */
export function opaque(param: string): string {
  return `(SELECT ${param})`;
}
