import type { Job, Logger } from '@flowmonkey/core';
import type { JobExecutionDeps } from './job-execution.js';
import { releaseClaimed } from './release-claimed.js';
import { type LostClaim, reportLeaseLost } from './report-lease-lost.js';
import type { RunnerStatsCounter } from './runner-stats.js';

/**
 * What a runner does with the jobs it claimed but does not start: it gives back those it
 * has no handler for or claimed while stopping, releases step jobs it has no engine for,
 * releases its prefetched jobs on stop, confirms the cancellation of a buffered job, and
 * reports a buffered job whose lease was lost. A release or cancellation that fails is
 * logged (the reaper takes the job back once its lease lapses).
 */
export class UnstartedJobs {
  readonly #shared: JobExecutionDeps;
  readonly #stats: RunnerStatsCounter;
  readonly #logger: Logger;
  #noEngineLogged = false;

  /**
   * `shared`: what the runner's attempts share (a lost lease is reported and logged as
   * theirs is); `stats`: the runner's counters; `logger`: the runner's logger.
   */
  constructor(shared: JobExecutionDeps, stats: RunnerStatsCounter, logger: Logger) {
    this.#shared = shared;
    this.#stats = stats;
    this.#logger = logger;
  }

  /** Releases a claimed job untouched (attempt refunded), logging `why` as a warning. */
  async giveBack(job: Job, why: string): Promise<void> {
    const logger = this.#logger;
    if ((await releaseClaimed(this.#shared.jobStore, [job], logger)) === 1) {
      logger.warn({ jobId: job.id, handler: job.handler, why }, 'released claimed job');
    }
  }

  /**
   * Releases a step job of an execution untouched (attempt refunded, same `runAt`): without
   * an engine its outcome could not resume the execution, which would wait forever. Logs
   * the misconfiguration as an error once per runner; an engine-equipped runner runs it.
   */
  async refuseWithoutEngine(job: Job): Promise<void> {
    const logger = this.#logger;
    if (!this.#noEngineLogged) {
      this.#noEngineLogged = true;
      logger.error(
        { jobId: job.id, executionId: job.executionId, handler: job.handler },
        'claimed a step job of an execution, but this runner has no engine to resume the execution; releasing such jobs untouched (pass `engine` to the runner)',
      );
    }
    await releaseClaimed(this.#shared.jobStore, [job], logger);
  }

  /** Gives prefetched jobs back (pending again, attempt refunded), in parallel. */
  async releaseBuffered(jobs: readonly Job[]): Promise<void> {
    if (jobs.length === 0) return;
    const logger = this.#logger;
    const released = await releaseClaimed(this.#shared.jobStore, jobs, logger);
    logger.info({ released, failed: jobs.length - released }, 'released prefetched jobs');
  }

  /**
   * Confirms the cancellation requested for a buffered job (never started) and emits
   * `job:cancelled`; a failure is logged as a warning.
   */
  cancelBuffered(job: Job): void {
    const { settler, events } = this.#shared;
    const reason = 'cancellation requested';
    settler.confirmCancel(job, reason).then(
      (stored) => events.emit('job:cancelled', { job: stored, reason }),
      (error: unknown) => this.#logger.warn({ err: error, jobId: job.id }, 'cancel failed'),
    );
  }

  /**
   * A buffered job's lease was lost before its handler started (the reaper reset it while
   * the runner was paused or cut off, say): it is never started, and the loss is reported
   * as for a running attempt (event, history row, `stats().leaseLost`).
   */
  lostBuffered(claim: LostClaim): void {
    this.#stats.count('lease-lost');
    this.#shared.logger.warn(
      { jobId: claim.job.id },
      'lease lost while the job waited in the prefetch buffer; not starting it',
    );
    reportLeaseLost(this.#shared, claim);
  }
}
