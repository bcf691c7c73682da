import type { JobStore } from '@flowmonkey/core';
import { WORK_JOB } from './chaos-worker.js';

/** Settings of a {@link SteadyProducer}. */
export interface SteadyProducerOptions {
  /** Where the jobs go. */
  jobs: Pick<JobStore, 'createMany'>;
  /** Jobs enqueued per second. */
  ratePerS: number;
  /** How often a batch is enqueued, in ms. @default 100 */
  tickMs?: number;
  /** Range of each job's `workMs` (uniform). @default [1, 5] */
  workMs?: [number, number];
}

/**
 * Enqueues plain `chaos.work` jobs at a steady rate: every tick it creates, in one
 * `createMany`, as many jobs as bring the total to `ratePerS` × elapsed time, so a slow
 * insert is made up at the next tick instead of lowering the rate. Keeps every job id.
 */
export class SteadyProducer {
  /** Ids of every job enqueued so far, in order. */
  readonly jobIds: string[] = [];
  /** The slowest `createMany` so far, in ms. */
  slowestInsertMs = 0;
  readonly #o: Required<SteadyProducerOptions>;
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(options: SteadyProducerOptions) {
    this.#o = { tickMs: 100, workMs: [1, 5], ...options };
  }

  /** Starts enqueuing (a no-op when started already). */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops enqueuing and waits for the insert in flight; rejects if an insert failed. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    const started = performance.now();
    const [min, max] = this.#o.workMs;
    while (!this.#stopping) {
      const due = Math.floor(((performance.now() - started) / 1000) * this.#o.ratePerS);
      const count = due - this.jobIds.length;
      if (count > 0) {
        const batch = Array.from({ length: count }, () => ({
          handler: WORK_JOB,
          input: { workMs: Math.round(min + Math.random() * (max - min)) },
          maxAttempts: 25,
        }));
        const sent = performance.now();
        const jobs = await this.#o.jobs.createMany(batch);
        this.slowestInsertMs = Math.max(this.slowestInsertMs, performance.now() - sent);
        this.jobIds.push(...jobs.map((j) => j.id));
      }
      await new Promise((resolve) => setTimeout(resolve, this.#o.tickMs));
    }
  }
}
