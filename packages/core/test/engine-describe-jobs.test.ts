import { describe, expect, it } from 'vitest';
import { createMemoryStores, Engine, type Job, ManualClock, NotFoundError } from '../src/index.js';
import { benchFlow, benchHandlers, linesLogger, spyStores, twoJobsFlow } from './batch-fixtures.js';

async function setup(without: readonly string[] = []) {
  const clock = new ManualClock();
  const memory = createMemoryStores({ clock });
  const { stores, calls } = spyStores(memory, { without });
  const logged: string[] = [];
  const flows = [benchFlow, twoJobsFlow];
  const engine = new Engine({
    stores,
    clock,
    logger: linesLogger(logged),
    handlers: benchHandlers(),
    flows,
  });
  const a = await engine.start('bench', { i: 0 });
  const b = await engine.start('two-jobs', { i: 1 });
  await memory.jobs.create({ handler: 'email' });
  const jobs = await memory.jobs.claimBatch({ runnerId: 'r1', limit: 10 });
  for (const key of Object.keys(calls)) delete calls[key];
  const jobOf = (executionId: string | null) =>
    jobs.find((j) => j.executionId === executionId) as Job;
  return { memory, stores, calls, engine, logged, a, b, jobs, jobOf };
}

describe('Engine.describeJobs', () => {
  it('describes every stateful job with one getMany, as describeJob does', async () => {
    const { engine, calls, jobs, jobOf, a, b } = await setup();
    const described = await engine.describeJobs(jobs);
    expect(calls).toEqual({ 'executions.getMany': 1 });
    expect([...described.keys()].sort()).toEqual([jobOf(a.id).id, jobOf(b.id).id].sort());
    for (const job of [jobOf(a.id), jobOf(b.id)]) {
      expect(described.get(job.id)).toEqual(await engine.describeJob(job));
    }
    expect(described.get(jobOf(a.id).id)).toMatchObject({
      execution: { id: a.id, status: 'waiting' },
      step: { id: 'work', type: 'work' },
      flow: { id: 'bench' },
    });
    expect(described.has(jobOf(null).id)).toBe(false);
    expect(await engine.describeJobs([])).toEqual(new Map());
  });

  it('leaves out jobs whose execution is gone', async () => {
    const { engine, jobs, jobOf, a } = await setup();
    const orphan = { ...jobOf(a.id), id: 'orphan', executionId: 'no-such-execution' };
    const described = await engine.describeJobs([...jobs, orphan]);
    expect(described.has('orphan')).toBe(false);
    expect(described.size).toBe(2);
  });

  it('leaves out and logs a job whose flow this engine does not know, describing the rest', async () => {
    const { stores, jobs, jobOf, a, b } = await setup();
    const logged: string[] = [];
    const other = new Engine({
      stores,
      logger: linesLogger(logged),
      handlers: benchHandlers(),
      flows: [twoJobsFlow],
    });
    const described = await other.describeJobs(jobs);
    expect([...described.keys()]).toEqual([jobOf(b.id).id]);
    expect(logged).toEqual([
      'warn cannot describe a job: this engine does not know its flow or step',
    ]);
    await expect(other.describeJob(jobOf(a.id))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads one execution at a time from a store without getMany', async () => {
    const { engine, calls, jobs } = await setup(['executions.getMany']);
    const described = await engine.describeJobs(jobs);
    expect(described.size).toBe(2);
    expect(calls).toEqual({ 'executions.get': 2 });
  });
});
