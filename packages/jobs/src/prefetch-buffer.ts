import type { Job, LeaseRef } from '@flowmonkey/core';

interface Entry {
  job: Job;
  lease: LeaseRef;
  /** `performance.now()` when the lease was last known held (claim or heartbeat sent). */
  confirmedAt: number;
}

/**
 * The runner's local queue (its `prefetch` option): claimed jobs waiting for a free slot.
 * Every buffered job is `running` under the runner's lease, so the buffer keeps, per job,
 * when its lease was last confirmed: the runner heartbeats buffered leases with the running
 * ones, and a job whose lease could not be confirmed in time is dropped, never started.
 */
export class PrefetchBuffer {
  #entries: Entry[] = [];

  /** Buffered jobs. */
  get size(): number {
    return this.#entries.length;
  }

  /** Adds claimed jobs (in claim order) whose leases were granted at `claimedAt`. */
  push(jobs: readonly Job[], claimedAt: number): void {
    for (const job of jobs) {
      if (job.leaseId === null) continue;
      this.#entries.push({
        job,
        lease: { jobId: job.id, leaseId: job.leaseId },
        confirmedAt: claimedAt,
      });
    }
  }

  /**
   * Takes the next job to start, with the time its lease was last confirmed. Jobs whose
   * lease is older than `maxSilentMs` at `now` are dropped (the reaper may already have
   * handed them to someone else) and returned in `dropped`.
   */
  take(
    now: number,
    maxSilentMs: number,
  ): { next?: { job: Job; confirmedAt: number }; dropped: Job[] } {
    const dropped: Job[] = [];
    for (;;) {
      const entry = this.#entries.shift();
      if (entry === undefined) return { dropped };
      if (now - entry.confirmedAt < maxSilentMs) return { next: entry, dropped };
      dropped.push(entry.job);
    }
  }

  /** The leases of every buffered job, for one `heartbeatMany` with the running ones. */
  leases(): LeaseRef[] {
    return this.#entries.map((e) => e.lease);
  }

  /**
   * Applies a heartbeat sent at `sentAt`: lost leases are dropped, held ones confirmed, and
   * jobs whose cancellation was requested are removed and returned (to be confirmed).
   */
  heartbeat(
    result: { lost: readonly string[]; cancelRequested: readonly string[] },
    sentAt: number,
  ): Job[] {
    const lost = new Set(result.lost);
    const cancel = new Set(result.cancelRequested);
    const cancelled: Job[] = [];
    this.#entries = this.#entries.filter((e) => {
      if (lost.has(e.job.id)) return false;
      if (cancel.has(e.job.id)) {
        cancelled.push(e.job);
        return false;
      }
      e.confirmedAt = sentAt;
      return true;
    });
    return cancelled;
  }

  /** Empties the buffer, returning its jobs. */
  drain(): Job[] {
    const jobs = this.#entries.map((e) => e.job);
    this.#entries = [];
    return jobs;
  }
}
