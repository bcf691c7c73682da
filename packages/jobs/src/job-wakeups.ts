/**
 * A source of wake-ups for a {@link BasicJobRunner}, so it reacts to new work and to
 * cancellations without waiting for its next poll. Polling stays on as the fallback, so
 * a missed wake-up only costs latency. The Postgres LISTEN client satisfies this shape,
 * and so does a Node `EventEmitter` emitting `'jobs'` and `'cancel'`.
 *
 * - `'jobs'`: due jobs may be waiting (a job was created or became due). The payload, if
 *   any, is ignored; the runner claims what it serves.
 * - `'cancel'`: cancellation of the job with this id was requested. If this runner holds
 *   it, it checks with the store (a heartbeat) and aborts the handler when confirmed.
 */
export interface JobWakeups {
  on(event: 'jobs', listener: (payload?: unknown) => void): unknown;
  on(event: 'cancel', listener: (jobId: string) => void): unknown;
  /** Removes a listener; called by `stop()` when present. */
  off?(event: 'jobs', listener: (payload?: unknown) => void): unknown;
  off?(event: 'cancel', listener: (jobId: string) => void): unknown;
}
