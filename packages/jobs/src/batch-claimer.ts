import { describeClaimed } from './describe-claimed.js';
import type { PrefetchBuffer } from './prefetch-buffer.js';
import type { QueueDrain } from './queue-drain.js';
import type { RunnerAttempts } from './runner-attempts.js';
import type { ResolvedRunnerOptions } from './runner-options.js';

/**
 * Most claims a runner has in flight at once: a second one overlaps the first when the
 * buffer has room for it (`prefetch`), so draining a batch and fetching the next overlap.
 */
const MAX_CLAIMS_IN_FLIGHT = 2;

/** The runner options a {@link BatchClaimer} reads. */
type ClaimOptions = Pick<
  ResolvedRunnerOptions,
  'maxConcurrent' | 'prefetch' | 'jobStore' | 'runnerId' | 'queues' | 'engine' | 'logger'
>;

/**
 * Claims due jobs for a runner into its prefetch buffer and keeps count of the room they
 * take: room is reserved while a claim is in flight, so overlapping claims never ask for
 * more jobs than the runner has room for. With room for another batch, and a backlog
 * possibly waiting (see {@link QueueDrain}), a second claim runs beside the first.
 */
export class BatchClaimer {
  readonly #options: ClaimOptions;
  readonly #attempts: RunnerAttempts;
  readonly #buffer: PrefetchBuffer;
  readonly #drain: QueueDrain;
  readonly #claimAgain: () => Promise<unknown>;
  /** Room reserved by the claims in flight, until their jobs are in the buffer. */
  #reserved = 0;
  /** Claims in flight (at most {@link MAX_CLAIMS_IN_FLIGHT}). */
  #claiming = 0;
  /** Waiting for every claim in flight to settle ({@link settled}). */
  #claimsSettled: (() => void)[] = [];

  /**
   * Claims for the runner whose attempts, buffer and queue knowledge are given;
   * `claimAgain` starts another of the runner's claims (its `runOnce`), for a second claim
   * beside the one in flight.
   */
  constructor(
    options: ClaimOptions,
    attempts: RunnerAttempts,
    buffer: PrefetchBuffer,
    drain: QueueDrain,
    claimAgain: () => Promise<unknown>,
  ) {
    this.#options = options;
    this.#attempts = attempts;
    this.#buffer = buffer;
    this.#drain = drain;
    this.#claimAgain = claimAgain;
  }

  /** Claims in flight. */
  get inFlight(): number {
    return this.#claiming;
  }

  /** Resolves once no claim is in flight; at once if none is. */
  settled(): Promise<void> {
    if (this.#claiming === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#claimsSettled.push(resolve));
  }

  /**
   * How many more jobs the runner has room for (zero or less for none):
   * `maxConcurrent + prefetch`, less its running handlers, its buffered jobs, the room
   * reserved by claims in flight, and its outcomes waiting to be stored beyond that many.
   */
  room(): number {
    const { maxConcurrent, prefetch } = this.#options;
    const capacity = maxConcurrent + prefetch;
    // Outcomes waiting to be stored hold no slot, but more of them than the runner holds
    // jobs for (slots plus prefetch) take claiming room: a runner whose writes cannot keep
    // up (a starved pool, a slow database) stops taking jobs instead of piling up leases,
    // while one whose writes are merely batched keeps claiming.
    const storing = this.#attempts.storing;
    return (
      capacity -
      this.#attempts.running -
      this.#buffer.size -
      this.#reserved -
      Math.max(0, storing - capacity)
    );
  }

  /**
   * Claims up to `limit` due jobs of `types` into the buffer, with the descriptions of their
   * step jobs, and returns how many it got. With `roomLeft` (room beyond this claim) it may
   * start a second claim through `claimAgain` first, whose errors are logged. Throws what
   * the store throws.
   */
  async claim(types: string[], limit: number, roomLeft: number): Promise<number> {
    const { jobStore, runnerId, queues, engine, logger } = this.#options;
    // Room is reserved while the claim is in flight (until its jobs are in the buffer), so
    // overlapping calls never claim more jobs than there is room for.
    this.#reserved += limit;
    this.#claiming++;
    try {
      // Pipelining: with room for another batch, a second claim starts while this one is
      // in flight, so a buffer that drains faster than a round trip does not run dry
      // (only while there may be a backlog: after a short claim the second comes back empty).
      if (this.#claiming < MAX_CLAIMS_IN_FLIGHT && roomLeft > 0 && this.#drain.backlog) {
        this.#claimAgain().catch((error: unknown) => {
          logger.error({ err: error }, 'claim failed');
        });
      }
      const token = this.#drain.claiming();
      const claimedAt = performance.now();
      const jobs = await jobStore.claimBatch({
        runnerId,
        limit,
        handlers: types,
        ...(queues === undefined ? {} : { queues }),
      });
      this.#drain.claimed(token, limit, jobs.length);
      // A claim that waited long for a pooled connection (handlers holding them all)
      // returns leases granted at an unknown moment after `claimedAt`; the runner then
      // waits for a heartbeat to confirm them before starting their handlers.
      this.#buffer.push(jobs, claimedAt, await describeClaimed(engine, jobs, logger));
      return jobs.length;
    } finally {
      this.#reserved -= limit;
      this.#claiming--;
      if (this.#claiming === 0) for (const resolve of this.#claimsSettled.splice(0)) resolve();
    }
  }
}
