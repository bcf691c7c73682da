import { assertJsonPayload } from '../assert-json-payload.js';
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Execution } from '../execution.js';
import { TERMINAL_EXECUTION_STATUSES } from '../execution.js';
import { checkFlowHandlers } from '../flow/check-flow-handlers.js';
import { FlowRegistry } from '../flow/flow-registry.js';
import type { Flow } from '../flow.js';
import type { StepHandler } from '../handler.js';
import type { HandlerRegistry } from '../handler-registry.js';
import { uuidv7 } from '../ids.js';
import type { Job, LeaseRef } from '../job.js';
import type { Logger } from '../logger.js';
import type { ErrorInfo } from '../result.js';
import type { Stores } from '../stores/stores.js';
import { BatchSettler } from './batch-settler.js';
import { describeJobs, describeWith } from './describe-jobs.js';
import { recoverStale, wakeDue } from './engine-sweeps.js';
import type {
  CompleteJobItem,
  CompleteJobsOptions,
  EngineOptions,
  JobBatchSettlement,
  JobDescription,
  JobSettlement,
  ResumeParams,
  ResumeResult,
  StartOptions,
} from './engine-types.js';
import { resolveEngineOptions } from './resolve-engine-options.js';
import { failureOf, Resumer } from './resumer.js';
import { retryOnConflict } from './retry-on-conflict.js';
import { type EngineContext, StepRunner } from './step-runner.js';
import { cancelExecution } from './transitions.js';

/**
 * Runs flows. `start` creates an execution and runs its inline steps until one waits or the
 * flow ends; a stateful step creates its job and parks the execution in one unit of work
 * (`stores.parkOnNewJob` when the stores have it, else `stores.transaction`), and the
 * job's settlement (`completeJob`, `failJob`, ...) resumes it
 * in the same transaction as the job write. Every execution write is optimistic
 * (`expectedVersion`), so concurrent resumes are detected: exactly one applies.
 *
 * An inline step costs one write, made after its handler returns (visit counted, output
 * stored, next step chosen); when the next step is stateful and can begin, that write is
 * the next step's park (job created and execution parked in one unit of work), so a
 * failure of it loses the inline outcome too and recovery runs the inline step again (the
 * batched layers of `completeJobs` still write the two in turn). If the write loses a race
 * (the execution was cancelled or advanced meanwhile), `run` stops and returns the
 * execution as stored: whoever won continues it, and nothing is overwritten. A step that
 * fails into `onFailure` leaves the context as it was; the branch finds the error in
 * `execution.history`.
 *
 * Errors after a commit: a job settlement (`completeJob`, `failJob`, `confirmJobCancel`,
 * `resetStalledJob`) or a `resume` rejects only when its own unit of work was not written.
 * Once it committed, it resolves even if the inline steps that follow fail: a handler that
 * throws is already a step failure (the step's `onFailure`, or the execution fails); any
 * other error there (a store outage while writing the next step, a flow or handler this
 * process does not know) is logged, and the execution stays `running` where its last
 * committed write left it, for `recoverStale()` to run again. A caller (e.g. a job runner)
 * can thus trust a resolved settlement: the job is stored as settled. `start` and `run`
 * still reject on such errors.
 *
 * Payload size: the context holds every step's output, so besides each output, the engine
 * checks the whole would-be context against `maxPayloadBytes` before writing it. A success
 * that would make it larger becomes a failure of that step (`VALIDATION_ERROR`, field
 * `context.<outputKey>`): it takes the step's `onFailure` or fails the execution. For a
 * stateful step the job still completes with its result; only the execution takes the
 * failure path. A success the store itself refuses with `ValidationError` (e.g. a store
 * limit below the engine's) fails an inline step the same way.
 *
 * Timed waits (`Result.wait({ until })`) are durable sleeps: `wakeDue()` is the sweep that
 * resumes them once `wakeAt` is due, into the step's `onSuccess` transition with output
 * `null` (the step is not run again), as River and Temporal sleeps continue with the next
 * step. Call it periodically (a scheduler or a timer in your process).
 *
 * Crash recovery: a process that dies after a commit but before it ran the following inline
 * steps leaves the execution `running` with no one advancing it. `recoverStale()` finds
 * executions `running` and untouched for longer than `olderThanMs` and runs them again
 * (handlers are at-least-once: the interrupted inline step may run twice; a stateful step's
 * job is never created twice thanks to its idempotency key). Call it periodically too.
 * The engine starts no timers of its own: both sweeps run only when called.
 */
export class Engine {
  /** The handlers steps run with (shared with a job runner when passed in). */
  readonly handlers: HandlerRegistry;
  /** Lifecycle events of executions (and of jobs this engine creates). */
  readonly events: EventBus;
  readonly #stores: Stores;
  readonly #flows = new FlowRegistry();
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxPayloadBytes: number;
  readonly #runner: StepRunner;
  readonly #resumer: Resumer;
  readonly #batch: BatchSettler;
  readonly #ctx: EngineContext;

  /**
   * Checks `options` (see `resolveEngineOptions`): throws `ConfigError` naming the field for
   * a missing options object or `stores`, an unknown option key, stores without
   * `executions`/`jobs`/`transaction`, a clock without `now()`, `handlers` that is neither
   * an array nor a `HandlerRegistry`, `flows` that is not an array, and `maxSteps` or
   * `maxPayloadBytes` that are not positive integers. Registering the flows may throw
   * `FlowDefinitionError` or `DuplicateError` (see `registerFlow`).
   */
  constructor(options: EngineOptions) {
    const resolved = resolveEngineOptions(options);
    const { maxSteps } = resolved;
    this.#maxPayloadBytes = resolved.maxPayloadBytes;
    this.#stores = resolved.stores;
    this.#clock = resolved.clock;
    this.#log = resolved.logger;
    this.events = resolved.events;
    this.handlers = resolved.handlers;
    for (const flow of resolved.flows) this.registerFlow(flow);
    const ctx = {
      stores: this.#stores,
      flows: this.#flows,
      handlers: this.handlers,
      clock: this.#clock,
      events: this.events,
      log: this.#log,
      maxSteps,
      maxPayloadBytes: this.#maxPayloadBytes,
    };
    this.#ctx = ctx;
    this.#runner = new StepRunner(ctx);
    this.#resumer = new Resumer(ctx, this.#runner);
    this.#batch = new BatchSettler(ctx, this.#runner, (item) => this.completeJob(item));
  }

  /**
   * Registers a flow (from `defineFlow`). Throws `FlowDefinitionError` naming the step and
   * field `type` when a step's handler is not registered, and `DuplicateError` when another
   * flow has the same id and version.
   */
  registerFlow(flow: Flow): void {
    checkFlowHandlers(flow, this.handlers);
    this.#flows.register(flow);
  }

  /** Registers a handler; `DuplicateError` when its type is taken. */
  registerHandler(handler: StepHandler): void {
    this.handlers.register(handler);
  }

  /** The flow at `version` (default: the highest registered). Throws `NotFoundError`. */
  getFlow(flowId: string, version?: number): Flow {
    return this.#flows.get(flowId, version);
  }

  /**
   * Creates an execution of `flowId` with context `{ input }` and runs its inline steps
   * until one waits or the flow ends; returns the execution at that point. With an
   * `idempotencyKey` already used for this flow, returns that first execution as stored,
   * without running anything. Throws `ValidationError` (field `input`) for input that is not
   * JSON or is larger than `maxPayloadBytes`, and `NotFoundError` for an unknown flow.
   */
  async start(flowId: string, input: unknown, options: StartOptions = {}): Promise<Execution> {
    const flow = this.getFlow(flowId, options.version);
    assertJsonPayload(input, 'input', { maxBytes: this.#maxPayloadBytes });
    const now = this.#clock.now();
    const value = input === undefined ? null : input;
    const { execution, created } = await this.#stores.executions.create({
      id: uuidv7(now),
      flowId: flow.id,
      flowVersion: flow.version,
      status: 'running',
      currentStepId: flow.initialStepId,
      input: value,
      context: { input: value },
      output: null,
      error: null,
      history: [],
      stepCount: 0,
      waitingOn: null,
      wakeAt: null,
      idempotencyKey: options.idempotencyKey ?? null,
      tenantId: options.tenantId ?? null,
      parentExecutionId: options.parentExecutionId ?? null,
      version: 0,
      createdAt: now,
      updatedAt: now,
    });
    if (!created) return execution;
    this.events.emit('execution:started', { execution });
    return this.#runner.advance(execution);
  }

  /**
   * Runs the inline steps of a `pending` or `running` execution until one waits or the flow
   * ends. A waiting or finished execution is returned unchanged. Throws `NotFoundError`.
   */
  async run(executionId: string): Promise<Execution> {
    return this.#runner.advance(await this.#require(executionId));
  }

  /** Returns the execution, or `undefined`. */
  get(executionId: string): Promise<Execution | undefined> {
    return this.#stores.executions.get(executionId);
  }

  /**
   * Ends the wait of an execution parked in `stepId` (and on `jobId`, when given) with
   * `outcome`, then runs the inline steps that follow. Idempotent: when the execution no
   * longer waits there (already resumed, cancelled, finished) nothing changes and the result
   * says `resumed: false` with a reason. Conflicting writers are retried, so of two racing
   * resumes exactly one applies. Throws `NotFoundError` for an unknown execution.
   */
  async resume(executionId: string, params: ResumeParams): Promise<ResumeResult> {
    return this.#resumer.resume(executionId, params);
  }

  /**
   * Cancels an execution that has not ended, together with its open jobs (a pending job is
   * cancelled at once; a running one is asked to stop), in one unit of work; aborts its
   * inline handler if one runs in this process; emits `execution:cancelled`. A finished
   * execution is returned unchanged. Throws `NotFoundError`.
   */
  async cancel(executionId: string, reason = 'cancelled'): Promise<Execution> {
    const cancelled = await retryOnConflict(async () => {
      const execution = await this.#require(executionId);
      if (TERMINAL_EXECUTION_STATUSES.includes(execution.status)) return undefined;
      const next = cancelExecution(execution, reason, this.#clock.now());
      return this.#stores.transaction(async (tx) => {
        const stored = await tx.executions.update({
          execution: next,
          expectedVersion: execution.version,
        });
        for (const job of await tx.jobs.getByExecution(executionId)) {
          if (job.status === 'pending' || job.status === 'running') {
            await tx.jobs.cancel({ jobId: job.id, reason });
          }
        }
        return stored;
      });
    });
    if (cancelled === undefined) return this.#require(executionId);
    this.#runner.abort(executionId, reason);
    this.events.emit('execution:cancelled', { execution: cancelled, reason });
    return cancelled;
  }

  /**
   * The sweep for timed waits: resumes up to `limit` (default 100) waiting executions whose
   * `wakeAt` is due (by the store's clock, or `now` when given) into their step's
   * `onSuccess` transition with output `null`, running the inline steps that follow.
   * Returns how many it resumed. One execution that fails to resume is logged and skipped.
   */
  wakeDue(options: { limit?: number; now?: number } = {}): Promise<number> {
    return wakeDue(this.#ctx, this.#resumer, options);
  }

  /**
   * Runs again up to `limit` (default 100) executions left `running` and not updated for
   * `olderThanMs` (by the engine's clock, or `now`), e.g. after a crash between a commit and
   * the next inline step. It pages through all `running` executions (normally few: they are
   * only running between two writes), so it suits a sweep every minute or so. Returns how
   * many it ran; one that fails to run is logged and skipped.
   */
  recoverStale(options: { olderThanMs: number; limit?: number; now?: number }): Promise<number> {
    return recoverStale(this.#ctx, this.#runner, options);
  }

  /**
   * Completes a running job (lease-fenced) and resumes its parent execution with the result,
   * in one transaction; then runs the inline steps that follow. Throws `LeaseLostError` when
   * the lease is no longer held (nothing changes).
   */
  completeJob(p: LeaseRef & { result: unknown; now?: number }): Promise<JobSettlement> {
    return this.#resumer.settle(
      (tx) => tx.jobs.complete(p),
      (job) => (job.status === 'completed' ? { kind: 'success', output: job.result } : undefined),
    );
  }

  /**
   * Records a failed attempt (lease-fenced). When the job goes back to `pending` for a retry
   * (`retryAt`, or `retryDelayMs` from the store's now, given and attempts left) the parent
   * keeps waiting; when it became `failed`, the parent resumes with the failure (its step's
   * `onFailure`), in the same transaction.
   */
  failJob(
    p: LeaseRef & {
      error: ErrorInfo;
      retryAt?: number | null;
      retryDelayMs?: number | null;
      now?: number;
    },
  ): Promise<JobSettlement> {
    return this.#resumer.settle((tx) => tx.jobs.fail(p), failureOf);
  }

  /**
   * A runner confirms it stopped a job whose cancellation was requested (lease-fenced). The
   * parent takes its failure path with a `CANCELLED` error, unless the execution itself was
   * cancelled (then it is left as it is).
   */
  confirmJobCancel(p: LeaseRef & { reason?: string; now?: number }): Promise<JobSettlement> {
    return this.#resumer.settle((tx) => tx.jobs.confirmCancel(p), failureOf);
  }

  /**
   * The reaper's reset of a stalled job (lease-fenced): the job goes back to `pending` while
   * attempts remain (the parent keeps waiting), else it is `failed` (or `cancelled`) and the
   * parent resumes with that failure, in the same transaction. With `stalledThresholdMs` a
   * job whose heartbeat is no longer stale throws `LeaseLostError` (see `JobStore.resetStalled`).
   */
  resetStalledJob(
    p: LeaseRef & { error?: ErrorInfo; stalledThresholdMs?: number; now?: number },
  ): Promise<JobSettlement> {
    return this.#resumer.settle((tx) => tx.jobs.resetStalled(p), failureOf);
  }

  /**
   * What a runner needs to call a stateful step's handler: its execution, step and flow.
   * `undefined` for a plain job (no execution) or when the execution is gone. Throws
   * `NotFoundError` when this engine does not know the flow or step (register the flows in
   * every process that runs their jobs).
   */
  async describeJob(job: Job): Promise<JobDescription | undefined> {
    if (job.executionId === null || job.stepId === null) return undefined;
    const execution = await this.#stores.executions.get(job.executionId);
    return execution === undefined ? undefined : describeWith(this.#ctx, job, execution);
  }

  /**
   * `describeJob` for many jobs (e.g. one claimed batch) with one `executions.getMany`
   * (one `get` per execution on a store without it). Keyed by job id. Absent from the map:
   * plain jobs, jobs whose execution is gone, and (unlike `describeJob`, which throws
   * `NotFoundError`) jobs whose flow or step this engine does not know: that error is
   * logged (`warn`) instead, so the rest of the batch is still described. A caller that
   * must tell "gone" from "unknown flow" calls `describeJob` for such a job.
   */
  describeJobs(jobs: readonly Job[]): Promise<Map<string, JobDescription>> {
    return describeJobs(this.#ctx, jobs);
  }

  /**
   * Completes many running jobs, each as `completeJob` would (lease-fenced; the parent
   * execution resumed with the result when it still waits on that job), in ONE unit of
   * work: `jobs.completeMany` (with `options.events` appended first; the completed jobs
   * read back whole unless every item carries its `job`, see {@link CompleteJobItem}), one
   * `executions.getMany` of the parents (skipped for those in `options.executions`) and
   * one `executions.updateMany`. A parent another
   * writer changed between the read and the write is re-read and decided again inside the
   * transaction (a few rounds), so no other item's work is lost. After the commit the
   * resumed executions run their following inline steps together, layer by layer: the
   * inline results of a layer written with one `updateMany`, its stateful steps parked with
   * their new jobs in one transaction (see `StepBatch.advanceMany`).
   *
   * When every item carries its `job`, `options.executions` holds every parent and the
   * stores have `completeAndResumeMany`, the parents are decided on those copies first and
   * the completions and resumes go to the store in one write, all or nothing (one
   * statement on PostgreSQL instead of four round trips); a lost lease or a parent that
   * moved on makes that write undo itself, and the batch is then settled in the
   * transaction above, where each item is decided on its own.
   *
   * Returns one {@link JobBatchSettlement} per item, in input order: `ok: true` with the
   * settlement, or `ok: false` with a `LeaseLostError` for an item whose lease was lost
   * (nothing written for it; the others are). When the unit of work as a whole fails with
   * a `FlowMonkeyError` (a result the store refuses, a flow this process does not know,
   * conflicts that outlast the rounds), nothing of it is written and the items are settled
   * one by one with `completeJob`, so only the items at fault come back `ok: false` with
   * that error. Rejects for a bad `options.events` entry or an item's `job` that is not
   * its job (`ValidationError`, nothing written) and with any other error of the unit of
   * work, unchanged: the store unreachable (nothing written), or the connection lost after
   * COMMIT was sent, when the batch may have committed (then its jobs are completed and
   * their executions resumed, waiting for `recoverStale` to run their inline steps), so a
   * caller must not simply try the items again. Errors in the inline steps after the
   * commit behave as for `completeJob`: logged, the execution left `running` for
   * `recoverStale`, the settlement still `ok`.
   * Stores without the batch methods work too, one call per item inside the transaction.
   */
  completeJobs(
    items: readonly CompleteJobItem[],
    options: CompleteJobsOptions = {},
  ): Promise<JobBatchSettlement[]> {
    return this.#batch.completeJobs(items, options);
  }

  async #require(executionId: string): Promise<Execution> {
    const execution = await this.#stores.executions.get(executionId);
    if (execution === undefined) throw new NotFoundError('execution', executionId);
    return execution;
  }
}
