import { defineFlow, FlowMonkeyError } from '@flowmonkey/core';
import { JobScheduler } from '@flowmonkey/jobs';
import { createPgStores } from '@flowmonkey/postgres';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { type ChaosWorker, createChaosWorker } from '../src/chaos-worker.js';
import { report } from '../src/report.js';

let db: ChaosDatabase;
let world: ChaosWorker;
let scheduler: JobScheduler;
const tally = { calls: 0, accepted: 0, typedErrors: 0, crashes: 0, halfWritten: 0 };
const crashes: string[] = [];

beforeAll(async () => {
  db = await startChaosDatabase();
  world = createChaosWorker({
    url: db.url,
    workerId: 'fuzz',
    leaseMs: 2000,
    heartbeatIntervalMs: 400,
    pollIntervalMs: 200,
    maxConcurrent: 1,
  });
  scheduler = new JobScheduler({
    jobStore: world.stores.jobs,
    scheduleStore: world.stores.schedules,
  });
});
afterAll(async () => {
  await world?.stop();
  await db?.close();
});

function deep(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}
function cyclic(): unknown {
  const a: Record<string, unknown> = { name: 'a' };
  a.self = a;
  return a;
}

const nasty = fc.constantFrom(
  '',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  ' '.repeat(300),
  'x'.repeat(70_000),
  `'; DROP TABLE flowmonkey.jobs; --`,
  '"; SELECT 1; --',
  '$1',
  'FlowMonkey',
  'ok',
  'chaos.work',
  '🙂'.repeat(50),
);
const text = fc.oneof(nasty, fc.string(), fc.string({ unit: 'binary' }));
const num = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    1e300,
    -1,
    0,
    2 ** 53,
    1.5,
  ),
  fc.integer(),
  fc.double(),
  fc.bigInt().map((b) => b as unknown),
  text.map((s) => s as unknown),
  fc.constantFrom(null, undefined, new Date(Number.NaN), new Date(8.64e15), {}, []),
);
const payload = fc.oneof(
  fc.jsonValue(),
  text,
  num,
  fc.constantFrom<unknown>(
    Symbol('s'),
    () => 1,
    new Map([[1, 2]]),
    new Uint8Array(4),
    'x'.repeat(2 * 1024 * 1024),
  ),
  fc.constant(null).map(() => cyclic()),
  fc.integer({ min: 10, max: 200_000 }).map((d) => deep(d)),
  fc.bigInt().map((b) => ({ amount: b })),
);

async function counts(): Promise<string> {
  const { rows } = await db.pool.query(
    `SELECT (SELECT count(*) FROM flowmonkey.jobs) AS jobs, (SELECT count(*) FROM flowmonkey.job_events) AS events,
            (SELECT count(*) FROM flowmonkey.executions) AS executions, (SELECT count(*) FROM flowmonkey.schedules) AS schedules`,
  );
  return JSON.stringify(rows[0]);
}

/** Calls `fn`: it must succeed or throw a FlowMonkeyError, and an error must leave every table as it was. */
async function probe(
  name: string,
  fn: () => Promise<unknown> | unknown,
  input: unknown,
): Promise<void> {
  tally.calls++;
  const before = await counts();
  try {
    await fn();
    tally.accepted++;
    return;
  } catch (error) {
    if (error instanceof FlowMonkeyError) tally.typedErrors++;
    else {
      tally.crashes++;
      crashes.push(`${name}: ${String(error)} for ${safe(input)}`);
    }
  }
  if ((await counts()) !== before) {
    tally.halfWritten++;
    crashes.push(`${name}: half-written for ${safe(input)}`);
  }
}

function safe(v: unknown): string {
  try {
    return fc.stringify(v).slice(0, 200);
  } catch {
    return typeof v;
  }
}

const runs = size(60, 600);

describe('scenario 10: hostile input to the public APIs', () => {
  it('jobs.create / createMany: a typed error or a job, never a crash or a half-written batch', async () => {
    const job = fc.record(
      {
        handler: text,
        queue: text,
        input: payload,
        priority: num,
        runAt: num,
        maxAttempts: num,
        timeoutMs: num,
        idempotencyKey: text,
        correlationId: text,
        executionId: text,
      },
      { requiredKeys: ['handler'] },
    );
    await fc.assert(
      fc.asyncProperty(job, fc.array(job, { maxLength: 4 }), async (one, many) => {
        await probe('jobs.create', () => world.stores.jobs.create(one as never), one);
        await probe(
          'jobs.createMany',
          () => world.stores.jobs.createMany([{ handler: 'ok' }, ...many] as never),
          many,
        );
      }),
      { numRuns: runs },
    );
    expect(crashes).toEqual([]);
  });

  it('JobScheduler.schedule / scheduleRecurring: a typed error or a result', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { handler: text, input: payload, runAt: num, delayMs: num, priority: num, queue: text },
          { requiredKeys: [] },
        ),
        fc.record(
          {
            name: text,
            cron: fc.oneof(
              text,
              fc.constantFrom('* * * * *', '61 * * * *', '@daily', '*/0 * * * *'),
            ),
            timezone: fc.oneof(text, fc.constantFrom('UTC', 'Europe/Paris', 'Mars/Olympus')),
            handler: text,
            input: payload,
            maxAttempts: num,
          },
          { requiredKeys: [] },
        ),
        async (once, recurring) => {
          await probe('scheduler.schedule', () => scheduler.schedule(once as never), once);
          await probe(
            'scheduler.scheduleRecurring',
            () => scheduler.scheduleRecurring(recurring as never),
            recurring,
          );
        },
      ),
      { numRuns: runs },
    );
    expect(crashes).toEqual([]);
  });

  it('engine.start, defineFlow, createPgStores: a typed error or a result', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(text, fc.constant('chaos-flow')),
        payload,
        fc.record({ idempotencyKey: text, tenantId: text }, { requiredKeys: [] }),
        payload,
        text,
        async (flowId, input, options, flowDef, schema) => {
          await probe('engine.start', () => world.engine.start(flowId, input, options as never), {
            flowId,
            input,
            options,
          });
          await probe('defineFlow', () => defineFlow(flowDef as never), flowDef);
          await probe('createPgStores', () => createPgStores({ pool: db.pool, schema }), schema);
        },
      ),
      { numRuns: runs },
    );
    expect(crashes).toEqual([]);
    report('10-bad-input', { ...tally, runsPerProperty: runs });
    expect(tally.halfWritten).toBe(0);
  });
});
