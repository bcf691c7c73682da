/**
 * Typed jobs: `defineJob` with zod schemas, then `now` (run here, typed result), `later`
 * (enqueue, a runner picks it up, `wait` for the typed result) and `batch` (many inputs,
 * results in input order). Runs on the in-memory stores, one command:
 *
 *   npx tsx examples/typed-jobs.ts
 *
 * Swap `createMemoryStores()` for `createPgStores({ pool })` and nothing else changes.
 */
import { createMemoryStores, noopLogger, ValidationError } from '@flowmonkey/core';
import { BasicJobRunner, createJobRegistry, defineJob } from '@flowmonkey/jobs';
import { z } from 'zod';

const ResizeImage = defineJob({
  name: 'resize-image',
  input: z.object({ url: z.url(), width: z.number().int().positive().max(4096) }),
  output: z.object({ url: z.string(), width: z.number(), bytes: z.number() }),
  maxAttempts: 3,
  retry: { strategy: 'FIXED', baseDelayMs: 50 },
  async handler(input, ctx) {
    await ctx.progress(50, 'resizing');
    return { url: `${input.url}?w=${input.width}`, width: input.width, bytes: input.width * 97 };
  },
});

const stores = createMemoryStores();
const runner = new BasicJobRunner({
  jobStore: stores.jobs,
  logger: noopLogger,
  pollIntervalMs: 20,
});
createJobRegistry({ jobStore: stores.jobs, runner, logger: noopLogger }).register(ResizeImage);
await runner.start();

// now: runs in this process and returns the typed result (nothing stored unless persist: true).
const small = await ResizeImage.now({ url: 'https://example.com/cat.png', width: 200 });
console.log('now    →', small);

// later: validated, stored, run by the runner; wait() returns the typed result.
const handle = await ResizeImage.later({ url: 'https://example.com/dog.png', width: 800 });
console.log('later  → job', handle.id, (await handle.status()).status);
console.log('wait   →', await handle.wait({ timeoutMs: 5000 }));

// batch: results in input order, one { ok, value | error } per input; a bad input fails alone.
const results = await ResizeImage.batch(
  [
    { url: 'https://example.com/a.png', width: 100 },
    { url: 'not a url', width: 100 },
    { url: 'https://example.com/c.png', width: 300 },
  ],
  { concurrency: 2 },
);
for (const [i, r] of results.entries()) {
  console.log(`batch[${i}] →`, r.ok ? r.value : String(r.error));
}

// A bad input is refused at the boundary with the schema's issues, and nothing is stored.
try {
  await ResizeImage.later({ url: 'https://example.com/big.png', width: 100_000 });
} catch (error) {
  if (!(error instanceof ValidationError)) throw error;
  console.log('later(bad) →', error.message);
}
console.log(
  'jobs stored:',
  (await stores.jobs.listByStatus({ status: 'completed', limit: 10 })).length,
  'completed',
);

await runner.stop();
