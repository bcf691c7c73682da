/**
 * What a runner knows of its queue between wake-ups. A claim that comes back short (fewer
 * jobs than it asked for) found no other due job, so until a wake-up says jobs were
 * written (a NOTIFY), or this runner itself put one back (a retry), a freed slot need not
 * claim again; and until a claim comes back full no second claim need run beside the
 * next one. At steady state, with jobs arriving a few at a time, those claims come back
 * empty. The poll interval still
 * claims whatever this says, which also finds jobs that become due by time. Only trusted
 * when the runner has a source of wake-ups; without one it never reports a drained queue.
 */
export class QueueDrain {
  readonly #trusted: boolean;
  /** Wake-ups so far. */
  #wakes = 0;
  /** The wake-up count a short claim started at, or -1 after a full one. */
  #drainedAt = -1;

  constructor(trusted: boolean) {
    this.#trusted = trusted;
  }

  /** Jobs may be due: a wake-up arrived, or this runner put a job back. */
  woke(): void {
    this.#wakes++;
  }

  /** A claim starts; pass what this returns to {@link claimed} when it comes back. */
  claiming(): number {
    return this.#wakes;
  }

  /** The claim started at `token` asked for `limit` jobs and got `got`. */
  claimed(token: number, limit: number, got: number): void {
    this.#drainedAt = got < limit ? Math.max(this.#drainedAt, token) : -1;
  }

  /** True when a short claim has seen every wake-up so far. */
  get drained(): boolean {
    return this.#trusted && this.#drainedAt === this.#wakes;
  }

  /**
   * True until a claim comes back short, and again after one comes back full: a backlog
   * may be waiting, so a second claim beside the next one would find jobs too.
   */
  get backlog(): boolean {
    return this.#drainedAt === -1;
  }
}
