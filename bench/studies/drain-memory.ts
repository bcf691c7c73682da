/**
 * Study (not part of `pnpm bench`): the memory of one process draining jobs. A fresh
 * database, `JOBS` (default 100,000) no-op jobs bulk-enqueued and `ANALYZE`d, then one
 * worker of `ADAPTER` (default flowmonkey; concurrency 10, the bench's settings) drains
 * them while `process.memoryUsage()` is read every 20 ms; prints jobs/s and the reading
 * with the highest RSS. With `SNAPSHOT=N` it writes a heap snapshot after the Nth job
 * (the process pauses while it does) and prints its path. Run after `tsc -b bench`, with
 * FlowMonkey compiled as the bench runs it, adding `--trace-gc` to see what each
 * collection frees and promotes:
 *
 *   npx -y pnpm@10 --filter @flowmonkey/bench exec node --conditions=flowmonkey-compiled \
 *     --import tsx studies/drain-memory.ts
 */
import { writeHeapSnapshot } from 'node:v8';
import { openWithJobs } from '../src/adapter.js';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';

const JOBS = Number(process.env.JOBS ?? 100_000);
const ADAPTER = process.env.ADAPTER ?? 'flowmonkey';
const SNAPSHOT = Number(process.env.SNAPSHOT ?? 0);
const mb = (bytes: number) => (bytes / 1_048_576).toFixed(0);

const db = await createBenchDatabase();
try {
  const adapter = await openWithJobs(ADAPTER, db.url, JOBS);
  let peak = process.memoryUsage();
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  }, 20);
  let ran = 0;
  let first = 0;
  await new Promise<void>((resolve, reject) => {
    adapter
      .startWorker({ concurrency: 10 }, () => {
        if (ran === 0) first = performance.now();
        if (++ran === SNAPSHOT) process.stdout.write(`heap snapshot: ${writeHeapSnapshot()}\n`);
        if (ran === JOBS) resolve();
      })
      .catch(reject);
  });
  clearInterval(sampler);
  // Timed as the bench times a drain: from the first handler start to the last.
  const rate = Math.round(JOBS / ((performance.now() - first) / 1000));
  process.stdout.write(
    `${ADAPTER}: ${rate} jobs/s; at peak RSS ${mb(peak.rss)} MB: heap total ${mb(peak.heapTotal)} MB, heap used ${mb(peak.heapUsed)} MB, external ${mb(peak.external)} MB\n`,
  );
  await adapter.close();
} finally {
  await dropBenchDatabase(db.name);
}
