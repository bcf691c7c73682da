import {
  assertParksOnJob,
  type ExecutionJson,
  executionAsStored,
  type NormalizedNewJob,
  newJobAsStored,
  normalizeNewJob,
  type ParkedOnNewJob,
  type ParkOnNewJobParams,
  ValidationError,
} from '@flowmonkey/core';
import pg from 'pg';
import { compareText, updateManyDocuments } from './execution-update-documents.js';
import { GroupCommit } from './group-commit.js';
import { insertedTimes, newJobParams } from './job-inserter.js';
import { newJobsJson } from './new-jobs-json.js';
import { notUpdated, updateValues } from './pg-execution-store.js';
import { type Row, runStatement } from './queryable.js';
import type { StoreContext } from './store-context.js';

/** The unique index a step job's idempotency key is held in. */
const JOB_KEYS_INDEX = 'jobs_idempotency_idx';

/** A validated park: the parameters, their statement values, the execution's JSON. */
interface Park {
  params: ParkOnNewJobParams;
  values: unknown[];
  json: ExecutionJson;
  expected: number;
  job: NormalizedNewJob;
}

/** How one park went: written (with the times the database chose), or why not. */
type ParkOutcome = { kind: 'parked'; row: Row } | { kind: 'not-updated' } | { kind: 'key-taken' };

/**
 * `Stores.parkOnNewJob` on PostgreSQL: the execution's `update` and the job's `createOne`
 * in one statement (`parkOnNewJob` in sql/parks.ts), so one round trip and one commit
 * where a transaction takes four round trips. Parks made at once on the pool are
 * group-committed as `GroupCommit` does for job creates (`parkOnNewJobMany`, each park
 * fenced on its own; a batch a taken key fails is written again park by park). Both
 * writes are validated before anything is sent. The wake-up of a due job goes to
 * `ctx.wake` after the statement (coalesced by the pool's notifier), not in it: see the
 * statement's comment. Never inside a caller's transaction: a taken key fails the
 * statement, which would abort that transaction too.
 */
export class ParkWriter {
  readonly #ctx: StoreContext;
  readonly #parks: GroupCommit<Park, ParkOutcome>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#parks = new GroupCommit({
      writeMany: (parks) => this.#writeMany(parks),
      writeOne: (park) => this.#writeOne(park),
      maxBatch: 100,
    });
  }

  async park(params: ParkOnNewJobParams): Promise<ParkedOnNewJob | undefined> {
    const park = this.#prepare(params);
    const outcome =
      this.#ctx.db instanceof pg.Pool ? await this.#parks.add(park) : await this.#writeOne(park);
    if (outcome.kind === 'key-taken') return undefined;
    if (outcome.kind === 'not-updated')
      return notUpdated(this.#ctx, params.execution.id, park.expected);
    // The row holds only what the database chose; the rest is what was sent.
    return {
      job: newJobAsStored(park.job, insertedTimes(outcome.row)),
      execution: executionAsStored(params.execution, park.json, park.expected + 1),
    };
  }

  /** Validates `params` (`ValidationError` naming the field; nothing is sent then). */
  #prepare(params: ParkOnNewJobParams): Park {
    const ctx = this.#ctx;
    const { values, json, expected } = updateValues(params, ctx.maxPayloadBytes);
    const job = normalizeNewJob(params.job, {
      now: Date.now(),
      maxPayloadBytes: ctx.maxPayloadBytes,
    });
    assertParksOnJob(params);
    return { params, values, json, expected, job };
  }

  async #writeOne(park: Park): Promise<ParkOutcome> {
    const statement = this.#ctx.statements.parks.parkOnNewJob;
    let rows: Row[];
    try {
      rows = await runStatement(this.#ctx.db, statement, [
        ...park.values,
        ...newJobParams(park.job, park.params.job),
      ]);
    } catch (error) {
      if (error instanceof ValidationError && error.details.constraint === JOB_KEYS_INDEX) {
        return { kind: 'key-taken' };
      }
      throw error;
    }
    const [row] = rows;
    if (row === undefined) return { kind: 'not-updated' };
    if (row.due === true) this.#ctx.wake.jobsDue();
    return { kind: 'parked', row };
  }

  /**
   * Writes `parks` with one statement. Throws (so each is written alone) for two parks of
   * one execution and for a batch too large for one document.
   */
  async #writeMany(parks: readonly Park[]): Promise<ParkOutcome[]> {
    const byId = [...parks].sort((a, b) =>
      compareText(a.params.execution.id, b.params.execution.id),
    );
    if (byId.some((p, i) => i > 0 && p.params.execution.id === byId[i - 1]?.params.execution.id)) {
      throw new ValidationError('execution.id', 'parked twice in one batch');
    }
    const documents = updateManyDocuments(
      byId.map((p) => [{ execution: p.params.execution, expectedVersion: p.expected }, p.json]),
    );
    if (documents.length > 1) throw new ValidationError('executions', 'too large for one batch');
    const jobs = newJobsJson(
      parks.map((p) => p.job),
      parks.map((p) => p.params.job.runAt === undefined),
    );
    const [document] = documents;
    const rows = await runStatement(this.#ctx.db, this.#ctx.statements.parks.parkOnNewJobMany, [
      document?.json,
      jobs,
      document?.rows,
    ]);
    if (rows.some((row) => row.due === true)) this.#ctx.wake.jobsDue();
    const inserted = new Map(rows.map((row) => [String(row.id), row]));
    return parks.map((p): ParkOutcome => {
      const row = inserted.get(p.job.id);
      return row === undefined ? { kind: 'not-updated' } : { kind: 'parked', row };
    });
  }
}
