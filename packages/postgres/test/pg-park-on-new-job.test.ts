import {
  ConcurrencyError,
  defineFlow,
  Engine,
  type Execution,
  Result,
  type StepHandler,
} from '@flowmonkey/core';
import { newExecution, newParkParams, withTakenParkKeys } from '@flowmonkey/core/testing';
import pg from 'pg';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { useTestDatabase } from '../src/testing/index.js';
import { rowCounts, truncateAll, wakesListener } from './helpers.js';

const db = useTestDatabase();
let stores: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  stores = createPgStores({ pool: db().pool, notify: false });
});

async function eventKinds(jobId: string): Promise<string[]> {
  const { rows } = await db().pool.query<{ kind: string }>(
    'SELECT kind FROM flowmonkey.job_events WHERE job_id = $1 ORDER BY id',
    [jobId],
  );
  return rows.map((r) => r.kind);
}

describe('PgStores.parkOnNewJob', () => {
  it("appends the job's created event in the same statement", async () => {
    const { execution } = await stores.executions.create(newExecution());
    const written = await stores.parkOnNewJob(newParkParams(execution));
    expect(await eventKinds(written?.job.id ?? '')).toEqual(['created']);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1, executions: 1 });
  });

  it('leaves no job and no event when the execution moved on', async () => {
    const { execution } = await stores.executions.create(newExecution());
    await stores.executions.update({ execution, expectedVersion: 0 });
    await expect(stores.parkOnNewJob(newParkParams(execution))).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 0, events: 0 });
  });

  it('parks one of two racing writers: the other writes nothing', async () => {
    const { execution } = await stores.executions.create(newExecution());
    const [a, b] = await Promise.allSettled([
      stores.parkOnNewJob(newParkParams(execution)),
      stores.parkOnNewJob(newParkParams(execution)),
    ]);
    const won = [a, b].filter((r) => r.status === 'fulfilled' && r.value !== undefined);
    expect(won).toHaveLength(1);
    const lost = [a, b].find((r) => r !== won[0]);
    if (lost?.status === 'rejected') expect(lost.reason).toBeInstanceOf(ConcurrencyError);
    else expect(lost?.value).toBeUndefined();
    const [job] = await stores.jobs.getByExecution(execution.id);
    expect((await stores.executions.get(execution.id))?.waitingOn?.jobId).toBe(job?.id);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 1, events: 1 });
  });

  it('wakes a JobListener through the pool notifier, after the statement', async () => {
    const notifying = createPgStores({ pool: db().pool });
    const coalesced = vi.spyOn(notifying.notifier, 'jobsDue');
    const { execution } = await notifying.executions.create(newExecution());
    await wakesListener(db().pool, () => notifying.parkOnNewJob(newParkParams(execution)));
    expect(coalesced).toHaveBeenCalledTimes(1);
  });

  it('asks for the wake-up of a due job only', async () => {
    const due = vi.spyOn(stores.notifier, 'jobsDue');
    const later = await stores.executions.create(newExecution());
    await stores.parkOnNewJob(newParkParams(later.execution, { runAt: Date.now() + 3_600_000 }));
    expect(due).not.toHaveBeenCalled();
    const now = await stores.executions.create(newExecution());
    await stores.parkOnNewJob(newParkParams(now.execution));
    expect(due).toHaveBeenCalledTimes(1);
  });
});

describe('PgStores.parkOnNewJob (group commit)', () => {
  /** Names of the park statements every client sends while `fn` runs. */
  async function parkStatementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
    const query = vi.spyOn(pg.Client.prototype, 'query');
    try {
      await fn();
      return query.mock.calls
        .map(([config]) => String((config as { name?: string }).name))
        .filter((name) => name.startsWith('fm_flowmonkey_parks_'))
        .map((name) => name.replace('fm_flowmonkey_parks_', ''));
    } finally {
      query.mockRestore();
    }
  }

  async function createExecutions(n: number): Promise<Execution[]> {
    const created = await Promise.all(
      Array.from({ length: n }, (_, i) => stores.executions.create(newExecution({ input: i }))),
    );
    return created.map((c) => c.execution);
  }

  it('parks 30 concurrent callers in fewer statements, each as a read returns it', async () => {
    const executions = await createExecutions(30);
    let written: Awaited<ReturnType<PgStores['parkOnNewJob']>>[] = [];
    const sent = await parkStatementsDuring(async () => {
      written = await Promise.all(executions.map((e) => stores.parkOnNewJob(newParkParams(e))));
    });
    expect(sent.length).toBeLessThan(30);
    expect(sent).toContain('parkOnNewJobMany');
    for (const [i, w] of written.entries()) {
      expect(w?.execution.id).toBe(executions[i]?.id);
      expect(await stores.jobs.get(w?.job.id ?? '')).toStrictEqual(w?.job);
      expect(await stores.executions.get(w?.execution.id ?? '')).toStrictEqual(w?.execution);
      expect(await eventKinds(w?.job.id ?? '')).toEqual(['created']);
    }
  });

  it('refuses only the parks whose execution moved on, writing no job for them', async () => {
    const executions = await createExecutions(6);
    const moved = new Set([executions[1]?.id, executions[4]?.id]);
    for (const e of executions) {
      if (moved.has(e.id)) await stores.executions.update({ execution: e, expectedVersion: 0 });
    }
    const results = await Promise.allSettled(
      executions.map((e) => stores.parkOnNewJob(newParkParams(e))),
    );
    results.forEach((r, i) => {
      if (moved.has(executions[i]?.id)) {
        expect(r.status === 'rejected' && r.reason instanceof ConcurrencyError).toBe(true);
      } else {
        expect(r.status === 'fulfilled' && r.value?.execution.status === 'waiting').toBe(true);
      }
    });
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 4, events: 4 });
  });

  it('writes a batch that a taken key fails park by park: only that one returns undefined', async () => {
    const executions = await createExecutions(5);
    const taken = newParkParams(executions[2] as Execution);
    await stores.jobs.create({
      handler: 'other',
      idempotencyKey: taken.job.idempotencyKey ?? null,
    });
    const params = executions.map((e, i) => (i === 2 ? taken : newParkParams(e)));
    let results: Awaited<ReturnType<PgStores['parkOnNewJob']>>[] = [];
    const sent = await parkStatementsDuring(async () => {
      results = await Promise.all(params.map((p) => stores.parkOnNewJob(p)));
    });
    expect(results.map((r) => r === undefined)).toEqual([false, false, true, false, false]);
    expect((await stores.executions.get(executions[2]?.id ?? ''))?.version).toBe(0);
    expect(await rowCounts(db().pool)).toMatchObject({ jobs: 5, events: 5 });
    // The batch that held the taken key failed whole and its parks were written one by one.
    expect(sent).toContain('parkOnNewJobMany');
    expect(sent.filter((name) => name === 'parkOnNewJob').length).toBeGreaterThanOrEqual(4);
  });
});

describe('Engine parking through PgStores', () => {
  const flow = defineFlow({
    id: 'pay',
    initialStepId: 'prepare',
    steps: {
      prepare: { type: 'prepare', input: 'input', transitions: { onSuccess: 'charge' } },
      charge: { type: 'charge', input: 'prepare' },
    },
  });
  const handlers: StepHandler[] = [
    { type: 'prepare', metadata: {}, execute: async ({ input }) => Result.success(input) },
    { type: 'charge', metadata: { stateful: true }, execute: async () => Result.success(null) },
  ];

  it('parks on the job already holding the key when parkOnNewJob finds it taken', async () => {
    const { stores: wrapped, holders, answers } = withTakenParkKeys(stores);
    const engine = new Engine({ stores: wrapped, handlers, flows: [flow] });
    const execution = await engine.start('pay', { cents: 5 });
    expect(answers).toEqual([undefined]);
    expect(execution).toMatchObject({ status: 'waiting', waitingOn: { jobId: holders[0]?.id } });
    expect(await stores.jobs.getByExecution(execution.id)).toStrictEqual(holders);
    expect(await stores.executions.get(execution.id)).toStrictEqual(execution);
  });
});
