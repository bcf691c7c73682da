/**
 * A worker process of the reliability suite: reads its {@link ChaosWorkerOptions} as JSON
 * from `CHAOS_WORKER`, runs the workload's runner, prints one JSON line per event, and
 * stops gracefully on SIGTERM. Spawned by `WorkerProcess` with `node --import tsx`.
 */
import { type ChaosWorkerOptions, createChaosWorker } from './chaos-worker.js';

const report = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};
const options = JSON.parse(process.env.CHAOS_WORKER ?? '{}') as ChaosWorkerOptions;
// A skewed machine: the whole process's clock is off, not only the runner's `clock`.
const realNow = Date.now.bind(Date);
if (options.clockSkewMs) Date.now = () => realNow() + (options.clockSkewMs ?? 0);
const worker = createChaosWorker({ ...options, report });
await worker.start();
report({ event: 'ready', pid: process.pid });

process.on('SIGTERM', () => {
  void worker.stop().then(() => {
    report({ event: 'stopped' });
    process.exit(0);
  });
});
