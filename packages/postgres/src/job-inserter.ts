import {
  assertNoDuplicateJobIds,
  type Job,
  type NewJob,
  type NormalizedNewJob,
  NotFoundError,
  newJobAsStored,
  normalizeNewJob,
  normalizeNewJobs,
} from '@flowmonkey/core';
import { newJobsJson } from './new-jobs-json.js';
import { PgNotifier } from './pg-notifier.js';
import { type Row, runStatement } from './queryable.js';
import { rowToJob } from './rows.js';
import type { StoreContext } from './store-context.js';

/**
 * Writes new jobs for `PgJobStore`: one job with the one-row statement `createOne` (13
 * parameters, no JSON document to unpack), several with `createMany`, in one round trip
 * each. Both validate before sending anything, take a missing `runAt` from the database
 * clock, append the `created` event in the same statement, build the jobs they return
 * from what they sent and the times the database chose (`newJobAsStored`), and return the
 * existing job for an idempotency key already taken (read in a second round trip). The
 * wake-up rides on the INSERT (an in-statement NOTIFY) when `ctx.wake` is the pool's
 * notifier with notifications on; otherwise `ctx.wake.jobsDue()` is called when a due job
 * was inserted.
 */
export class JobInserter {
  readonly #ctx: StoreContext;
  /** The channel of the in-statement NOTIFY, or `null` (see the class comment). */
  readonly #channel: string | null;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#channel = ctx.wake instanceof PgNotifier ? ctx.wake.inlineJobsChannel() : null;
  }

  /** Creates `job`; a bad field fails with a `ValidationError` naming it (`priority`). */
  async one(job: NewJob): Promise<Job> {
    const ctx = this.#ctx;
    const n = normalizeNewJob(job, { now: Date.now(), maxPayloadBytes: ctx.maxPayloadBytes });
    const [row] = await runStatement(ctx.db, ctx.statements.jobs.createOne, [
      ...newJobParams(n, job),
      this.#channel,
    ]);
    if (row !== undefined) {
      if (this.#channel === null && row.due === true) ctx.wake.jobsDue();
      // The row holds only what the database chose; the rest is what was sent.
      return newJobAsStored(n, insertedTimes(row));
    }
    // No row: the key was taken, perhaps by an insert that committed while this one waited
    // for it (read now, in a snapshot that sees it).
    if (n.idempotencyKey !== null) {
      const [existing] = await runStatement(ctx.db, ctx.statements.jobs.getByIdempotencyKeys, [
        [n.idempotencyKey],
      ]);
      if (existing !== undefined) return rowToJob(existing);
    }
    throw new NotFoundError('job', n.id);
  }

  /**
   * Creates `jobs` in one statement, all or none, returning them in input order. With
   * `indexed`, a bad field is named with its index (`jobs[3].priority`), as `createMany`
   * reports it; without, as `create` does (a group-commit batch of single creates).
   */
  async many(jobs: readonly NewJob[], indexed: boolean): Promise<Job[]> {
    return this.holdersOfTakenKeys(await this.insertMany(jobs, indexed));
  }

  /**
   * `many`'s statement alone: each job as inserted, or `{ takenKey }` for one whose
   * idempotency key another job holds (`holdersOfTakenKeys` reads those). Nothing after
   * the statement can fail, as a group-commit batch needs.
   */
  async insertMany(jobs: readonly NewJob[], indexed: boolean): Promise<(Job | TakenKey)[]> {
    const ctx = this.#ctx;
    const options = { now: Date.now(), maxPayloadBytes: ctx.maxPayloadBytes };
    const normalized = indexed
      ? normalizeNewJobs(jobs, options)
      : jobs.map((job) => normalizeNewJob(job, options));
    assertNoDuplicateJobIds(normalized);
    const defaultRunAt = jobs.map((job) => job.runAt === undefined);
    const channel = this.#channel;
    const rows = await runStatement(ctx.db, ctx.statements.jobs.createMany, [
      newJobsJson(normalized, defaultRunAt),
      channel,
    ]);
    if (channel === null && rows.some((row) => row.due === true)) ctx.wake.jobsDue();
    // The rows hold only what the database chose for the jobs it inserted; the rest is what
    // was sent (the first job with an id, as a later one sharing its key was skipped).
    const sent = new Map<string, NormalizedNewJob>();
    for (const job of normalized) if (!sent.has(job.id)) sent.set(job.id, job);
    const byId = new Map<string, Job>();
    for (const row of rows) {
      const id = String(row.id);
      byId.set(id, newJobAsStored(sent.get(id) as NormalizedNewJob, insertedTimes(row)));
    }
    return normalized.map(
      (job) => byId.get(job.id) ?? { takenKey: job.idempotencyKey, id: job.id },
    );
  }

  /**
   * `written` with each `{ takenKey }` replaced by the job holding that key, read in one
   * round trip (in a snapshot that sees an insert of the key that committed meanwhile).
   */
  async holdersOfTakenKeys(written: readonly (Job | TakenKey)[]): Promise<Job[]> {
    const taken = written.filter(isTakenKey);
    const keys = taken.flatMap((t) => (t.takenKey === null ? [] : [t.takenKey]));
    const byKey = new Map<string, Job>();
    if (keys.length > 0) {
      const ctx = this.#ctx;
      const existing = await runStatement(ctx.db, ctx.statements.jobs.getByIdempotencyKeys, [keys]);
      for (const row of existing) byKey.set(String(row.idempotency_key), rowToJob(row));
    }
    return written.map((w) => {
      if (!isTakenKey(w)) return w;
      const found = byKey.get(w.takenKey ?? '');
      if (found === undefined) throw new NotFoundError('job', w.id);
      return found;
    });
  }
}

/** A job `insertMany` did not insert: its key was taken (`null`: not expected to happen). */
export interface TakenKey {
  takenKey: string | null;
  /** The id the job was sent with. */
  id: string;
}

function isTakenKey(value: Job | TakenKey): value is TakenKey {
  return 'takenKey' in value;
}

/** The 13 parameters of a new job (see `newJobValues`), from `job` as `normalizeNewJob` gave it. */
export function newJobParams(n: NormalizedNewJob, job: NewJob): unknown[] {
  return [
    n.id,
    n.queue,
    n.handler,
    n.executionId,
    n.stepId,
    n.inputJson,
    n.priority,
    job.runAt === undefined ? null : new Date(n.runAt).toISOString(),
    n.maxAttempts,
    n.timeoutMs,
    n.retry === null ? null : JSON.stringify(n.retry),
    n.idempotencyKey,
    n.correlationId,
  ];
}

/** The times the database chose for an inserted job (`NEW_JOB_TIMES`), as epoch ms. */
export function insertedTimes(row: Row): { runAt: number; createdAt: number } {
  return { runAt: Number(row.run_at), createdAt: Number(row.created_at) };
}
