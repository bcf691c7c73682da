import type { Logger } from '@flowmonkey/core';

/** Options of {@link Service}. */
export interface ServiceOptions {
  /** Name used in log lines. */
  name: string;
  /** Pause between the end of one run and the start of the next, in milliseconds. */
  intervalMs: number;
  /**
   * Upper bound of the random delay before the first run, in milliseconds, so that many
   * processes started together do not run in lockstep. @default intervalMs
   */
  firstRunJitterMs?: number;
  /** The work of one run. A rejection is logged and the loop goes on. */
  run: () => Promise<unknown>;
  logger: Logger;
  /** Source of randomness in [0, 1) for the first-run jitter. @default Math.random */
  random?: () => number;
  /**
   * Keep the process alive while started, as a listening server does: a worker process
   * whose database connections all dropped (a PostgreSQL restart) must not exit just
   * because nothing else is pending. @default false (timers are unref'd)
   */
  keepProcessAlive?: boolean;
}

/**
 * The start/stop base shared by the runner's loops and the reaper: a jittered first run,
 * then one run every `intervalMs` after the previous one ended (runs never overlap).
 * `trigger()` asks for a run as soon as possible. `start()` and `stop()` are idempotent:
 * stopping twice, or before start, is fine. Timers are unref'd unless `keepProcessAlive`,
 * so by default a started service never keeps a process alive on its own; nothing
 * busy-waits.
 */
export class Service {
  readonly #options: ServiceOptions;
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #inFlight: Promise<void> | undefined;
  #rerun = false;

  constructor(options: ServiceOptions) {
    this.#options = options;
  }

  /** True between `start()` and `stop()`. */
  get started(): boolean {
    return this.#started;
  }

  /** Starts the loop: the first run comes after a random delay up to `firstRunJitterMs`. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const jitter = this.#options.firstRunJitterMs ?? this.#options.intervalMs;
    this.#schedule(Math.floor(jitter * (this.#options.random ?? Math.random)()));
  }

  /** Asks for a run now (or right after the one in flight). Ignored when stopped. */
  trigger(): void {
    if (!this.#started) return;
    if (this.#inFlight !== undefined) {
      this.#rerun = true;
      return;
    }
    this.#schedule(0);
  }

  /** Stops the loop and waits for a run in flight to end. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#rerun = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    await this.#inFlight;
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (delayMs === 0) {
      // A triggered run starts on the next turn of the event loop: setTimeout(0) waits at
      // least 1 ms, which is most of a wake-up's latency budget.
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#tick();
      });
      return;
    }
    if (this.#immediate !== undefined) return; // a run is about to start anyway
    this.#timer = setTimeout(() => this.#tick(), delayMs);
    if (this.#options.keepProcessAlive !== true) this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#started || this.#inFlight !== undefined) return;
    this.#inFlight = this.#options
      .run()
      .then(
        () => undefined,
        (error: unknown) => {
          this.#options.logger.error({ err: error, service: this.#options.name }, 'run failed');
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
        if (!this.#started) return;
        const again = this.#rerun;
        this.#rerun = false;
        this.#schedule(again ? 0 : this.#options.intervalMs);
      });
  }
}
