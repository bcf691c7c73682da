import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHILD_NODE_ARGS } from './child-node-args.js';
import type { FromWorker, ToWorker } from './worker-messages.js';

type Final = Extract<FromWorker, { type: 'final' }>;

/** Worker processes forked by a coordinator, with their progress and final reports. */
export class WorkerPool {
  readonly #children: ChildProcess[] = [];
  readonly #counts: number[] = [];
  readonly #finals: Promise<Final>[] = [];
  readonly #ready: Promise<void>[] = [];
  /** Resolvers of the `paused` answers awaited by {@link pause}, one per worker. */
  #paused: (() => void)[] = [];
  readonly #exited: Promise<void>[] = [];
  /** Whether the workers write CPU profiles, which they do as they exit. */
  readonly #profiling: boolean;

  constructor(count: number, env: Record<string, string>) {
    const script = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
    // BENCH_WORKER_CPU_PROF=<dir>: each worker process writes a V8 CPU profile there.
    const profile = process.env.BENCH_WORKER_CPU_PROF;
    const profileArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
    this.#profiling = profileArgs.length > 0;
    for (let w = 0; w < count; w++) {
      const child = fork(script, [], {
        // --expose-gc: the memory workload weighs the heap after a full collection.
        execArgv: [...CHILD_NODE_ARGS, '--expose-gc', ...profileArgs],
        env: { ...process.env, ...env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.#children.push(child);
      this.#exited.push(new Promise((resolve) => child.on('exit', () => resolve())));
      this.#counts.push(0);
      let markReady: () => void = () => {};
      this.#ready.push(new Promise<void>((resolve) => (markReady = resolve)));
      this.#finals.push(
        new Promise<Final>((resolve, reject) => {
          child.on('message', (message: FromWorker) => {
            if (message.type === 'ready') markReady();
            else if (message.type === 'progress') this.#counts[w] = message.count;
            else if (message.type === 'paused') {
              this.#counts[w] = 0;
              this.#paused[w]?.();
            } else resolve(message);
          });
          child.on('exit', (code) => reject(new Error(`worker ${w} exited with ${code}`)));
        }),
      );
    }
  }

  /** Resolves when every worker has loaded its library and built its worker (not started). */
  ready(): Promise<void> {
    return Promise.all(this.#ready).then(() => undefined);
  }

  /** Tells every worker to start working. */
  go(): void {
    for (const child of this.#children) child.send({ type: 'go' } satisfies ToWorker);
  }

  /**
   * Stops every workflow worker's runner and resets the counts (the runs so far were a
   * warm-up); resolves once all have answered. `go` starts them again.
   */
  async pause(): Promise<void> {
    const answers = this.#children.map(
      (_, w) => new Promise<void>((resolve) => (this.#paused[w] = resolve)),
    );
    for (const child of this.#children) child.send({ type: 'pause' } satisfies ToWorker);
    await Promise.all(answers);
    this.#paused = [];
  }

  /** Handler runs reported so far, all workers together. */
  total(): number {
    return this.#counts.reduce((a, b) => a + b, 0);
  }

  /** Waits until `total() >= n` or `deadline` (performance.now() ms); true when reached. */
  async waitFor(n: number, deadline: number): Promise<boolean> {
    while (this.total() < n) {
      if (performance.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Stops the workers and returns their final reports. */
  async finish(): Promise<Final[]> {
    for (const child of this.#children) child.send({ type: 'finish' } satisfies ToWorker);
    const finals = await Promise.all(this.#finals);
    // A worker writes its profile as it exits, after its final report: let it.
    if (this.#profiling) await Promise.all(this.#exited);
    return finals;
  }

  /** Kills every worker still running. */
  kill(): void {
    for (const child of this.#children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Exactly-once check over the job indexes `0..n-1` every worker ran. */
export function checkOnce(
  n: number,
  finals: readonly { ids: number[] }[],
): {
  expected: number;
  runs: number;
  duplicates: number;
  missing: number;
} {
  const counts = new Uint32Array(n);
  let runs = 0;
  for (const f of finals) {
    for (const i of f.ids) {
      runs++;
      if (i >= 0 && i < n) counts[i] = (counts[i] ?? 0) + 1;
    }
  }
  let duplicates = 0;
  let missing = 0;
  for (const c of counts) {
    if (c === 0) missing++;
    else if (c > 1) duplicates += c - 1;
  }
  return { expected: n, runs, duplicates, missing };
}
