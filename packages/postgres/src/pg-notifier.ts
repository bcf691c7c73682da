import { type Logger, noopLogger } from '@flowmonkey/core';
import type pg from 'pg';
import { cancelChannel, jobsChannel } from './channels.js';

/** Options of {@link PgNotifier}. */
export interface PgNotifierOptions {
  /** Schema whose channels are notified. @default 'flowmonkey' */
  schema?: string;
  /** `false` sends nothing (poll-only mode, e.g. behind pgbouncer in transaction mode). @default true */
  enabled?: boolean;
  /** Where failed notifications are reported (they never fail the caller). @default no logging */
  logger?: Logger;
}

/**
 * Sends the application's wake-ups: `<schema>_jobs` when due jobs were committed and
 * `<schema>_cancel` (payload: job id) when cancellation of a running job was requested.
 * Job wake-ups are coalesced: at most one NOTIFY is in flight per notifier, and any number
 * of requests made meanwhile are answered by a single follow-up, so a burst of enqueues
 * does not serialise on NOTIFY's commit-time lock. Sending is fire-and-forget: the
 * listeners' poll fallback covers a lost wake-up.
 */
export class PgNotifier {
  readonly #pool: pg.Pool;
  readonly #jobsChannel: string;
  readonly #cancelChannel: string;
  readonly #enabled: boolean;
  readonly #logger: Logger;
  #inFlight: Promise<void> | null = null;
  #again = false;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(pool: pg.Pool, options: PgNotifierOptions = {}) {
    const schema = options.schema ?? 'flowmonkey';
    this.#pool = pool;
    this.#jobsChannel = jobsChannel(schema);
    this.#cancelChannel = cancelChannel(schema);
    this.#enabled = options.enabled ?? true;
    this.#logger = options.logger ?? noopLogger;
  }

  /** Announces that due jobs were committed; coalesced with any wake-up already in flight. */
  jobsDue(): void {
    if (!this.#enabled) return;
    if (this.#inFlight !== null) {
      this.#again = true;
      return;
    }
    this.#inFlight = this.#sendJobs();
  }

  /**
   * The jobs channel for a store that sends its wake-up inside its own statement
   * (`pg_notify` runs with the INSERT and is delivered at its commit, saving a round trip),
   * or `null` when notifications are disabled (poll-only mode).
   */
  inlineJobsChannel(): string | null {
    return this.#enabled ? this.#jobsChannel : null;
  }

  /** Announces that cancellation of running job `jobId` was requested. */
  cancelRequested(jobId: string): void {
    if (!this.#enabled) return;
    this.#track(this.#send(this.#cancelChannel, jobId));
  }

  /** Resolves once every notification requested so far has been sent (or has failed). */
  async flush(): Promise<void> {
    while (this.#inFlight !== null || this.#pending.size > 0) {
      await Promise.all([this.#inFlight, ...this.#pending]);
    }
  }

  async #sendJobs(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#send(this.#jobsChannel, '');
      } while (this.#again);
    } finally {
      this.#inFlight = null;
    }
  }

  async #send(channel: string, payload: string): Promise<void> {
    try {
      await this.#pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    } catch (error) {
      this.#logger.warn({ err: error, channel }, 'NOTIFY failed; listeners fall back to polling');
    }
  }

  #track(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }
}
