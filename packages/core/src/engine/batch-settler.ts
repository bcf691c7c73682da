import { ConcurrencyError, FlowMonkeyError, LeaseLostError, ValidationError } from '../errors.js';
import type { Execution } from '../execution.js';
import { type Job, jobAsCompleted } from '../job.js';
import { normalizeRunnerEvents } from '../job-store-checks.js';
import type { JobStore, RunnerJobEvent } from '../stores/job-store.js';
import type { CompletedAndResumed, StoreSet } from '../stores/stores.js';
import { getManyOf, updateManyOf } from './batch-io.js';
import type {
  CompleteJobItem,
  CompleteJobsOptions,
  JobBatchSettlement,
  JobSettlement,
  StepOutcome,
} from './engine-types.js';
import { applyResumeOutcome, emitResumed, whyNotResumable } from './resumer.js';
import { CONFLICT_ATTEMPTS } from './retry-on-conflict.js';
import type { EngineContext, StepRunner } from './step-runner.js';

/** How a completed job left its parent inside the batch's transaction. */
interface Decided {
  /** The parent as read (not resumed) or as written (resumed); absent when there is none. */
  execution?: Execution;
  /** The outcome applied when this job resumed its parent. */
  outcome?: StepOutcome;
}

/** What the batch's transaction committed. */
interface Committed {
  /** The completed jobs by id; an item whose job is absent lost its lease. */
  jobs: Map<string, Job>;
  /** By job id. */
  decided: Map<string, Decided>;
}

/** One parent's pending write: as read, as it will be written, and the jobs resuming it. */
interface Plan {
  before: Execution;
  next: Execution;
  resumes: { job: Job; outcome: StepOutcome }[];
}

/**
 * `Engine.completeJobs`: many `completeJob`s in one unit of work. In one transaction it
 * completes the jobs (`jobs.completeMany`, runner events first), reads their parents
 * (`executions.getMany`), ends each wait as `Resumer.settle` would, and writes the parents
 * (`executions.updateMany`); parents another writer changed meanwhile are re-read and
 * decided again in the same transaction, up to `CONFLICT_ATTEMPTS` rounds. After the
 * commit the resumed executions continue together (`StepRunner.continueManyAfterCommit`).
 * When the transaction fails with a `FlowMonkeyError` (nothing of it written), the items
 * are settled one by one with `completeJob`, so only the ones at fault fail. Internal to
 * the engine.
 */
export class BatchSettler {
  readonly #ctx: EngineContext;
  readonly #runner: StepRunner;
  readonly #single: (item: CompleteJobItem) => Promise<JobSettlement>;

  /** `single` is `Engine.completeJob`, the per-item fallback. */
  constructor(
    ctx: EngineContext,
    runner: StepRunner,
    single: (item: CompleteJobItem) => Promise<JobSettlement>,
  ) {
    this.#ctx = ctx;
    this.#runner = runner;
    this.#single = single;
  }

  /** See `Engine.completeJobs`. */
  async completeJobs(
    items: readonly CompleteJobItem[],
    options: CompleteJobsOptions = {},
  ): Promise<JobBatchSettlement[]> {
    if (!Array.isArray(items)) throw new ValidationError('items', 'must be an array');
    const { events = [], executions = [] } = options;
    normalizeRunnerEvents(events, this.#ctx.maxPayloadBytes);
    if (!Array.isArray(executions)) {
      throw new ValidationError('executions', 'must be an array of executions');
    }
    const held = heldJobs(items);
    if (items.length === 0 && events.length === 0) return [];
    const written = await this.#inOneWrite(items, events, executions, held);
    if (written !== undefined) return this.#afterCommit(items, written);
    let committed: Committed;
    try {
      committed = await this.#ctx.stores.transaction((tx) =>
        this.#settle(tx, items, events, executions, held),
      );
    } catch (error) {
      if (!(error instanceof FlowMonkeyError)) throw error;
      this.#ctx.log.warn(
        { err: error, jobs: items.length },
        'settling a batch of jobs together failed (nothing written); settling them one by one',
      );
      return this.#oneByOne(items, events);
    }
    return this.#afterCommit(items, committed);
  }

  /**
   * The batch in one write, when the stores have `completeAndResumeMany` and the caller
   * holds every job and passed every parent: each parent is decided on the copy passed,
   * before anything is written, and the store writes all of it or nothing (the version
   * fence confirms each copy). Returns `undefined`, having written nothing, to settle in
   * the transaction instead: a parent not passed or not resumable on its copy, a lost
   * lease or a moved version, or a `FlowMonkeyError` (which the transaction meets again
   * and settles item by item).
   */
  async #inOneWrite(
    items: readonly CompleteJobItem[],
    events: readonly RunnerJobEvent[],
    known: readonly Execution[],
    held: readonly Job[] | undefined,
  ): Promise<Committed | undefined> {
    const { stores } = this.#ctx;
    if (stores.completeAndResumeMany === undefined || held === undefined) return undefined;
    const parents = new Map(known.map((execution) => [execution.id, execution]));
    // Completed as the write will leave them (copies of their own); the time is the
    // store's, set after it.
    const completed = items.map((item, i) => jobAsCompleted(held[i] as Job, item.result, 0));
    const decided = new Map<string, Decided>();
    const waiting: Job[] = [];
    for (const job of completed) {
      if (job.executionId === null || job.stepId === null) decided.set(job.id, {});
      else if (parents.has(job.executionId)) waiting.push(job);
      else return undefined;
    }
    const plain = decided.size;
    let plans: Map<string, Plan>;
    let written: CompletedAndResumed | undefined;
    try {
      // Deciding may throw as well (a flow this process does not know).
      plans = this.#plan(waiting, parents, decided);
      if (decided.size !== plain) return undefined;
      written = await stores.completeAndResumeMany({
        items,
        events,
        executions: [...plans.values()].map((p) => ({
          execution: p.next,
          expectedVersion: p.before.version,
        })),
      });
    } catch (error) {
      if (error instanceof FlowMonkeyError) return undefined;
      throw error;
    }
    if (written === undefined) return undefined;
    if (written.executions.length !== plans.size) {
      // Written, so not to be settled again: a store that breaks its contract fails the batch.
      throw new Error(
        `completeAndResumeMany wrote ${plans.size} executions but returned ${written.executions.length}`,
      );
    }
    const resumed = new Map(written.executions.map((execution) => [execution.id, execution]));
    for (const plan of plans.values()) {
      const execution = resumed.get(plan.before.id);
      for (const { job, outcome } of plan.resumes) decided.set(job.id, { execution, outcome });
    }
    // The copies decided on, with the time the store wrote.
    for (const job of completed) {
      job.finishedAt = written.finishedAt;
      job.updatedAt = written.finishedAt;
    }
    return { jobs: new Map(completed.map((job) => [job.id, job])), decided };
  }

  /**
   * The batch's transaction: complete, read the parents (or take the caller's `known`
   * copies), resume them. A parent whose write conflicts, and a known copy left alone
   * (not resumable on what the caller saw), is re-read and decided again.
   */
  async #settle(
    tx: StoreSet,
    items: readonly CompleteJobItem[],
    events: readonly RunnerJobEvent[],
    known: readonly Execution[],
    held: readonly Job[] | undefined,
  ): Promise<Committed> {
    const completed = await completeAll(tx.jobs, items, events, held);
    const jobs = new Map(completed.map((job) => [job.id, job]));
    const decided = new Map<string, Decided>();
    let waiting: Job[] = [];
    for (const job of completed) {
      if (job.executionId === null || job.stepId === null) decided.set(job.id, {});
      else waiting.push(job);
    }
    const { read, unconfirmed } = await readParents(tx, waiting, known);
    for (let round = 1; waiting.length > 0; round++) {
      const plans = this.#plan(waiting, read, decided);
      const items = [...plans.values()].map((p) => ({
        execution: p.next,
        expectedVersion: p.before.version,
      }));
      const { updated, conflicts } = await updateManyOf(tx.executions, items);
      for (const execution of updated) {
        for (const { job, outcome } of plans.get(execution.id)?.resumes ?? []) {
          decided.set(job.id, { execution, outcome });
        }
      }
      const again = new Set(conflicts);
      for (const id of unconfirmed) if (!plans.has(id)) again.add(id);
      unconfirmed.clear();
      if (again.size === 0) break;
      if (round >= CONFLICT_ATTEMPTS) {
        const id = conflicts[0] ?? '';
        throw new ConcurrencyError('execution', id, plans.get(id)?.before.version ?? 0);
      }
      // Another writer got there first: decide those parents again on what they are now.
      for (const id of again) read.delete(id);
      for (const e of await getManyOf(tx.executions, [...again])) read.set(e.id, e);
      waiting = waiting.filter((job) => again.has(job.executionId as string));
    }
    return { jobs, decided };
  }

  /**
   * Decides each waiting job's effect on its parent as `Resumer.settle` does: a parent
   * gone or no longer waiting on `(stepId, jobId)` is left alone (recorded in `decided`
   * as read), else the job's result ends its wait. Returns the parents to write.
   */
  #plan(
    waiting: readonly Job[],
    read: ReadonlyMap<string, Execution>,
    decided: Map<string, Decided>,
  ): Map<string, Plan> {
    const plans = new Map<string, Plan>();
    for (const job of waiting) {
      const stepId = job.stepId as string;
      const before = read.get(job.executionId as string);
      if (before === undefined) {
        decided.set(job.id, {});
        continue;
      }
      const plan = plans.get(before.id);
      const current = plan?.next ?? before;
      if (whyNotResumable(current, stepId, job.id) !== undefined) {
        decided.set(job.id, { execution: before });
        continue;
      }
      const success: StepOutcome = { kind: 'success', output: job.result };
      const bounded = applyResumeOutcome(this.#ctx, current, stepId, success);
      const resume = { job, outcome: bounded.outcome };
      if (plan === undefined)
        plans.set(before.id, { before, next: bounded.execution, resumes: [resume] });
      else {
        plan.next = bounded.execution;
        plan.resumes.push(resume);
      }
    }
    return plans;
  }

  /** Emits the resumes, continues the resumed executions together, builds the results. */
  async #afterCommit(
    items: readonly CompleteJobItem[],
    { jobs, decided }: Committed,
  ): Promise<JobBatchSettlement[]> {
    const resumed: Execution[] = [];
    for (const [jobId, d] of decided) {
      const job = jobs.get(jobId);
      if (d.outcome === undefined || d.execution === undefined || job === undefined) continue;
      emitResumed(this.#ctx, d.execution, job.stepId ?? '', job.id, d.outcome);
      resumed.push(d.execution);
    }
    const after = await this.#runner.continueManyAfterCommit(resumed);
    const continued = new Map(after.map((execution) => [execution.id, execution]));
    return items.map((item): JobBatchSettlement => {
      const job = jobs.get(item.jobId);
      if (job === undefined) {
        return { ok: false, error: new LeaseLostError(item.jobId, item.leaseId) };
      }
      const d = decided.get(job.id) ?? {};
      if (d.execution === undefined) return { ok: true, settlement: { job, resumed: false } };
      if (d.outcome === undefined) {
        return { ok: true, settlement: { job, execution: d.execution, resumed: false } };
      }
      const execution = continued.get(d.execution.id) ?? d.execution;
      return { ok: true, settlement: { job, execution, resumed: true } };
    });
  }

  /**
   * The fallback: the events first (best effort, as history rows always are: a failure is
   * logged and fails no job), then one `completeJob` per item, concurrently.
   */
  async #oneByOne(
    items: readonly CompleteJobItem[],
    events: readonly RunnerJobEvent[],
  ): Promise<JobBatchSettlement[]> {
    const { jobs } = this.#ctx.stores;
    if (events.length > 0 && jobs.recordEvents !== undefined) {
      await jobs.recordEvents({ events }).catch((error: unknown) => {
        this.#ctx.log.warn(
          { err: error, events: events.length },
          'could not record runner job events; they are missing from the job history',
        );
      });
    }
    return Promise.all(
      items.map(async (item): Promise<JobBatchSettlement> => {
        try {
          return { ok: true, settlement: await this.#single(item) };
        } catch (error) {
          return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
        }
      }),
    );
  }
}

/**
 * Completes the held jobs of `items` (runner `events` first) and returns them as stored;
 * items whose lease is lost are left out. One `completeMany` when the store has it, else
 * `recordEvents` and one `complete` per item. With `held` (the items' own `job` copies, in
 * order), the completed jobs are built from those instead of read back whole.
 */
async function completeAll(
  jobs: JobStore,
  items: readonly CompleteJobItem[],
  events: readonly RunnerJobEvent[],
  held: readonly Job[] | undefined,
): Promise<Job[]> {
  if (jobs.completeMany !== undefined) {
    if (held !== undefined) {
      const done = await jobs.completeMany({ items, events });
      // Ids as the store returns them (PostgreSQL writes a uuid in lower case).
      const ids = new Set(done.completed.map((id) => id.toLowerCase()));
      return items.flatMap((item, i) =>
        ids.has(item.jobId.toLowerCase())
          ? [jobAsCompleted(held[i] as Job, item.result, done.finishedAt)]
          : [],
      );
    }
    const done = await jobs.completeMany({ items, events, returnJobs: true });
    if (done.jobs !== undefined) return done.jobs;
    const found = await Promise.all(done.completed.map((id) => jobs.get(id)));
    return found.filter((job): job is Job => job !== undefined);
  }
  if (events.length > 0 && jobs.recordEvents !== undefined) await jobs.recordEvents({ events });
  const completed: Job[] = [];
  for (const item of items) {
    try {
      completed.push(await jobs.complete(item));
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
    }
  }
  return completed;
}

/**
 * The items' `job` copies in order, or `undefined` unless every item has one (or there
 * are none). A copy of another job than the item's is a `ValidationError` naming
 * `items[i].job.id`, before anything is written.
 */
function heldJobs(items: readonly CompleteJobItem[]): Job[] | undefined {
  if (items.length === 0) return undefined;
  const held: Job[] = [];
  for (const [i, item] of items.entries()) {
    // A malformed item is left to the store's checks.
    const job = typeof item === 'object' && item !== null ? item.job : undefined;
    if (job === undefined) return undefined;
    if (job === null || typeof job !== 'object' || job.id !== item.jobId) {
      throw new ValidationError(
        `items[${i}].job.id`,
        'must be the id of the job completed (jobId)',
      );
    }
    held.push(job);
  }
  return held;
}

/**
 * The parents of `waiting` by id: the `known` copies of those the caller passed (marked
 * `unconfirmed`: only their version-fenced write, or a fresh read, confirms them), the
 * rest read with one `getMany`.
 */
async function readParents(
  tx: StoreSet,
  waiting: readonly Job[],
  known: readonly Execution[],
): Promise<{ read: Map<string, Execution>; unconfirmed: Set<string> }> {
  const ids = new Set(waiting.map((job) => job.executionId as string));
  const read = new Map<string, Execution>();
  for (const execution of known) if (ids.has(execution.id)) read.set(execution.id, execution);
  const unconfirmed = new Set(read.keys());
  const missing = [...ids].filter((id) => !read.has(id));
  for (const execution of await getManyOf(tx.executions, missing)) {
    read.set(execution.id, execution);
  }
  return { read, unconfirmed };
}
