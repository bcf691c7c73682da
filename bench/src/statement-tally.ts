import pg from 'pg';

/** What {@link tallyStatements} counts per statement. */
export interface StatementTally {
  /** Statements answered (or failed). */
  count: number;
  /** Rows they reported, together. */
  rows: number;
  /** Time from the call to the answer, together, in ms. */
  ms: number;
}

/**
 * For the studies: from now on, every statement any node-postgres client of this process
 * sends is tallied in the map returned, by prepared name (or the SQL's first word). Clear
 * the map to start a measured stretch.
 */
export function tallyStatements(): Map<string, StatementTally> {
  const tallies = new Map<string, StatementTally>();
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [config] = args;
    const name =
      typeof config === 'string'
        ? (config.split(' ')[0] ?? config)
        : String((config as { name?: string }).name ?? 'unnamed');
    const began = performance.now();
    const settle = (r: { rowCount?: number | null } | undefined) => {
      const t = tallies.get(name) ?? { count: 0, rows: 0, ms: 0 };
      t.count++;
      t.rows += r?.rowCount ?? 0;
      t.ms += performance.now() - began;
      tallies.set(name, t);
    };
    // A pool passes a callback; a client called directly returns a promise.
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, r: { rowCount?: number | null }) => {
        settle(r);
        return (last as (e: unknown, r: unknown) => unknown)(error, r);
      };
      return query.apply(this, args);
    }
    return (query.apply(this, args) as Promise<{ rowCount?: number | null }>).then(
      (r) => {
        settle(r);
        return r;
      },
      (error: unknown) => {
        settle(undefined);
        throw error;
      },
    );
  } as typeof pg.Client.prototype.query;
  return tallies;
}
