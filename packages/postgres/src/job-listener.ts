import { EventEmitter } from 'node:events';
import { ConfigError, type Logger, noopLogger } from '@flowmonkey/core';
import pg from 'pg';
import { cancelChannel, jobsChannel } from './channels.js';
import { assertSchemaName, DEFAULT_SCHEMA, quoteIdent } from './schema-name.js';

/** Options of {@link JobListener}. Give `pool` (its settings are copied) or `connectionString`. */
export interface JobListenerOptions {
  /** Connection settings are copied from this pool; the listener opens its own connection. */
  pool?: pg.Pool;
  /** Used when no `pool` is given. */
  connectionString?: string;
  /** Schema whose channels are listened to. @default 'flowmonkey' */
  schema?: string;
  /** `false`: poll-only mode, no connection is opened and no event is emitted. @default true */
  listen?: boolean;
  /** How often the connection is probed with `SELECT 1`, in ms. @default 10_000 */
  healthCheckIntervalMs?: number;
  /** A probe slower than this (ms) counts as a dead connection. @default 5_000 */
  healthCheckTimeoutMs?: number;
  /** First reconnect delay in ms; doubles per failure. @default 100 */
  reconnectMinDelayMs?: number;
  /** Longest reconnect delay in ms. @default 10_000 */
  reconnectMaxDelayMs?: number;
  /** @default no logging */
  logger?: Logger;
}

/** Events of {@link JobListener}. */
export interface JobListenerEvents {
  /** Due jobs may be waiting (also emitted after every reconnect, as wake-ups may have been missed). */
  jobs: [];
  /** Cancellation of the running job with this id was requested. */
  cancel: [jobId: string];
  /** The LISTEN connection is (re)established. */
  connected: [];
  /** The LISTEN connection was lost; a reconnect is scheduled. */
  disconnected: [error: Error];
}

function positive(value: number | undefined, fallback: number, field: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0)
    throw new ConfigError(field, `must be a positive number, got ${v}`);
  return v;
}

/**
 * Listens for FlowMonkey's wake-ups on a dedicated connection (`LISTEN <schema>_jobs`,
 * `<schema>_cancel`) and emits `jobs` and `cancel`. It reconnects by itself with
 * exponential backoff, and probes the connection with `SELECT 1` so that a silently dead
 * connection is noticed within `healthCheckIntervalMs + healthCheckTimeoutMs`. With
 * `listen: false` it does nothing (poll-only mode, for pgbouncer in transaction mode).
 * `start()` and `stop()` may each be called more than once.
 */
export class JobListener extends EventEmitter<JobListenerEvents> {
  readonly #config: pg.ClientConfig;
  readonly #channels: { jobs: string; cancel: string };
  readonly #enabled: boolean;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  #client: pg.Client | null = null;
  #running = false;
  #failures = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #healthTimer: NodeJS.Timeout | null = null;

  constructor(options: JobListenerOptions) {
    super();
    const schema = options.schema ?? DEFAULT_SCHEMA;
    assertSchemaName(schema);
    if (options.pool !== undefined) this.#config = { ...options.pool.options };
    else if (options.connectionString !== undefined)
      this.#config = { connectionString: options.connectionString };
    else throw new ConfigError('pool', 'JobListener needs a pool or a connectionString');
    this.#channels = { jobs: jobsChannel(schema), cancel: cancelChannel(schema) };
    this.#enabled = options.listen ?? true;
    this.#logger = (options.logger ?? noopLogger).child({ component: 'job-listener', schema });
    this.#intervalMs = positive(options.healthCheckIntervalMs, 10_000, 'healthCheckIntervalMs');
    this.#timeoutMs = positive(options.healthCheckTimeoutMs, 5_000, 'healthCheckTimeoutMs');
    this.#minDelayMs = positive(options.reconnectMinDelayMs, 100, 'reconnectMinDelayMs');
    this.#maxDelayMs = positive(options.reconnectMaxDelayMs, 10_000, 'reconnectMaxDelayMs');
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.#client !== null;
  }

  /**
   * Opens the connection and starts listening. A failed first attempt is retried in the
   * background (the promise still resolves), so a runner starts even while the database is
   * briefly unreachable and relies on polling meanwhile.
   */
  async start(): Promise<void> {
    if (!this.#enabled || this.#running) return;
    this.#running = true;
    await this.#connect();
  }

  /** Stops listening and closes the connection. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    if (this.#healthTimer !== null) clearTimeout(this.#healthTimer);
    this.#reconnectTimer = null;
    this.#healthTimer = null;
    const client = this.#client;
    this.#client = null;
    if (client !== null) await client.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('LISTEN connection ended')));
    client.on('notification', (msg) => this.#onNotification(msg));
    try {
      await client.connect();
      await client.query(
        `LISTEN ${quoteIdent(this.#channels.jobs)}; LISTEN ${quoteIdent(this.#channels.cancel)}`,
      );
    } catch (error) {
      client.end().catch(() => {});
      this.#scheduleReconnect(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (!this.#running) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#failures = 0;
    this.#scheduleHealthCheck();
    this.emit('connected');
    this.emit('jobs');
  }

  #onNotification(msg: pg.Notification): void {
    if (msg.channel === this.#channels.jobs) this.emit('jobs');
    else if (msg.channel === this.#channels.cancel && msg.payload) this.emit('cancel', msg.payload);
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#client !== client) return;
    this.#client = null;
    if (this.#healthTimer !== null) clearTimeout(this.#healthTimer);
    client.end().catch(() => {});
    this.#logger.warn({ err: error }, 'LISTEN connection lost; reconnecting');
    this.emit('disconnected', error);
    this.#scheduleReconnect(error);
  }

  #scheduleReconnect(error: Error): void {
    if (!this.#running || this.#reconnectTimer !== null) return;
    const delay = Math.min(this.#maxDelayMs, this.#minDelayMs * 2 ** this.#failures);
    this.#failures += 1;
    this.#logger.debug({ err: error, delayMs: delay }, 'LISTEN reconnect scheduled');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#connect();
    }, delay);
    this.#reconnectTimer.unref();
  }

  #scheduleHealthCheck(): void {
    this.#healthTimer = setTimeout(() => void this.#healthCheck(), this.#intervalMs);
    this.#healthTimer.unref();
  }

  /** `SELECT 1` with a timeout; a failure or a timeout drops the connection and reconnects. */
  async #healthCheck(): Promise<void> {
    const client = this.#client;
    if (client === null) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('LISTEN health check timed out')), this.#timeoutMs);
    });
    try {
      await Promise.race([client.query('SELECT 1'), timeout]);
      if (this.#client === client) this.#scheduleHealthCheck();
    } catch (error) {
      this.#lost(client, error instanceof Error ? error : new Error(String(error)));
    } finally {
      clearTimeout(timer);
    }
  }
}
