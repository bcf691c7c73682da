import { clearImmediate, setImmediate } from 'node:timers';
import type {
  CompleteManyResult,
  Execution,
  Job,
  JobStore,
  LeaseRef,
  Logger,
  RunnerJobEvent,
} from '@flowmonkey/core';
import { FlowMonkeyError, GroupQueue, LeaseLostError } from '@flowmonkey/core';
import type { JobEngine, JobSettlement } from './job-engine.js';

/**
 * True for an error that a store or the engine raised before writing anything (one of
 * core's typed errors: a refused value, a conflict), so the items may be written again one
 * by one; false for anything else, such as a lost connection, after which the write may
 * have committed.
 */
function provesNothingWritten(error: unknown): boolean {
  return error instanceof FlowMonkeyError;
}

/** Most writes (completions plus events) handed to one store call. */
const MAX_BATCH = 500;

type Completion = LeaseRef & { result: unknown };

/** A step job's completion, with the job as its holder has it (see `Engine.completeJobs`). */
type StepItem = Completion & { job?: Job };

interface PlainCompletion {
  kind: 'complete';
  item: Completion;
  resolve: (finishedAt: number) => void;
  reject: (error: unknown) => void;
  /** Its place in the queue (see {@link JobWriteBatcher.writtenThrough}). */
  seq: number;
}

interface PendingEvent {
  kind: 'event';
  event: RunnerJobEvent;
  seq: number;
}

interface StepCompletion {
  item: StepItem;
  /** The parent as last read, if known (saves reading it again). */
  execution: Execution | undefined;
  /** The attempt's history rows not written yet, written before its completion. */
  events: readonly RunnerJobEvent[];
  resolve: (settlement: JobSettlement) => void;
  reject: (error: unknown) => void;
}

/**
 * A runner event held back by {@link JobWriteBatcher.defer} until the end of the event
 * loop's turn; `seq` is its number once queued (0 while held, or when taken).
 */
export interface DeferredEvent {
  readonly event: RunnerJobEvent;
  seq: number;
}

/**
 * Group commit ({@link GroupQueue}) for the runner's frequent writes. Plain-job completions
 * and the events only a runner sees (`started`, `timeout`, `lease-lost`) share one queue:
 * whatever was requested while a write was in flight goes in the next one, in order, as one
 * `completeMany` carrying the queued events first (or one `recordEvents` when only events
 * wait); so an attempt's `started` row, queued before its completion, is written before or
 * with it. A `started` row is held back until the end of the event loop's turn
 * ({@link JobWriteBatcher.defer}): a handler that settles within it hands the row to its
 * completion, and the two are written in one statement instead of two (at a steady
 * trickle of jobs the row used to go out on its own). Step jobs of executions have a queue
 * of their own, written with one `engine.completeJobs` per batch (the jobs and their
 * executions' resumes in one statement, else one transaction, carrying the `started` rows
 * handed to them): it also runs the inline steps that follow, which may take as long as
 * their handlers do, and must not hold up the plain jobs and events behind it.
 *
 * Each completion still gets its own outcome: `LeaseLostError` for a fenced-out lease, the
 * engine's error for a step job it could not settle. A batch refused with one of core's
 * typed errors (raised before anything is written: a result that is not JSON, say) is
 * written again item by item, so one bad item never fails the others; any other failure
 * (a lost connection, after which the batch may have committed) fails its items and
 * writes nothing again. Events are best effort: one whose write fails is logged and lost,
 * never failing a job. A store that keeps no history (no `recordEvents`) gets no events.
 */
export class JobWriteBatcher {
  readonly #store: JobStore;
  readonly #engine: JobEngine | undefined;
  readonly #logger: Logger;
  readonly #queue = new GroupQueue<PlainCompletion | PendingEvent>(
    (batch) => this.#write(batch),
    MAX_BATCH,
  );
  readonly #steps = new GroupQueue<StepCompletion>(
    (batch) => this.#guarded(batch, () => this.#writeSteps(batch)),
    MAX_BATCH,
  );
  /** Items pushed to the plain queue so far; each gets the next number. */
  #pushed = 0;
  /** Every item of the plain queue numbered up to this one has been written (or given up). */
  #written = 0;
  /** Callers of {@link writtenThrough} waiting for a number not written yet, in order. */
  #waiters: { seq: number; resolve: () => void }[] = [];
  /** Events held by {@link defer}, in the order deferred. */
  readonly #deferred = new Set<DeferredEvent>();
  /** Queues the held events at the end of this turn; set while any are held. */
  #deferredFlush: NodeJS.Immediate | undefined;

  /** Step completions go through `engine.completeJobs` when the engine has it. */
  constructor(store: JobStore, logger: Logger, engine?: JobEngine) {
    this.#store = store;
    this.#logger = logger;
    this.#engine = engine;
  }

  /** True when step jobs of executions can be completed through {@link completeStep}. */
  get batchesSteps(): boolean {
    return this.#engine?.completeJobs !== undefined;
  }

  /**
   * Completes the job under its lease; resolves with the stored `finishedAt` (epoch ms).
   * `events`: the attempt's history rows not written yet (taken with {@link take}), queued
   * just before it, so written in its batch.
   */
  complete(item: Completion, events: readonly RunnerJobEvent[] = []): Promise<number> {
    for (const event of events) this.record(event);
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ kind: 'complete', item, resolve, reject, seq: ++this.#pushed });
    });
  }

  /**
   * Completes a step job through the engine (job written and execution resumed together,
   * batched with others); resolves with the settlement `completeJob` would return.
   * `execution`: its parent as last read, passed on so the engine need not read it again
   * (stale is safe: the resume is fenced by its version). The step queue does not order
   * this after the job's queued events: a caller awaits its `started` row first, or takes
   * it (see {@link take}) and passes it as `events`, written in the completion's statement
   * before it. Only when {@link batchesSteps}.
   */
  completeStep(
    item: StepItem,
    execution?: Execution,
    events: readonly RunnerJobEvent[] = [],
  ): Promise<JobSettlement> {
    return new Promise<JobSettlement>((resolve, reject) => {
      this.#steps.push({ item, execution, events, resolve, reject });
    });
  }

  /**
   * Holds `event` back until the end of this turn of the event loop, then queues it as
   * {@link record} does. Until then the attempt may {@link take} it and hand it to its
   * completion: a handler that settles at once then has its `started` row written in its
   * completion's statement instead of one of its own. `undefined` (nothing held) when the
   * store keeps no history. The end of the turn is `node:timers`' `setImmediate`, which
   * fake timers in tests leave alone.
   */
  defer(event: RunnerJobEvent): DeferredEvent | undefined {
    if (this.#store.recordEvents === undefined) return undefined;
    const held: DeferredEvent = { event, seq: 0 };
    this.#deferred.add(held);
    this.#deferredFlush ??= setImmediate(() => this.#queueDeferred());
    return held;
  }

  /** The held event, now the caller's to write; `undefined` when it was queued already. */
  take(held: DeferredEvent): RunnerJobEvent | undefined {
    return this.#deferred.delete(held) ? held.event : undefined;
  }

  /** Queues `held` now if it is still held; returns its number, for {@link writtenThrough}. */
  release(held: DeferredEvent): number {
    if (this.#deferred.delete(held)) held.seq = this.record(held.event);
    return held.seq;
  }

  /**
   * Queues a runner event and returns its number, for {@link writtenThrough}; 0 (nothing
   * queued) when the store keeps no history. Its write is best effort: a failure is logged.
   */
  record(event: RunnerJobEvent): number {
    if (this.#store.recordEvents === undefined) return 0;
    const seq = ++this.#pushed;
    this.#queue.push({ kind: 'event', event, seq });
    return seq;
  }

  /**
   * Resolves once the event numbered `seq` (from {@link record}) and everything queued
   * before it have been written or given up on; at once for 0. Events carry no promise of
   * their own: most are written with a completion that needs no wait for them.
   */
  writtenThrough(seq: number): Promise<void> {
    if (seq <= this.#written) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /** Resolves once everything queued or held so far was written (or given up on). */
  async idle(): Promise<void> {
    this.#queueDeferred();
    await Promise.all([this.#queue.idle(), this.#steps.idle()]);
  }

  #queueDeferred(): void {
    if (this.#deferredFlush !== undefined) clearImmediate(this.#deferredFlush);
    this.#deferredFlush = undefined;
    for (const held of this.#deferred) held.seq = this.record(held.event);
    this.#deferred.clear();
  }

  async #write(batch: (PlainCompletion | PendingEvent)[]): Promise<void> {
    const completions: PlainCompletion[] = [];
    const events: PendingEvent[] = [];
    for (const p of batch) {
      if (p.kind === 'complete') completions.push(p);
      else events.push(p);
    }
    try {
      await this.#guarded(completions, () => this.#writeBatch(completions, events));
    } finally {
      // GroupQueue writes one batch at a time, in push order: everything numbered up to
      // this batch's last item is now written (or given up on).
      this.#passed(batch[batch.length - 1]?.seq ?? this.#written);
    }
  }

  /**
   * Runs `write` so that it never rejects (GroupQueue's flush loop would end unhandled and
   * leave the items behind it waiting): a batch that failed in an unexpected way (a broken
   * store answer, a logger that throws) fails its completions still pending, as a store
   * error, before anything is logged. Settling a promise twice changes nothing.
   */
  async #guarded(
    completions: readonly { reject: (error: unknown) => void }[],
    write: () => Promise<void>,
  ): Promise<void> {
    try {
      await write();
    } catch (error) {
      for (const p of completions) p.reject(error);
      try {
        this.#logger.error({ err: error, items: completions.length }, 'job outcome batch failed');
      } catch {
        // The logger itself failed; the completions carry the error.
      }
    }
  }

  #passed(seq: number): void {
    this.#written = seq;
    // Waiters are kept in call order, not number order: wake each one that is due.
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiting) {
      if (waiter.seq <= seq) waiter.resolve();
      else this.#waiters.push(waiter);
    }
  }

  async #writeBatch(
    completions: readonly PlainCompletion[],
    pending: readonly PendingEvent[],
  ): Promise<void> {
    const many = this.#store.completeMany;
    const events = pending.map((p) => p.event);
    if (completions.length === 0 || many === undefined) {
      await this.#writeEvents(events);
      await Promise.all(completions.map((p) => this.#completeOne(p)));
      return;
    }
    let result: CompleteManyResult;
    try {
      const items = completions.map((p) => p.item);
      result = await many.call(this.#store, events.length > 0 ? { items, events } : { items });
    } catch (error) {
      if (!provesNothingWritten(error)) {
        this.#unknownOutcome(error, completions, events);
        return;
      }
      await this.#writeEvents(events);
      const [only] = completions;
      if (completions.length === 1 && only !== undefined) only.reject(error);
      else await Promise.all(completions.map((p) => this.#completeOne(p)));
      return;
    }
    const lost = new Set(result.lost);
    for (const p of completions) {
      if (lost.has(p.item.jobId)) p.reject(new LeaseLostError(p.item.jobId, p.item.leaseId));
      else p.resolve(result.finishedAt);
    }
  }

  async #writeSteps(completions: StepCompletion[]): Promise<void> {
    const engine = this.#engine;
    if (engine?.completeJobs === undefined) {
      const error = new TypeError('step completions need an engine with completeJobs');
      for (const p of completions) p.reject(error);
      return;
    }
    const executions = completions.flatMap((p) => (p.execution === undefined ? [] : [p.execution]));
    const events = completions.flatMap((p) => p.events);
    try {
      const items = completions.map((p) => p.item);
      const options = {
        ...(executions.length > 0 ? { executions } : {}),
        ...(events.length > 0 ? { events } : {}),
      };
      const results = await engine.completeJobs(items, options);
      completions.forEach((p, i) => {
        const r = results[i];
        if (r === undefined) p.reject(new Error(`completeJobs returned no result for item ${i}`));
        else if (r.ok) p.resolve(r.settlement);
        else p.reject(r.error);
      });
    } catch (error) {
      if (!provesNothingWritten(error)) {
        this.#unknownOutcome(error, completions, events);
        return;
      }
      // Refused before anything was written: the events first, then each job in a unit of
      // work of its own (which reports its own error).
      await this.#writeEvents(events);
      await Promise.all(
        completions.map((p) => engine.completeJob(p.item).then(p.resolve, p.reject)),
      );
    }
  }

  /**
   * A write failed in a way that does not say whether it committed (a connection lost
   * after the statement or COMMIT was sent): each completion fails with that error (its
   * attempt ends as a store error, its lease left to lapse if it was not written), and no
   * item is tried again, since a retry of one that did commit would find its own lease
   * gone and report it lost. The `started` and `timeout` rows of the jobs it completes are
   * queued again: fenced by the lease its completion ends, they are written only if the
   * batch did not commit, so none is lost or doubled. Its other rows are not: `lease-lost`
   * rows, which no lease fences, and rows of jobs still running, whose lease would let a
   * second copy in. Those may be missing from the history, never doubled.
   */
  #unknownOutcome(
    error: unknown,
    completions: readonly { item: LeaseRef; reject: (error: unknown) => void }[],
    events: readonly RunnerJobEvent[] = [],
  ): void {
    this.#logger.warn(
      { err: error, completions: completions.length, events: events.length },
      'a batch of job outcomes may or may not have been written',
    );
    for (const p of completions) p.reject(error);
    const completed = new Set(completions.map(({ item }) => leaseKey(item)));
    for (const event of events) {
      if (event.kind !== 'lease-lost' && completed.has(leaseKey(event))) this.record(event);
    }
  }

  async #writeEvents(events: readonly RunnerJobEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.#store.recordEvents?.({ events });
    } catch (error) {
      this.#logger.warn(
        { err: error, events: events.length },
        'could not record runner job events; they are missing from the job history',
      );
    }
  }

  async #completeOne(p: PlainCompletion): Promise<void> {
    try {
      const job = await this.#store.complete(p.item);
      p.resolve(job.finishedAt ?? job.updatedAt);
    } catch (error) {
      p.reject(error);
    }
  }
}

/** A job and lease as one key. */
function leaseKey({ jobId, leaseId }: LeaseRef): string {
  return `${jobId}/${leaseId}`;
}
