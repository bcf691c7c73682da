import type pg from 'pg';
import { mapPgError } from './map-pg-error.js';
import { storeTypes } from './parse-timestamptz.js';
import type { NamedStatement } from './sql/sql-helpers.js';

/** Anything that runs a query: a pool, a checked-out pool client, or a client. */
export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/** A result row as node-postgres returns it. */
export type Row = Record<string, unknown>;

/**
 * Runs a named statement with `values`, mapping PostgreSQL errors to core's typed errors
 * (see `mapPgError`). Timestamps come back as epoch ms (`storeTypes`).
 */
export async function runStatement(
  db: Queryable,
  statement: NamedStatement,
  values: readonly unknown[],
): Promise<Row[]> {
  try {
    const result = await db.query<Row>({
      name: statement.name,
      text: statement.text,
      values: values as unknown[],
      types: storeTypes,
    });
    return result.rows;
  } catch (error) {
    throw mapPgError(error);
  }
}
