import { ConcurrencyError, FlowMonkeyError, NotFoundError, ValidationError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { FlowStep } from '../flow.js';
import type { Job } from '../job.js';
import { getManyOf, updateManyOf } from './batch-io.js';
import { applyBoundedOutcome } from './bounded-outcome.js';
import { emitEnd, emitTransition } from './emit-transition.js';
import type { StepOutcome } from './engine-types.js';
import type { StepRunner } from './step-runner.js';
import {
  type Begun,
  type EngineContext,
  type HandlerEnd,
  newStepJob,
  parkedOnJob,
  prepareStep,
  runInlineHandler,
} from './step-work.js';
import { parkExecution } from './transitions.js';

/**
 * One result of `StepRunner.advanceMany`: the execution where it stopped (waiting, ended,
 * or as stored after it lost a race), or the error that stopped it (a flow this process
 * does not know, a store outage) with the execution as last known.
 */
export type AdvanceManyResult =
  | { ok: true; execution: Execution }
  | { ok: false; error: unknown; execution: Execution };

/** How one execution's step of a layer ended: it moved on, stopped after a race, or failed. */
type LayerEnd =
  | { kind: 'moved'; execution: Execution }
  | { kind: 'stopped'; execution: Execution }
  | { kind: 'error'; error: unknown; execution: Execution };

/** One execution write of a layer. */
interface Write {
  /** Index of the execution in the layer. */
  k: number;
  /** The execution as the layer found it (its version is the one expected). */
  before: Execution;
  /** What to write. */
  next: Execution;
  /** Emits the events of the write once `stored` is committed. */
  emit(stored: Execution): void;
  /** The same write made alone, as `advance` makes it (events included). */
  one(): Promise<Execution>;
}

/** A stateful step of a layer: its job to create and the execution to park on it. */
interface Park {
  k: number;
  work: Begun;
  before: Execution;
}

const runnable = (e: Execution) => e.status === 'pending' || e.status === 'running';

/**
 * The batched form of `StepRunner.advance`. Each round takes the next step of every
 * execution still `pending`/`running`: inline handlers run concurrently, then every result
 * (step ended, timed wait, step limit) is written with one `executions.updateMany`;
 * stateful steps create their jobs and park in one transaction (`jobs.createMany` plus
 * `updateMany`). An execution whose write conflicts is re-read and not advanced further,
 * as `advance` stops when it loses a race. Events are those `advance` emits, per execution
 * in the same order (`advance` writes an inline step and the park it leads to together,
 * so the versions its events carry differ). Internal to the engine.
 */
export class StepBatch {
  readonly #ctx: EngineContext;
  readonly #runner: StepRunner;
  readonly #inflight: Map<string, AbortController>;

  constructor(ctx: EngineContext, runner: StepRunner, inflight: Map<string, AbortController>) {
    this.#ctx = ctx;
    this.#runner = runner;
    this.#inflight = inflight;
  }

  /** See `StepRunner.advanceMany`. */
  async advanceMany(executions: readonly Execution[]): Promise<AdvanceManyResult[]> {
    const results: AdvanceManyResult[] = executions.map((execution) => ({ ok: true, execution }));
    let active = results.flatMap((r, i) => (runnable(r.execution) ? [i] : []));
    while (active.length > 0) {
      const ends = await this.#layer(active.map((i) => results[i]?.execution as Execution));
      active = active.filter((i, k) => {
        const end = ends[k] as LayerEnd;
        results[i] =
          end.kind === 'error'
            ? { ok: false, error: end.error, execution: end.execution }
            : { ok: true, execution: end.execution };
        return end.kind === 'moved' && runnable(end.execution);
      });
    }
    return results;
  }

  /** See `StepRunner.continueManyAfterCommit`. */
  async continueManyAfterCommit(executions: readonly Execution[]): Promise<Execution[]> {
    let results: AdvanceManyResult[];
    try {
      results = await this.advanceMany(executions);
    } catch (error) {
      // A bug rather than a step's failure; still, the commit before this stands.
      results = executions.map((execution) => ({ ok: false, error, execution }));
    }
    const failed = results.flatMap((r) => (r.ok ? [] : [r]));
    if (failed.length === 0) return results.map((r) => r.execution);
    for (const r of failed) this.#runner.logContinueError(r.execution.id, r.error);
    const ids = failed.map((r) => r.execution.id);
    const fresh = new Map(
      (await getManyOf(this.#ctx.stores.executions, ids).catch(() => [])).map((e) => [e.id, e]),
    );
    return results.map((r) => (r.ok ? r.execution : (fresh.get(r.execution.id) ?? r.execution)));
  }

  /** Runs one step of each of `executions` (all runnable) and writes the results. */
  async #layer(executions: readonly Execution[]): Promise<LayerEnd[]> {
    const ends: LayerEnd[] = [];
    const writes: Write[] = [];
    const parks: Park[] = [];
    const inline: Park[] = [];
    executions.forEach((before, k) => {
      try {
        const prepared = prepareStep(this.#ctx, before);
        if (prepared.kind === 'limit') writes.push(this.#limitWrite(k, before, prepared.failed));
        else if (prepared.kind === 'failure') {
          writes.push(
            this.#finishWrite(k, before, prepared.begun, prepared.step, prepared.outcome),
          );
        } else
          (prepared.kind === 'stateful' ? parks : inline).push({ k, work: prepared.work, before });
      } catch (error) {
        ends[k] = { kind: 'error', error, execution: before };
      }
    });
    const [handled] = await Promise.all([
      Promise.all(inline.map((p) => runInlineHandler(this.#ctx, p.work, this.#inflight))),
      this.#parkAll(parks, ends),
    ]);
    inline.forEach((p, i) => {
      const end = handled[i];
      if (end === undefined) return;
      try {
        writes.push(this.#handlerWrite(p, end));
      } catch (error) {
        ends[p.k] = { kind: 'error', error, execution: p.before };
      }
    });
    await this.#writeAll(writes, ends);
    return ends;
  }

  /** Writes `writes` with one `updateMany`; conflicted ones are re-read and stop. */
  async #writeAll(writes: readonly Write[], ends: LayerEnd[]): Promise<void> {
    if (writes.length === 0) return;
    const { executions } = this.#ctx.stores;
    if (executions.updateMany === undefined) {
      await Promise.all(writes.map((w) => this.#writeOne(w, ends)));
      return;
    }
    let stored: Map<string, Execution>;
    try {
      const items = writes.map((w) => ({ execution: w.next, expectedVersion: w.before.version }));
      const { updated } = await executions.updateMany({ items });
      stored = new Map(updated.map((e) => [e.id, e]));
    } catch (error) {
      // The store refused an item (nothing written): each is written alone, as `advance`
      // would, so a refused success fails only its own step.
      if (error instanceof ValidationError) {
        await Promise.all(writes.map((w) => this.#writeOne(w, ends)));
        return;
      }
      for (const w of writes) ends[w.k] = { kind: 'error', error, execution: w.before };
      return;
    }
    const conflicted = writes.filter((w) => !stored.has(w.next.id));
    for (const w of writes) {
      const execution = stored.get(w.next.id);
      if (execution === undefined) continue;
      w.emit(execution);
      ends[w.k] = { kind: 'moved', execution };
    }
    if (conflicted.length > 0) await this.#stopAfterRace(conflicted, ends);
  }

  /** Writes one item alone (its fallback path); a lost race re-reads it and stops. */
  async #writeOne(w: Write, ends: LayerEnd[]): Promise<void> {
    ends[w.k] = await this.#alone(w.before, () => w.one());
  }

  /** Runs a single-execution write; a lost race re-reads the execution and stops it. */
  async #alone(before: Execution, write: () => Promise<Execution>): Promise<LayerEnd> {
    try {
      return { kind: 'moved', execution: await write() };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) return { kind: 'error', error, execution: before };
      try {
        return { kind: 'stopped', execution: await this.#runner.reread(before, error) };
      } catch (rereadError) {
        return { kind: 'error', error: rereadError, execution: before };
      }
    }
  }

  /** Someone else moved these executions on first: re-read them; they stop here. */
  async #stopAfterRace(conflicted: readonly Write[], ends: LayerEnd[]): Promise<void> {
    const ids = conflicted.map((w) => w.next.id);
    let fresh: Map<string, Execution>;
    try {
      fresh = new Map((await getManyOf(this.#ctx.stores.executions, ids)).map((e) => [e.id, e]));
    } catch (error) {
      for (const w of conflicted) ends[w.k] = { kind: 'error', error, execution: w.before };
      return;
    }
    for (const w of conflicted) {
      const execution = fresh.get(w.next.id);
      ends[w.k] =
        execution === undefined
          ? { kind: 'error', error: new NotFoundError('execution', w.next.id), execution: w.before }
          : { kind: 'stopped', execution };
    }
  }

  /** The write an inline handler's end leads to: its wait, or its outcome. */
  #handlerWrite(p: Park, end: HandlerEnd): Write {
    const { execution: begun, step } = p.work;
    if (end.kind === 'outcome') return this.#finishWrite(p.k, p.before, begun, step, end.outcome);
    const parked = parkExecution(begun, end.wait, this.#ctx.clock.now());
    return this.#waitWrite(p.k, p.before, parked, step);
  }

  /** The write of a step that ended with `outcome` (as `StepRunner.finish`). */
  #finishWrite(
    k: number,
    before: Execution,
    begun: Execution,
    step: FlowStep,
    outcome: StepOutcome,
  ): Write {
    const { clock, maxPayloadBytes, events } = this.#ctx;
    const bounded = applyBoundedOutcome(begun, step, outcome, clock.now(), maxPayloadBytes);
    return {
      k,
      before,
      next: bounded.execution,
      emit: (stored) => emitTransition(events, stored, step.id, bounded.outcome),
      one: () => this.#runner.finish(begun, before, step, outcome),
    };
  }

  /** The write of a timed (or external) wait an inline handler asked for. */
  #waitWrite(k: number, before: Execution, next: Execution, step: FlowStep): Write {
    const emit = (stored: Execution) =>
      emitTransition(this.#ctx.events, stored, step.id, { kind: 'wait' });
    return { k, before, next, emit, one: () => this.#update(next, before).then(tap(emit)) };
  }

  /** The write of an execution that reached its step limit. */
  #limitWrite(k: number, before: Execution, failed: Execution): Write {
    const emit = (stored: Execution) => emitEnd(this.#ctx.events, stored);
    return {
      k,
      before,
      next: failed,
      emit,
      one: () => this.#update(failed, before).then(tap(emit)),
    };
  }

  #update(next: Execution, before: Execution): Promise<Execution> {
    const { executions } = this.#ctx.stores;
    return executions.update({ execution: next, expectedVersion: before.version });
  }

  /**
   * Creates the jobs of the layer's stateful steps and parks their executions, in one
   * transaction when the stores can batch both; when they cannot, or one execution lost a
   * race (the transaction is rolled back), or the store refused something, each is parked
   * in a transaction of its own as `advance` does.
   */
  async #parkAll(parks: readonly Park[], ends: LayerEnd[]): Promise<void> {
    if (parks.length === 0) return;
    const { events } = this.#ctx;
    if (parks.length > 1) {
      try {
        const { jobs, parked } = await this.#parkInOneTransaction(parks);
        parks.forEach((p, i) => {
          const job = jobs[i] as Job;
          const execution = parked[i] as Execution;
          events.emit('job:created', { job });
          emitTransition(events, execution, p.work.step.id, { kind: 'wait' });
          ends[p.k] = { kind: 'moved', execution };
        });
        return;
      } catch (error) {
        if (!(error instanceof FlowMonkeyError)) {
          for (const p of parks) ends[p.k] = { kind: 'error', error, execution: p.before };
          return;
        }
      }
    }
    await Promise.all(
      parks.map(async (p) => {
        ends[p.k] = await this.#alone(p.before, () => this.#runner.parkOnJob(p.work, p.before));
      }),
    );
  }

  async #parkInOneTransaction(
    parks: readonly Park[],
  ): Promise<{ jobs: Job[]; parked: Execution[] }> {
    const newJobs = parks.map(({ work }) => newStepJob(work));
    return this.#ctx.stores.transaction(async (tx) => {
      const jobs = await tx.jobs.createMany(newJobs);
      const now = this.#ctx.clock.now();
      const items = parks.map(({ work, before }, i) => {
        return {
          execution: parkedOnJob(work, (jobs[i] as Job).id, now),
          expectedVersion: before.version,
        };
      });
      const { updated, conflicts } = await updateManyOf(tx.executions, items);
      if (conflicts.length > 0) {
        // Roll back every job of the batch: the ones parked alone next are created again.
        const id = conflicts[0] as string;
        const version = parks.find((p) => p.before.id === id)?.before.version ?? 0;
        throw new ConcurrencyError('execution', id, version);
      }
      const byId = new Map(updated.map((e) => [e.id, e]));
      return { jobs, parked: parks.map((p) => byId.get(p.before.id) as Execution) };
    });
  }
}

/** `then` callback that runs `fn` on the value and passes the value on. */
function tap<T>(fn: (value: T) => void): (value: T) => T {
  return (value) => {
    fn(value);
    return value;
  };
}
