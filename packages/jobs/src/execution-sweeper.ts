import type { Logger } from '@flowmonkey/core';
import { ConfigError, MAX_TIMEOUT_MS } from '@flowmonkey/core';
import { defaultLogger } from './default-logger.js';
import { checkKnownKeys, checkNumber } from './option-checks.js';
import { Service } from './service.js';

/** The part of core's `Engine` the sweeper drives. */
export interface SweptEngine {
  wakeDue(options?: { limit?: number }): Promise<number>;
  recoverStale(options: { olderThanMs: number; limit?: number }): Promise<number>;
}

/** Options of {@link ExecutionSweeper}. Only `engine` is required. */
export interface ExecutionSweeperOptions {
  /** The engine whose executions are swept. */
  engine: SweptEngine;
  /** Pause between two sweeps, in ms. @default 1000 */
  intervalMs?: number;
  /**
   * An execution left `running` and untouched for this long, in ms, is presumed orphaned by
   * a crash between two steps and is run again. Keep it well above your slowest inline
   * step. @default 300_000 (five minutes)
   */
  recoverAfterMs?: number;
  /** Executions handled per sweep, for each of the two duties. @default 100 */
  batchSize?: number;
  /** A pino (or compatible) logger. @default pino at `info`, silent under a test runner */
  logger?: Logger;
}

/** What one sweep did. */
export interface SweepCounts {
  /** Timed waits (`Result.wait({ until })`) that were due and resumed. */
  woken: number;
  /** Orphaned `running` executions that were run again. */
  recovered: number;
}

/**
 * The engine's maintenance loops, meant to run next to the `JobReaper` in a sidecar: every
 * `intervalMs` it resumes due timed waits (`engine.wakeDue`), and a few times per
 * `recoverAfterMs` it re-runs executions a crash left `running` between two steps
 * (`engine.recoverStale`). Both are safe with any number of
 * sweepers at once: each transition is an optimistic write that exactly one of them wins.
 */
export class ExecutionSweeper {
  readonly #engine: SweptEngine;
  readonly #recoverAfterMs: number;
  readonly #batchSize: number;
  readonly #logger: Logger;
  readonly #wakeLoop: Service;
  readonly #recoverLoop: Service;

  constructor(options: ExecutionSweeperOptions) {
    checkKnownKeys(options, ['engine', 'intervalMs', 'recoverAfterMs', 'batchSize', 'logger']);
    if (options.engine === undefined || options.engine === null) {
      throw new ConfigError('engine', 'is required');
    }
    this.#engine = options.engine;
    const intervalMs = checkNumber('intervalMs', options.intervalMs, {
      fallback: 1000,
      min: 1,
      max: MAX_TIMEOUT_MS,
    });
    this.#recoverAfterMs = checkNumber('recoverAfterMs', options.recoverAfterMs, {
      fallback: 300_000,
      min: 0,
      max: MAX_TIMEOUT_MS,
    });
    this.#batchSize = checkNumber('batchSize', options.batchSize, {
      fallback: 100,
      min: 1,
      int: true,
    });
    this.#logger = options.logger ?? defaultLogger();
    this.#wakeLoop = new Service({
      name: 'execution-sweeper-wake',
      intervalMs,
      run: () => this.#wake(),
      logger: this.#logger,
    });
    // Recovery pages through every running execution, and only finds ones idle for
    // recoverAfterMs: checking a few times per recoverAfterMs is enough.
    this.#recoverLoop = new Service({
      name: 'execution-sweeper-recover',
      intervalMs: Math.max(intervalMs, Math.min(this.#recoverAfterMs / 4, 60_000)),
      run: () => this.#recover(),
      logger: this.#logger,
    });
  }

  /**
   * Starts sweeping: timed waits every `intervalMs`, orphan recovery every quarter of
   * `recoverAfterMs` (at least `intervalMs`, at most a minute), each after a random first delay.
   */
  start(): void {
    this.#wakeLoop.start();
    this.#recoverLoop.start();
  }

  /** Stops sweeping and waits for sweeps in flight. Idempotent; fine before `start()`. */
  async stop(): Promise<void> {
    await Promise.all([this.#wakeLoop.stop(), this.#recoverLoop.stop()]);
  }

  /** Runs both duties once now and returns what they did. */
  async runOnce(): Promise<SweepCounts> {
    return { woken: await this.#wake(), recovered: await this.#recover() };
  }

  async #wake(): Promise<number> {
    const woken = await this.#engine.wakeDue({ limit: this.#batchSize });
    if (woken > 0) this.#logger.info({ woken }, 'woke timed waits');
    return woken;
  }

  async #recover(): Promise<number> {
    const recovered = await this.#engine.recoverStale({
      olderThanMs: this.#recoverAfterMs,
      limit: this.#batchSize,
    });
    if (recovered > 0) this.#logger.info({ recovered }, 'recovered orphaned executions');
    return recovered;
  }
}
