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
 * The engine's maintenance loop, meant to run next to the `JobReaper` in a sidecar: every
 * `intervalMs` it resumes due timed waits (`engine.wakeDue`) and re-runs executions a crash
 * left `running` between two steps (`engine.recoverStale`). Both are safe with any number of
 * sweepers at once: each transition is an optimistic write that exactly one of them wins.
 */
export class ExecutionSweeper {
  readonly #engine: SweptEngine;
  readonly #recoverAfterMs: number;
  readonly #batchSize: number;
  readonly #logger: Logger;
  readonly #service: Service;

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
    this.#service = new Service({
      name: 'execution-sweeper',
      intervalMs,
      run: () => this.runOnce(),
      logger: this.#logger,
    });
  }

  /** Starts sweeping: a first sweep after a random delay up to `intervalMs`, then every interval. */
  start(): void {
    this.#service.start();
  }

  /** Stops sweeping and waits for a sweep in flight. Idempotent; fine before `start()`. */
  stop(): Promise<void> {
    return this.#service.stop();
  }

  /** Runs one sweep now and returns what it did. */
  async runOnce(): Promise<SweepCounts> {
    const woken = await this.#engine.wakeDue({ limit: this.#batchSize });
    const recovered = await this.#engine.recoverStale({
      olderThanMs: this.#recoverAfterMs,
      limit: this.#batchSize,
    });
    if (woken + recovered > 0) this.#logger.info({ woken, recovered }, 'swept executions');
    return { woken, recovered };
  }
}
