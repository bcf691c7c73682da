import type { ErrorInfo } from '@flowmonkey/core';
import { LeaseLostError } from '@flowmonkey/core';
import type { JobSettler } from './job-settler.js';
import { createJobSettler } from './job-settler.js';
import type { JobReaperOptions, ResolvedReaperOptions } from './reaper-options.js';
import { resolveReaperOptions } from './reaper-options.js';
import { Service } from './service.js';

/** What one sweep of {@link JobReaper.runOnce} did. */
export interface ReapCounts {
  /** Stalled jobs put back to `pending` (attempts remained). */
  reset: number;
  /** Stalled jobs failed for good (no attempt left); their executions resumed with the failure. */
  failed: number;
  /** Stalled jobs whose cancellation was requested, now `cancelled`. */
  cancelled: number;
  /**
   * Jobs that moved on before the reaper's write (completed, taken over, reaped by another
   * reaper, or heartbeated again: no longer stalled).
   */
  lost: number;
  /**
   * Stalled jobs the reaper could not reset because of an unexpected error (logged with
   * the job id); they stay stalled for the next sweep, and the sweep goes on with the rest.
   */
  errors: number;
  /**
   * Stalled step jobs of an execution that would end for good (no attempt left, or
   * cancellation requested) but that this reaper, having no engine, cannot settle without
   * leaving the execution waiting forever: left stalled, logged as an error, for a reaper
   * with an engine.
   */
  skipped: number;
}

/**
 * Most jobs one `findStalled` call asks for: a page grows by one for each job the sweep
 * left stalled (an error), so those never crowd out the jobs behind them.
 */
const MAX_PAGE = 10_000;

/** The error recorded on a job that stalled. */
function stalledError(thresholdMs: number): ErrorInfo {
  return {
    code: 'JOB_STALLED',
    message: `no heartbeat for more than ${thresholdMs} ms; the runner is presumed dead`,
    details: { stalledThresholdMs: thresholdMs },
  };
}

/**
 * Rescues jobs whose runner died: every `checkIntervalMs` it pages through running jobs
 * whose heartbeat is older than `stalledThresholdMs` (in the store's time) and resets each
 * under the lease it saw: back to `pending` while attempts remain, otherwise `failed` with
 * the parent execution resumed with the failure through the engine (without an engine, a
 * step job of an execution that would end for good is left stalled: `skipped`). A job
 * that completed or was taken over in between is left alone (`lost`), so any number of
 * reapers may run at once.
 */
export class JobReaper {
  readonly #options: ResolvedReaperOptions;
  readonly #settler: JobSettler;
  readonly #service: Service;

  constructor(options: JobReaperOptions) {
    this.#options = resolveReaperOptions(options);
    this.#settler = createJobSettler(this.#options.jobStore, this.#options.engine);
    this.#service = new Service({
      name: 'job-reaper',
      intervalMs: this.#options.checkIntervalMs,
      run: () => this.runOnce(),
      logger: this.#options.logger,
    });
  }

  /** Starts sweeping: a first sweep after a random delay up to `checkIntervalMs`, then every interval. */
  start(): void {
    this.#service.start();
  }

  /** Stops sweeping and waits for a sweep in flight. Idempotent; fine before `start()`. */
  stop(): Promise<void> {
    return this.#service.stop();
  }

  /** Runs one sweep now, paging until a short page, and returns what it did. */
  async runOnce(): Promise<ReapCounts> {
    const { jobStore, batchSize, stalledThresholdMs, logger } = this.#options;
    const counts: ReapCounts = {
      reset: 0,
      failed: 0,
      cancelled: 0,
      lost: 0,
      errors: 0,
      skipped: 0,
    };
    const error = stalledError(stalledThresholdMs);
    const seen = new Set<string>();
    let left = 0;
    for (;;) {
      // The reset re-checks staleness (in the store's time), so a runner that heartbeats
      // between the scan and the reset keeps its job.
      const stall = { stalledThresholdMs };
      // Jobs left stalled by this sweep (errors) come first again (oldest first), so the
      // page grows by their number to reach the jobs behind them.
      const limit = Math.min(batchSize + left, MAX_PAGE);
      const page = await jobStore.findStalled({ ...stall, limit });
      let fresh = 0;
      for (const job of page) {
        const key = `${job.id}/${job.leaseId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        fresh++;
        if (!(await this.#reap(job, error, stall, counts))) left++;
      }
      if (page.length < limit || fresh === 0) break;
    }
    if (Object.values(counts).some((n) => n > 0)) {
      logger.info({ ...counts }, 'reaped stalled jobs');
    }
    return counts;
  }

  /** Reaps one job; returns false when it was left stalled (an error, or skipped). */
  async #reap(
    job: Parameters<JobSettler['resetStalled']>[0],
    error: ErrorInfo,
    stall: { stalledThresholdMs: number; now?: number },
    counts: ReapCounts,
  ): Promise<boolean> {
    const endsForGood = job.cancelRequested || job.attempts >= job.maxAttempts;
    if (job.executionId !== null && this.#options.engine === undefined && endsForGood) {
      counts.skipped++;
      this.#options.logger.error(
        { jobId: job.id, executionId: job.executionId },
        'stalled step job would end for good, but this reaper has no engine to resume its execution; left for a reaper with an engine',
      );
      return false;
    }
    try {
      const after = await this.#settler.resetStalled(job, error, stall);
      if (after.status === 'pending') counts.reset++;
      else if (after.status === 'cancelled') counts.cancelled++;
      else counts.failed++;
      this.#options.logger.warn(
        { jobId: job.id, runnerId: job.runnerId, status: after.status },
        'stalled job reaped',
      );
    } catch (e) {
      if (e instanceof LeaseLostError) {
        counts.lost++;
        return true;
      }
      // One bad job must not stop the sweep: log it, count it, go on with the rest.
      counts.errors++;
      this.#options.logger.error(
        { err: e, jobId: job.id, runnerId: job.runnerId },
        'could not reap stalled job; left for the next sweep',
      );
      return false;
    }
    return true;
  }
}
