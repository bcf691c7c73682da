import { ValidationError } from '@flowmonkey/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { useTestDatabase } from '../src/testing/index.js';
import { rowCounts, truncateAll } from './helpers.js';

const db = useTestDatabase();
let stores: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  stores = createPgStores({ pool: db().pool, notify: false });
});

async function history(jobId: string) {
  const { rows } = await db().pool.query(
    'SELECT kind, attempt, lease_id, data FROM flowmonkey.job_events WHERE job_id = $1 ORDER BY id',
    [jobId],
  );
  return rows;
}

async function claimOne() {
  const job = await stores.jobs.create({ handler: 'h' });
  const [claimed] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 });
  return { jobId: job.id, leaseId: claimed?.leaseId as string };
}

describe('PgJobStore.recordEvents', () => {
  it('appends started and timeout under a held lease, in the order given, before the outcome', async () => {
    const lease = await claimOne();
    const result = await stores.jobs.recordEvents({
      events: [
        { ...lease, kind: 'started', attempt: 1, data: { runnerId: 'r' } },
        { ...lease, kind: 'timeout', attempt: 1, data: { timeoutMs: 50 } },
      ],
    });
    expect(result).toEqual({ recorded: 2, fenced: 0 });
    await stores.jobs.fail({ ...lease, error: { code: 'JOB_TIMEOUT', message: 'timed out' } });
    expect(await history(lease.jobId)).toEqual([
      { kind: 'created', attempt: 0, lease_id: null, data: null },
      { kind: 'claimed', attempt: 1, lease_id: lease.leaseId, data: null },
      { kind: 'started', attempt: 1, lease_id: lease.leaseId, data: { runnerId: 'r' } },
      { kind: 'timeout', attempt: 1, lease_id: lease.leaseId, data: { timeoutMs: 50 } },
      expect.objectContaining({ kind: 'failed', attempt: 1, lease_id: lease.leaseId }),
    ]);
  });

  it('fences started and timeout of a lease no longer held, but keeps lease-lost', async () => {
    const lease = await claimOne();
    await stores.jobs.resetStalled(lease);
    const result = await stores.jobs.recordEvents({
      events: [
        { ...lease, kind: 'started', attempt: 1 },
        { ...lease, kind: 'timeout', attempt: 1 },
        { ...lease, kind: 'lease-lost', attempt: 1, data: { runnerId: 'r' } },
        { jobId: lease.jobId, leaseId: 'not-a-lease', kind: 'started', attempt: 1 },
      ],
    });
    expect(result).toEqual({ recorded: 1, fenced: 3 });
    expect((await history(lease.jobId)).map((e) => e.kind)).toEqual([
      'created',
      'claimed',
      'reset',
      'lease-lost',
    ]);
  });

  it('appends events given to completeMany before the completions, fenced the same way', async () => {
    const held = await claimOne();
    const stale = await claimOne();
    await stores.jobs.resetStalled(stale);
    const out = await stores.jobs.completeMany({
      items: [{ ...held, result: 1 }],
      events: [
        { ...held, kind: 'started', attempt: 1 },
        { ...stale, kind: 'started', attempt: 1 },
      ],
    });
    expect(out.completed).toEqual([held.jobId]);
    expect((await history(held.jobId)).map((e) => e.kind)).toEqual([
      'created',
      'claimed',
      'started',
      'completed',
    ]);
    expect((await history(stale.jobId)).map((e) => e.kind)).toEqual([
      'created',
      'claimed',
      'reset',
    ]);
  });

  it('keeps the events of jobs running on beside a completion batch, and fences one whose completion is refused', async () => {
    const done = await claimOne();
    const running = await claimOne();
    const refused = await claimOne();
    const staleLease = crypto.randomUUID();
    const out = await stores.jobs.completeMany({
      items: [
        { ...done, result: 1 },
        { jobId: refused.jobId, leaseId: staleLease, result: 2 },
      ],
      events: [
        { ...done, kind: 'started', attempt: 1 },
        { jobId: done.jobId, leaseId: staleLease, kind: 'timeout', attempt: 1 },
        { ...running, kind: 'started', attempt: 1 },
        { jobId: refused.jobId, leaseId: staleLease, kind: 'started', attempt: 1 },
      ],
    });
    expect(out).toMatchObject({ completed: [done.jobId], lost: [refused.jobId] });
    const kinds = async (id: string) => (await history(id)).map((e) => e.kind);
    expect(await kinds(done.jobId)).toEqual(['created', 'claimed', 'started', 'completed']);
    expect(await kinds(running.jobId)).toEqual(['created', 'claimed', 'started']);
    expect(await kinds(refused.jobId)).toEqual(['created', 'claimed']);
  });

  it('writes nothing for an empty list', async () => {
    expect(await stores.jobs.recordEvents({ events: [] })).toEqual({ recorded: 0, fenced: 0 });
  });

  const anyJob = () => crypto.randomUUID();
  it.each([
    ['events not an array', { events: 'x' }, 'events'],
    [
      'a job id that is not a UUID',
      { events: [{ jobId: 'nope', leaseId: 'l', kind: 'started', attempt: 1 }] },
      'events[0].jobId',
    ],
    ['an event that is null', { events: [null] }, 'events[0]'],
    [
      'a lease id that is not a string, in the second event',
      {
        events: [
          { jobId: anyJob(), leaseId: 'l', kind: 'started', attempt: 1 },
          { jobId: anyJob(), leaseId: 7, kind: 'started', attempt: 1 },
        ],
      },
      'events[1].leaseId',
    ],
    [
      'a fractional attempt',
      { events: [{ jobId: anyJob(), leaseId: 'l', kind: 'started', attempt: 1.5 }] },
      'events[0].attempt',
    ],
    [
      'an unknown kind',
      { events: [{ jobId: anyJob(), leaseId: 'l', kind: 'finished', attempt: 1 }] },
      'events[0].kind',
    ],
    [
      'attempt 0',
      { events: [{ jobId: anyJob(), leaseId: 'l', kind: 'started', attempt: 0 }] },
      'events[0].attempt',
    ],
    [
      'data that is not JSON, in the second event',
      {
        events: [
          { jobId: anyJob(), leaseId: 'l', kind: 'started', attempt: 1 },
          { jobId: anyJob(), leaseId: 'l', kind: 'started', attempt: 1, data: { n: 1n } },
        ],
      },
      'events[1].data.n',
    ],
  ])(
    'refuses %s with a ValidationError naming the field, writing nothing',
    async (_what, params, field) => {
      await claimOne();
      const before = await rowCounts(db().pool);
      const call = stores.jobs.recordEvents(params as never);
      await expect(call).rejects.toBeInstanceOf(ValidationError);
      await expect(call).rejects.toMatchObject({ field });
      expect(await rowCounts(db().pool)).toEqual(before);
    },
  );
});
