import type { WorkloadParams } from './workload-types.js';

/** One row of the results table: a workload, its adapters and what it reports. */
export interface WorkloadPlan {
  id: string;
  title: string;
  adapters: string[];
  params: WorkloadParams;
  /** Metrics shown in the table, with their unit and whether higher is better. */
  metrics: { key: string; label: string; higherIsBetter: boolean }[];
  /** Metrics that get a ratio-to-graphile-worker column. @default the last metric */
  ratioKeys?: string[];
  /** Hard limit for one run, ms: the process is killed after it. */
  hardLimitMs: number;
}

const PEERS = ['flowmonkey', 'graphile-worker', 'pg-boss'];

/** The six workloads of issue 6, full size or `quick` (a smoke test well under 2 minutes). */
export function workloadPlans(quick: boolean): WorkloadPlan[] {
  const scale = (full: number, small: number) => (quick ? small : full);
  const base = { workers: 1, concurrency: 10, durationMs: 0, intervalMs: 0, deadlineMs: 60_000 };
  // The workflow workloads: n executions, after as many run untimed (see warmUpWorkflow).
  const executions = scale(5000, 500);
  const workflow = {
    ...base,
    kind: 'workflow' as const,
    n: executions,
    warmUp: executions,
    producers: 10,
  };
  const rate = (key: string, label: string) => ({ key, label, higherIsBetter: true });
  /** CPU per job (or execution), `workload-process`'s `cpuPerJob`: lower is better. */
  const cpu = (per: string) =>
    [
      ['workerCpuUs', `worker CPU µs/${per}`],
      ['postgresCpuUs', `PostgreSQL CPU µs/${per}`],
      ['cpuUs', `CPU µs/${per}, both`],
    ].map(([key = '', label = '']) => ({ key, label, higherIsBetter: false }));
  return [
    {
      id: 'drain',
      title: `drain: ${scale(20_000, 2000)} jobs, 1 process × 10`,
      adapters: PEERS,
      params: { ...base, kind: 'drain', n: scale(20_000, 2000), timeStored: true },
      metrics: [
        rate('enqueuePerSec', 'bulk enqueue jobs/s'),
        rate('processPerSec', 'jobs/s'),
        rate('storedPerSec', 'jobs/s, to the last stored outcome'),
        ...cpu('job'),
      ],
      ratioKeys: ['enqueuePerSec', 'processPerSec', 'storedPerSec', 'cpuUs'],
      hardLimitMs: 120_000,
    },
    {
      id: 'multiworker',
      title: `multiworker: ${scale(20_000, 2000)} jobs, 4 processes × 10`,
      adapters: PEERS,
      params: { ...base, kind: 'drain', n: scale(20_000, 2000), workers: 4, timeStored: true },
      metrics: [
        rate('processPerSec', 'jobs/s'),
        rate('storedPerSec', 'jobs/s, to the last stored outcome'),
        ...cpu('job'),
      ],
      ratioKeys: ['processPerSec', 'storedPerSec', 'cpuUs'],
      hardLimitMs: 120_000,
    },
    {
      id: 'insert',
      title: `insert: ${scale(5000, 500)} single enqueues, after ${scale(1000, 100)} untimed`,
      adapters: [...PEERS, 'plain-insert'],
      params: {
        ...base,
        kind: 'insert',
        n: scale(5000, 500),
        producers: 10,
        warmUp: scale(1000, 100),
      },
      metrics: [
        rate('oneByOnePerSec', 'one by one, jobs/s'),
        rate('tenProducersPerSec', '10 producers, jobs/s'),
      ],
      ratioKeys: ['oneByOnePerSec', 'tenProducersPerSec'],
      hardLimitMs: 120_000,
    },
    {
      id: 'latency',
      title: `latency: one job every 20 ms for ${scale(10, 2)} s`,
      adapters: PEERS,
      params: { ...base, kind: 'latency', n: 0, durationMs: scale(10_000, 2000), intervalMs: 20 },
      metrics: ['p50Ms', 'p95Ms', 'p99Ms', 'maxMs'].map((key) => ({
        key,
        label: `${key.slice(0, -2)} ms`,
        higherIsBetter: false,
      })),
      ratioKeys: ['p50Ms', 'p99Ms'],
      hardLimitMs: 60_000,
    },
    {
      id: 'workflow-1',
      title: `workflow: ${executions} executions of a 3-step flow, 1 worker process × 10, after as many untimed`,
      adapters: ['flowmonkey'],
      params: workflow,
      metrics: [
        rate('startPerSec', 'starts/s (10 producers)'),
        rate('executionsPerSec', 'executions/s'),
        ...cpu('execution'),
      ],
      hardLimitMs: 120_000,
    },
    {
      id: 'workflow-e2e',
      title: `workflow end to end: ${executions} executions started by 10 producers while 1 worker process × 10 runs them, after as many untimed`,
      adapters: ['flowmonkey'],
      params: { ...workflow, endToEnd: true },
      metrics: [
        rate('startPerSec', 'starts/s (10 producers)'),
        rate('executionsPerSec', 'executions/s, first start to last finish'),
      ],
      hardLimitMs: 120_000,
    },
    {
      id: 'workflow-4',
      title: `workflow: ${executions} executions, 4 worker processes × 10, after as many untimed`,
      adapters: ['flowmonkey'],
      params: { ...workflow, workers: 4 },
      metrics: [rate('executionsPerSec', 'executions/s'), ...cpu('execution')],
      hardLimitMs: 120_000,
    },
    {
      id: 'memory',
      title: `memory: one worker process draining ${scale(100_000, 10_000)} jobs`,
      adapters: PEERS,
      params: {
        ...base,
        kind: 'drain',
        n: scale(100_000, 10_000),
        memory: true,
        deadlineMs: 150_000,
      },
      metrics: [
        rate('processPerSec', 'jobs/s'),
        { key: 'peakRssMb', label: 'peak RSS MB', higherIsBetter: false },
        { key: 'rssAt20pctMb', label: 'RSS at 20 % MB', higherIsBetter: false },
        { key: 'growthMb', label: 'RSS growth 20 %→end MB', higherIsBetter: false },
        { key: 'heapGrowthMb', label: 'heap after GC, growth 20 %→end MB', higherIsBetter: false },
      ],
      ratioKeys: ['processPerSec', 'peakRssMb'],
      hardLimitMs: 240_000,
    },
  ];
}
