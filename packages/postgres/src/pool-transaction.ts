import pg from 'pg';
import { mapPgError } from './map-pg-error.js';
import type { Queryable } from './queryable.js';

/**
 * Runs `fn` in a transaction on a client checked out of `pool`: BEGIN, then COMMIT, or
 * ROLLBACK when `fn` throws (the error mapped by `mapPgError`). The client gets an error
 * listener while it is out (a checked-out client has none of the pool's, and a terminated
 * backend would otherwise crash the process), and goes back to the pool marked broken when
 * its connection failed or the ROLLBACK did.
 */
export async function inPoolTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken ??= rollbackError;
    });
    throw mapPgError(error);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * Runs `write`, which sends `statements` statements on the connection it is given, so that
 * they commit together or not at all: as it is when it sends one or `db` is already a
 * transaction's client, else in a transaction of its own on the pool.
 */
export function inOneCommit<T>(
  db: Queryable,
  statements: number,
  write: (db: Queryable) => Promise<T>,
): Promise<T> {
  if (statements <= 1 || !(db instanceof pg.Pool)) return write(db);
  return inPoolTransaction(db, write);
}
