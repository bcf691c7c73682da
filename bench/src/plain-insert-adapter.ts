import pg from 'pg';
import type { BenchAdapter, BenchJob } from './adapter.js';

/** The physical reference: a one-row `INSERT` with its own commit, no queue around it. */
export class PlainInsertAdapter implements BenchAdapter {
  readonly name = 'plain-insert';
  readonly version = 'node-postgres';
  #pool: pg.Pool | undefined;

  settings(): Record<string, unknown> {
    return { table: 'bench_rows(id bigserial primary key, payload jsonb)', pool: 10 };
  }

  async prepare(url: string): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        'CREATE TABLE bench_rows (id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
      );
    } finally {
      await client.end();
    }
  }

  async open(url: string): Promise<void> {
    this.#pool = new pg.Pool({ connectionString: url, max: 10 });
  }

  async enqueueMany(jobs: readonly BenchJob[]): Promise<void> {
    await this.#need().query(
      'INSERT INTO bench_rows (payload) SELECT * FROM jsonb_array_elements($1::jsonb)',
      [JSON.stringify(jobs)],
    );
  }

  async enqueueOne(job: BenchJob): Promise<void> {
    await this.#need().query({
      name: 'bench-insert',
      text: 'INSERT INTO bench_rows (payload) VALUES ($1)',
      values: [job],
    });
  }

  async startWorker(): Promise<void> {
    throw new Error('plain-insert has no worker');
  }

  async close(): Promise<void> {
    await this.#pool?.end();
  }

  #need(): pg.Pool {
    if (this.#pool === undefined) throw new Error('adapter not opened');
    return this.#pool;
  }
}
