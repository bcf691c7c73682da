import type { Job, JobStore, StepHandler } from '@flowmonkey/core';
import { EventBus } from '@flowmonkey/core';
import { BatchClaimer } from './batch-claimer.js';
import type { JobEngine, JobEngineDescription } from './job-engine.js';
import type { AttemptEnd, JobExecutionDeps } from './job-execution.js';
import { JobExecution } from './job-execution.js';
import type { JobHandlerFunction, JobHandlerOptions } from './job-handler.js';
import { createJobSettler } from './job-settler.js';
import { JobWriteBatcher } from './job-write-batcher.js';
import { PrefetchBuffer } from './prefetch-buffer.js';
import { QueueDrain } from './queue-drain.js';
import { type PositionalRunnerOptions, runnerArguments } from './runner-arguments.js';
import { RunnerAttempts } from './runner-attempts.js';
import { RunnerHandlers } from './runner-handlers.js';
import type { BasicJobRunnerOptions, ResolvedRunnerOptions } from './runner-options.js';
import { resolveRunnerOptions } from './runner-options.js';
import { type RunnerStats, RunnerStatsCounter } from './runner-stats.js';
import { Service } from './service.js';
import { UnstartedJobs } from './unstarted-jobs.js';
import { waitOrTimeout } from './wait-or-timeout.js';

/** Options of {@link BasicJobRunner.stop}. */
export interface StopOptions {
  /** Wait for running handlers before aborting them. @default true */
  graceful?: boolean;
  /** How long a graceful stop waits, in ms. @default the runner's `shutdownTimeoutMs` */
  timeoutMs?: number;
}

/**
 * Runs jobs: claims due jobs of the types it has handlers for, in batches into its free
 * slots (at most `maxConcurrent` handlers at once), runs each with an abortable context,
 * heartbeats all its leases in one call every `heartbeatIntervalMs`, and writes each
 * outcome under the job's lease: through the engine for a stateful step (the job and the
 * execution's resume commit together), or through the job store for a plain job. Wakes
 * on `wakeups` and polls every `pollIntervalMs`. Many runners, in one process or many,
 * cooperate through the store alone.
 *
 * Construct with an options object; the positional form
 * `new BasicJobRunner(jobStore, engine, runnerId, options)` of the original API is also
 * accepted, where the second argument must be the engine (an execution store alone cannot
 * resume executions) or `undefined`.
 */
export class BasicJobRunner {
  /** Where this runner emits its `job:*` events. */
  readonly events: EventBus;
  readonly #options: ResolvedRunnerOptions;
  readonly #batcher: JobWriteBatcher;
  /** What every attempt of this runner shares. */
  readonly #executionDeps: JobExecutionDeps;
  /** This runner's handlers and its engine's, by job type. */
  readonly #handlers: RunnerHandlers;
  /** Attempts in flight, and the slots their handlers hold. */
  readonly #attempts = new RunnerAttempts();
  /** Claimed jobs waiting for a free slot (the `prefetch` option). */
  readonly #buffer = new PrefetchBuffer();
  /** Claimed jobs that are not started: given back, refused, cancelled or lost. */
  readonly #unstarted: UnstartedJobs;
  readonly #stats = new RunnerStatsCounter();
  readonly #poll: Service;
  readonly #beat: Service;
  readonly #fence: Service;
  #state: 'idle' | 'running' | 'stopping' = 'idle';
  #stopping: Promise<void> | undefined;
  /** Whether the last short claim left nothing to claim (see `QueueDrain`). */
  readonly #drain: QueueDrain;
  /** Claims into the buffer, keeping count of the room claims in flight take. */
  readonly #claimer: BatchClaimer;
  readonly #onJobs = (): void => {
    this.#drain.woke();
    this.#poll.trigger();
  };
  readonly #onCancel = (jobId: string): void => {
    void this.#attempts.holding(jobId)?.checkCancel();
  };

  constructor(options: BasicJobRunnerOptions);
  constructor(
    jobStore: JobStore,
    engine: JobEngine | undefined,
    runnerId: string,
    options?: PositionalRunnerOptions,
  );
  constructor(
    first: BasicJobRunnerOptions | JobStore,
    engine?: JobEngine,
    runnerId?: string,
    rest: PositionalRunnerOptions = {},
  ) {
    this.#options = resolveRunnerOptions(runnerArguments(first, engine, runnerId, rest));
    const o = this.#options;
    this.#drain = new QueueDrain(o.wakeups !== undefined);
    const claimAgain = () => this.runOnce();
    this.#claimer = new BatchClaimer(o, this.#attempts, this.#buffer, this.#drain, claimAgain);
    this.events = o.events ?? new EventBus({ logger: o.logger });
    this.#handlers = new RunnerHandlers(o.engine);
    this.#batcher = new JobWriteBatcher(o.jobStore, o.logger, o.engine);
    this.#executionDeps = {
      jobStore: o.jobStore,
      engine: o.engine,
      settler: createJobSettler(o.jobStore, o.engine, this.#batcher),
      batcher: this.#batcher,
      events: this.events,
      logger: o.logger.child({ runnerId: o.runnerId }),
      clock: o.clock,
      random: o.random,
      cancelGraceMs: o.cancelGraceMs,
      defaultRetry: o.defaultRetry,
      defaultTimeoutMs: o.defaultTimeoutMs,
      handlerSettled: (execution) => this.#freeSlot(execution),
      outcomeWritten: (execution) => this.#outcomeWritten(execution),
    };
    this.#unstarted = new UnstartedJobs(this.#executionDeps, this.#stats, o.logger);
    this.#poll = new Service({
      name: 'job-runner-poll',
      intervalMs: o.pollIntervalMs,
      // The first claim goes out at once: jobs already due when a runner starts get no
      // wake-up, and a random first delay would leave them waiting up to a poll interval.
      // Runners starting together claim different rows (SKIP LOCKED).
      firstRunJitterMs: 0,
      run: () => this.runOnce(),
      logger: o.logger,
      random: o.random,
      // A started runner keeps its process alive, like a listening server, also while
      // every database connection is down (PostgreSQL restarting).
      keepProcessAlive: true,
    });
    this.#beat = new Service({
      name: 'job-runner-heartbeat',
      intervalMs: o.heartbeatIntervalMs,
      firstRunJitterMs: o.heartbeatIntervalMs,
      run: () => this.heartbeatOnce(),
      logger: o.logger,
      random: () => 1,
    });
    this.#fence = new Service({
      name: 'job-runner-fence',
      intervalMs: Math.max(1, Math.floor(o.heartbeatIntervalMs / 2)),
      run: async () => this.fenceOnce(),
      logger: o.logger,
    });
  }

  /** This runner's id, as written to `job.runnerId`. */
  get runnerId(): string {
    return this.#options.runnerId;
  }

  /**
   * Registers the handler for jobs of `type`: a core `StepHandler`, or a plain
   * `async (input, context) => result` function, with optional per-handler defaults
   * (retry policy, timeout) and hooks. Throws `ValidationError` for a bad type or handler,
   * `ConfigError` naming the field for bad options (see `resolveHandlerOptions`), and
   * `DuplicateError` when `type` already has one. Handlers of the engine's registry
   * are runnable without registering them here; one registered here takes precedence.
   */
  registerHandler<I = unknown, O = unknown>(
    type: string,
    handler: StepHandler<I, O> | JobHandlerFunction<I, O>,
    options: JobHandlerOptions = {},
  ): this {
    this.#handlers.register(type, handler, options);
    if (this.#state === 'running') this.#poll.trigger();
    return this;
  }

  /** The job types this runner claims: its own handlers and the engine's. */
  handlerTypes(): string[] {
    return this.#handlers.types();
  }

  /** Starts polling, heartbeating and listening for wake-ups. Idempotent. */
  async start(): Promise<void> {
    if (this.#stopping !== undefined) await this.#stopping;
    if (this.#state === 'running') return;
    this.#state = 'running';
    const { wakeups, logger } = this.#options;
    wakeups?.on('jobs', this.#onJobs);
    wakeups?.on('cancel', this.#onCancel);
    this.#poll.start();
    this.#beat.start();
    this.#fence.start();
    logger.info({ runnerId: this.runnerId, types: this.handlerTypes() }, 'job runner started');
  }

  /**
   * Stops: no more claims; with `graceful` (the default) waits up to `timeoutMs` for running
   * handlers, then aborts the rest and releases their jobs to `pending` with the attempt
   * refunded (a handler that still ignores its signal after `cancelGraceMs` is left
   * running, its result dropped). Resolves once every outcome is stored. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    if (this.#state !== 'running' && this.#attempts.size === 0) return;
    this.#state = 'stopping';
    this.#stopping = this.#shutdown(options).finally(() => {
      this.#state = 'idle';
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #shutdown({ graceful = true, timeoutMs }: StopOptions): Promise<void> {
    const { wakeups, logger, shutdownTimeoutMs } = this.#options;
    wakeups?.off?.('jobs', this.#onJobs);
    wakeups?.off?.('cancel', this.#onCancel);
    await this.#poll.stop();
    // A claim still in flight (one started alongside the poll loop's, say) may yet bring
    // jobs into the buffer: they are given back below, not started.
    if (this.#claimer.inFlight > 0) await this.#claimer.settled();
    await this.#unstarted.releaseBuffered(this.#buffer.drain());
    if (graceful && this.#attempts.size > 0) {
      await waitOrTimeout(this.whenIdle(), timeoutMs ?? shutdownTimeoutMs);
    }
    const left = [...this.#attempts];
    for (const execution of left) execution.abort('shutdown');
    await Promise.all(left.map((e) => e.recorded));
    await Promise.all([this.#beat.stop(), this.#fence.stop(), this.#batcher.idle()]);
    logger.info({ runnerId: this.runnerId, aborted: left.length }, 'job runner stopped');
  }

  /**
   * Claims due jobs into the free slots (at most `batchSize` per call) and starts their
   * handlers without waiting for them. Returns how many were claimed. What the poll loop
   * calls; tests call it directly.
   */
  async runOnce(): Promise<{ claimed: number }> {
    const { maxConcurrent, prefetch, batchSize } = this.#options;
    const capacity = maxConcurrent + prefetch;
    const free = this.#claimer.room();
    const types = this.handlerTypes();
    if (this.#state === 'stopping' || free <= 0 || types.length === 0) return { claimed: 0 };
    // A runner with a buffer refills it once half drained: big claims, not one per slot.
    if (this.#buffer.size > 0 && free < Math.min(batchSize, capacity) / 2) return { claimed: 0 };
    const limit = Math.min(batchSize, free);
    const claimed = await this.#claimer.claim(types, limit, free - limit);
    await this.#startBuffered();
    if (claimed === limit && free > limit) this.#poll.trigger();
    return { claimed };
  }

  /**
   * Extends the leases of all running and buffered jobs in one store call; aborts handlers
   * whose lease was lost or whose cancellation was requested, and drops buffered jobs whose
   * lease was lost (reported as lost, never started) or whose cancellation was requested
   * (cancelled). Returns the counts. What the heartbeat loop calls; tests call it directly.
   */
  async heartbeatOnce(): Promise<{ extended: number; lost: number; cancelRequested: number }> {
    const held = [...this.#attempts].filter((e) => e.holdsLease);
    const buffered = this.#buffer.leases();
    const leases = [...held.map((e) => e.lease), ...buffered];
    if (leases.length === 0) return { extended: 0, lost: 0, cancelRequested: 0 };
    const sentAt = performance.now();
    const result = await this.#options.jobStore.heartbeatMany({ leases });
    const lost = new Set(result.lost);
    for (const e of held) if (!lost.has(e.job.id)) e.leaseConfirmed(sentAt);
    const byJob = new Map(held.map((e) => [e.job.id, e]));
    for (const id of result.lost) byJob.get(id)?.abort('lease-lost');
    for (const id of result.cancelRequested) byJob.get(id)?.abort('cancel');
    const sentBuffered = new Set(buffered.map((l) => l.jobId));
    const unstarted = this.#buffer.heartbeat(sentBuffered, result, sentAt);
    for (const claim of unstarted.lost) this.#unstarted.lostBuffered(claim);
    for (const job of unstarted.cancelled) this.#unstarted.cancelBuffered(job);
    // Buffered jobs waiting for this confirmation can start now.
    if (buffered.length > 0) void this.#startBuffered();
    return {
      extended: leases.length - result.lost.length,
      lost: result.lost.length,
      cancelRequested: result.cancelRequested.length,
    };
  }

  /**
   * Self-fencing: aborts (as `lease-lost`, writing nothing) every handler whose lease this
   * runner has not managed to extend for `leaseMs - heartbeatIntervalMs`, measured on the
   * process's monotonic clock from when the last successful heartbeat (or the claim) was
   * sent. A runner cut off from the database, or paused, thus stops its handlers before the
   * reaper can hand their jobs to someone else. Returns how many it aborted. What the fence
   * loop calls every `heartbeatIntervalMs / 2`; tests call it directly.
   */
  fenceOnce(now = performance.now()): { aborted: number } {
    const { leaseMs, heartbeatIntervalMs, logger } = this.#options;
    let aborted = 0;
    for (const e of this.#attempts) {
      const silentMs = now - e.leaseConfirmedAt;
      if (!e.holdsLease || silentMs < leaseMs - heartbeatIntervalMs) continue;
      e.abort('lease-lost');
      if (e.abortCause !== 'lease-lost') continue; // its outcome is being written already
      logger.warn(
        { jobId: e.job.id, silentMs: Math.round(silentMs), leaseMs },
        'lease not extended in time; aborting the handler before the job is reassigned',
      );
      aborted++;
    }
    return { aborted };
  }

  /**
   * Resolves when no handler is running and every outcome (and runner-observed event) is
   * stored; at once if so.
   */
  whenIdle(): Promise<void> {
    // Also the attempts' started/timeout/lease-lost rows, so their history is complete.
    return this.#attempts.whenNone().then(() => this.#batcher.idle());
  }

  /** Handlers running now, overdue ones included (outcomes being stored not counted). */
  activeCount(): number {
    return this.#attempts.running;
  }

  /** Jobs this runner completed since it was created. */
  completedCount(): number {
    return this.#stats.snapshot().completed;
  }

  /** Jobs this runner failed for good (no attempt left, or not retryable) since it was created. */
  failedCount(): number {
    return this.#stats.snapshot().failed;
  }

  /** Counters and gauges of this runner; see {@link RunnerStats}. */
  stats(): RunnerStats {
    return {
      ...this.#stats.snapshot(),
      runnerId: this.runnerId,
      running: this.#state === 'running',
      active: this.#attempts.running,
      storing: this.#attempts.storing,
      overdueCount: this.#attempts.overdueCount(),
      maxConcurrent: this.#options.maxConcurrent,
    };
  }

  async #launch(job: Job, claimedAt: number, description?: JobEngineDescription): Promise<void> {
    this.events.emit('job:claimed', { job });
    const handler = this.#handlers.lookup(job.handler);
    if (handler === undefined || this.#state === 'stopping') {
      const why = handler === undefined ? 'no handler for this type' : 'stopping';
      await this.#unstarted.giveBack(job, why);
      return;
    }
    if (job.executionId !== null && this.#options.engine === undefined) {
      await this.#unstarted.refuseWithoutEngine(job);
      return;
    }
    const execution = new JobExecution(job, handler, this.#executionDeps, claimedAt, description);
    this.#attempts.add(execution);
    execution.run().then(
      (end) => this.#finished(execution, end),
      (error: unknown) => {
        execution.log.error({ err: error }, 'job execution crashed');
        this.#finished(execution, 'store-error');
      },
    );
  }

  /**
   * The handler of `execution` settled: its slot takes the next buffered job, or a claim
   * (none while the queue is known drained: the next wake-up or poll claims).
   */
  #freeSlot(execution: JobExecution): void {
    if (!this.#attempts.freeSlot(execution)) return;
    void this.#startBuffered();
    if (!this.#drain.drained) this.#poll.trigger();
  }

  /**
   * A written outcome that takes the attempts waiting below the cap lets buffered jobs
   * start (see `RunnerAttempts.mayStart`); below it, freed slots start them.
   */
  #outcomeWritten(execution: JobExecution): void {
    if (this.#attempts.written(execution) && this.#buffer.size > 0) void this.#startBuffered();
  }

  #finished(execution: JobExecution, end: AttemptEnd): void {
    this.#stats.count(end);
    // An attempt that did not complete may have put its job back (a retry, a release).
    if (end !== 'completed') this.#drain.woke();
    this.#freeSlot(execution);
    this.#attempts.finish(execution);
    if (!this.#drain.drained) this.#poll.trigger();
  }

  /**
   * Starts buffered jobs in the free slots, in claim order, while fewer than
   * `MAX_OUTCOMES_WAITING` attempts wait for their outcome's write; none once stopping (the
   * stop releases the buffer in one go). A job whose lease has gone
   * unconfirmed for `leaseMs - heartbeatIntervalMs` (a claim that waited long for a pooled
   * connection, or heartbeats that did not get through) is not started on a guess: a
   * heartbeat is asked for, and its result starts the job or removes it as lost.
   */
  async #startBuffered(): Promise<void> {
    const { maxConcurrent, leaseMs, heartbeatIntervalMs } = this.#options;
    const maxSilentMs = leaseMs - heartbeatIntervalMs;
    while (
      this.#state !== 'stopping' &&
      this.#buffer.size > 0 &&
      this.#attempts.mayStart(maxConcurrent)
    ) {
      const next = this.#buffer.take(performance.now(), maxSilentMs);
      if (next === undefined) {
        this.#beat.trigger();
        return;
      }
      await this.#launch(next.job, next.confirmedAt, next.description);
    }
  }
}
