/**
 * A benchmark worker process. The coordinator forks it with the adapter, database and
 * concurrency in the environment; it loads the adapter and builds its worker, says
 * `ready`, starts working on `go`, reports progress every 50 ms, and on `finish` closes
 * everything and reports every job index it ran (duplicates included), the latencies it
 * saw, the CPU it used since `go` and its memory samples. A workflow worker also takes
 * `pause` (after its warm-up): it stops its runner, forgets what it ran, says `paused`, and
 * starts again on `go`.
 */
import type { BenchJob } from './adapter.js';
import { loadAdapter } from './adapter.js';
import type { FromWorker, ToWorker } from './worker-messages.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const mode = process.env.BENCH_MODE ?? 'jobs';
const concurrency = Number(env('BENCH_CONCURRENCY'));
const url = env('BENCH_URL');
const ids: number[] = [];
const latencies: number[] = [];
const rss: [number, number][] = [];
const heap: [number, number][] = [];
/** Jobs the memory workload expects; the heap is weighed after a GC at 20 % and 100 %. */
const heapAt = Number(process.env.BENCH_HEAP_AT ?? 0);
let lastAt = 0;
let firstAt = 0;
let peakRss = 0;
/** CPU usage at the last `go`: the timed stretch starts there. */
let cpuAtGo = process.cpuUsage();
let close: () => Promise<void> = async () => {};
let pause: (() => Promise<void>) | undefined;
let progressTimer: NodeJS.Timeout | undefined;

const send = (message: FromWorker) => process.send?.(message);
const wallNow = () => performance.timeOrigin + performance.now();

function onJob(job: BenchJob): void {
  lastAt = wallNow();
  if (firstAt === 0) firstAt = lastAt;
  ids.push(job.i);
  if (job.t !== undefined) latencies.push(lastAt - job.t);
  if (heapAt > 0 && (ids.length === Math.floor(heapAt * 0.2) || ids.length === heapAt)) {
    const done = ids.length;
    setImmediate(() => {
      (globalThis as { gc?: () => void }).gc?.();
      heap.push([done, process.memoryUsage().heapUsed]);
    });
  }
}

/**
 * Loads the library and builds the worker without starting it, before `ready`, so that
 * module loading (four processes at once on two cores) is not timed as throughput.
 */
async function open(): Promise<() => Promise<void>> {
  if (mode === 'workflow') {
    const { openWorkflowWorker } = await import('./flowmonkey-workflow.js');
    const worker = await openWorkflowWorker(url, concurrency, onJob);
    close = worker.close;
    pause = worker.pause;
    return worker.start;
  }
  const adapter = await loadAdapter(env('BENCH_ADAPTER'));
  await adapter.open(url);
  close = () => adapter.close();
  return () => adapter.startWorker({ concurrency }, onJob);
}

function sample(): void {
  const now = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, now);
  rss.push([ids.length, now]);
}

const start = await open().catch((error: unknown) => {
  process.stderr.write(`worker failed to open: ${String(error)}\n`);
  process.exit(2);
});

process.on('message', (message: ToWorker) => {
  if (message.type === 'go') {
    cpuAtGo = process.cpuUsage();
    progressTimer ??= setInterval(() => {
      sample();
      send({ type: 'progress', count: ids.length, lastAt });
    }, 50);
    progressTimer.unref();
    start().catch((error: unknown) => {
      process.stderr.write(`worker failed to start: ${String(error)}\n`);
      process.exit(2);
    });
  } else if (message.type === 'pause') {
    void (async () => {
      await pause?.();
      // The warm-up's runs are not the timed ones: forget them (IPC keeps messages in
      // order, so every progress report after `paused` counts from zero).
      ids.length = 0;
      latencies.length = 0;
      rss.length = 0;
      firstAt = 0;
      lastAt = 0;
      peakRss = 0;
      send({ type: 'paused' });
    })();
  } else if (message.type === 'finish') {
    void (async () => {
      sample();
      const cpu = process.cpuUsage(cpuAtGo);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      await Promise.race([close(), new Promise((r) => setTimeout(r, 5000))]);
      send({ type: 'final', ids, latencies, firstAt, lastAt, cpuMs, peakRss, rss, heap });
      setTimeout(() => process.exit(0), 50);
    })();
  }
});

send({ type: 'ready' });
