import type pg from 'pg';

/** What the statistics system says of one table of the `flowmonkey` schema. */
export interface TableStats {
  /** `n_dead_tup`: row versions no longer visible to new snapshots, not yet vacuumed. */
  deadTuples: number;
  /** `n_live_tup`. */
  liveTuples: number;
  /** Vacuums by autovacuum so far. */
  autovacuums: number;
  /** Size of the table's main fork, in bytes. */
  sizeBytes: number;
}

/**
 * Reads {@link TableStats} of `tables` (names in the `flowmonkey` schema). Each call is its
 * own transaction, so the statistics snapshot (`stats_fetch_consistency = cache`) is fresh;
 * the counts lag the backends that changed the rows by about a second (they flush their
 * counters when idle, at most once a second), while a VACUUM reports at once.
 */
export async function readTableStats(
  pool: pg.Pool,
  tables: readonly string[],
): Promise<Record<string, TableStats>> {
  const { rows } = await pool.query<{
    relname: string;
    dead: string;
    live: string;
    autovacuums: string;
    size: string;
  }>(
    `SELECT relname, n_dead_tup AS dead, n_live_tup AS live, autovacuum_count AS autovacuums,
            pg_relation_size(relid) AS size
       FROM pg_stat_user_tables WHERE schemaname = 'flowmonkey' AND relname = ANY($1)`,
    [tables],
  );
  const stats: Record<string, TableStats> = {};
  for (const r of rows) {
    stats[r.relname] = {
      deadTuples: Number(r.dead),
      liveTuples: Number(r.live),
      autovacuums: Number(r.autovacuums),
      sizeBytes: Number(r.size),
    };
  }
  return stats;
}

/** One reading of a {@link TableStatsSampler}. */
export interface TableStatsSample {
  /** When it was read (epoch ms, this process's clock). */
  at: number;
  stats: Record<string, TableStats>;
}

/**
 * Reads {@link readTableStats} every `everyMs` until stopped, keeping every sample (a
 * failed read is skipped); `max()` answers "the highest dead-tuple count in a window".
 */
export class TableStatsSampler {
  readonly samples: TableStatsSample[] = [];
  readonly #pool: pg.Pool;
  readonly #tables: readonly string[];
  readonly #everyMs: number;
  #running: Promise<void> | undefined;
  #stopping = false;

  /** Samples `tables` (names in the `flowmonkey` schema) through `pool` every `everyMs`. */
  constructor(pool: pg.Pool, tables: readonly string[], everyMs: number) {
    this.#pool = pool;
    this.#tables = tables;
    this.#everyMs = everyMs;
  }

  /** Starts sampling (a no-op when started already). */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops sampling and waits for the read in flight. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
  }

  /** Highest `field` of `table` among the samples taken in `[from, to)` (epoch ms), or 0. */
  max(table: string, field: keyof TableStats, from: number, to: number): number {
    let max = 0;
    for (const s of this.samples) {
      const value = s.stats[table]?.[field];
      if (s.at >= from && s.at < to && value !== undefined && value > max) max = value;
    }
    return max;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      try {
        this.samples.push({
          at: Date.now(),
          stats: await readTableStats(this.#pool, this.#tables),
        });
      } catch {
        // A missed sample only thins the series.
      }
      await new Promise((resolve) => setTimeout(resolve, this.#everyMs));
    }
  }
}
