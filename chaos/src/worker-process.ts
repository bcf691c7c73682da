import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChaosWorkerOptions } from './chaos-worker.js';
import type { ChaosSchedulerOptions } from './scheduler-main.js';

/** One line a worker printed. */
export type WorkerEvent = Record<string, unknown> & { event: string };

/**
 * A worker process of the workload (`worker-main.ts` under `node --import tsx`) and the
 * events it printed; `signal()` injects SIGKILL, SIGSTOP, SIGCONT or SIGTERM.
 */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly events: WorkerEvent[] = [];
  readonly exited: Promise<void>;
  #waiters: { match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];

  /**
   * Spawns a workload worker; with `kind: 'scheduler'` a scheduler process
   * (`scheduler-main.ts`) configured by `options` instead.
   */
  constructor(
    options: Omit<ChaosWorkerOptions, 'report'> | ChaosSchedulerOptions,
    kind: 'worker' | 'scheduler' = 'worker',
  ) {
    const main = kind === 'worker' ? './worker-main.ts' : './scheduler-main.ts';
    const script = fileURLToPath(new URL(main, import.meta.url));
    const variable = kind === 'worker' ? 'CHAOS_WORKER' : 'CHAOS_SCHEDULER';
    this.child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, [variable]: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.on('exit', () => resolve()));
    const lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      let event: WorkerEvent;
      try {
        event = JSON.parse(line) as WorkerEvent;
      } catch {
        return;
      }
      this.events.push(event);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(event)) return true;
        w.resolve(event);
        return false;
      });
    });
  }

  /** True until the process exited. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first event named `event` (seen or to come). */
  next(event: string): Promise<WorkerEvent> {
    const match = (e: WorkerEvent) => e.event === event;
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ match, resolve });
      void this.exited.then(() => reject(new Error(`worker exited before "${event}"`)));
    });
  }

  /** Sends `signal` to the process. */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGKILLs the process (continuing it first if stopped) and waits for its exit. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
