import type { Job, LeaseRef } from '@flowmonkey/core';
import type { JobEngineDescription } from './job-engine.js';
import type { LostClaim } from './report-lease-lost.js';

interface Entry {
  job: Job;
  lease: LeaseRef;
  /** `performance.now()` when the lease was last known held (claim or heartbeat sent). */
  confirmedAt: number;
  /** A step job's execution and step, described with its claimed batch. */
  description: JobEngineDescription | undefined;
}

/** A buffered job on its way to a slot. */
export type BufferedJob = Pick<Entry, 'job' | 'confirmedAt' | 'description'>;

/**
 * The runner's local queue (its `prefetch` option): claimed jobs waiting for a free slot.
 * Every buffered job is `running` under the runner's lease, so the buffer keeps, per job,
 * when its lease was last confirmed: the runner heartbeats buffered leases with the running
 * ones. A job whose lease has gone unconfirmed too long is not started until a heartbeat
 * confirms it or reports it lost (it is then removed, and the runner reports the loss as
 * for a running job): only the database knows whether the lease still holds, and a job
 * dropped on a guess would sit `running` until the reaper.
 */
export class PrefetchBuffer {
  #entries: Entry[] = [];

  /** Buffered jobs. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Adds claimed jobs (in claim order) whose leases were granted at `claimedAt`, with the
   * descriptions of their step jobs (by job id) when the batch was described.
   */
  push(
    jobs: readonly Job[],
    claimedAt: number,
    descriptions?: ReadonlyMap<string, JobEngineDescription>,
  ): void {
    for (const job of jobs) {
      if (job.leaseId === null) continue;
      this.#entries.push({
        job,
        lease: { jobId: job.id, leaseId: job.leaseId },
        confirmedAt: claimedAt,
        description: descriptions?.get(job.id),
      });
    }
  }

  /**
   * Takes the next job to start, in claim order, with the time its lease was last
   * confirmed; `undefined` when the buffer is empty or when the next job's lease was last
   * confirmed `maxSilentMs` or more before `now` (it stays first in line until a
   * heartbeat confirms its lease or reports it lost).
   */
  take(now: number, maxSilentMs: number): BufferedJob | undefined {
    const head = this.#entries[0];
    if (head === undefined || now - head.confirmedAt >= maxSilentMs) return undefined;
    this.#entries.shift();
    return head;
  }

  /** The leases of every buffered job, for one `heartbeatMany` with the running ones. */
  leases(): LeaseRef[] {
    return this.#entries.map((e) => e.lease);
  }

  /**
   * Applies a heartbeat sent at `sentAt` for `sent` (the leases it carried): held leases are
   * confirmed; jobs whose lease was lost, and jobs whose cancellation was requested, are
   * removed and returned (to be reported lost, or confirmed cancelled), each once. Jobs
   * claimed after the heartbeat was built are left as they are.
   */
  heartbeat(
    sent: ReadonlySet<string>,
    result: { lost: readonly string[]; cancelRequested: readonly string[] },
    sentAt: number,
  ): { lost: LostClaim[]; cancelled: Job[] } {
    const lostIds = new Set(result.lost);
    const cancel = new Set(result.cancelRequested);
    const lost: LostClaim[] = [];
    const cancelled: Job[] = [];
    this.#entries = this.#entries.filter((e) => {
      if (!sent.has(e.job.id)) return true;
      if (lostIds.has(e.job.id)) {
        lost.push({ job: e.job, lease: e.lease });
        return false;
      }
      if (cancel.has(e.job.id)) {
        cancelled.push(e.job);
        return false;
      }
      if (sentAt > e.confirmedAt) e.confirmedAt = sentAt;
      return true;
    });
    return { lost, cancelled };
  }

  /** Empties the buffer, returning its jobs. */
  drain(): Job[] {
    const jobs = this.#entries.map((e) => e.job);
    this.#entries = [];
    return jobs;
  }
}
