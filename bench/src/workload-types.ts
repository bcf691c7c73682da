/** What a workload process is told to do. */
export interface WorkloadParams {
  kind: 'drain' | 'insert' | 'latency' | 'workflow';
  /** Jobs (or executions) in the workload. */
  n: number;
  /** Worker processes. */
  workers: number;
  /** Jobs at once per worker process. */
  concurrency: number;
  /** Concurrent producers (insert, workflow starts). */
  producers?: number;
  /**
   * Workflow workload: start the executions while the workers run (timed from the first
   * start to the last execution finished), instead of all of them before the workers start.
   */
  endToEnd?: boolean;
  /**
   * Untimed work before the timed: insert, enqueues made one by one; workflow, executions
   * run to completion in the workload process (then VACUUM ANALYZE, unless `analyze` is
   * false).
   */
  warmUp?: number;
  /** Latency workload: how long jobs are sent, and how often. */
  durationMs: number;
  intervalMs: number;
  /** Report memory samples (memory workload). */
  memory?: boolean;
  /**
   * Drain workloads: also time to the last stored outcome, polling the database for
   * unfinished jobs (adapters with an `unfinishedSql`) from 90 % of the handler starts on.
   */
  timeStored?: boolean;
  /** ANALYZE after the bulk enqueue, VACUUM ANALYZE after the workflow warm-up (default true). */
  analyze?: boolean;
  /** How long to wait for the workers before giving up (soft; the parent kills at the hard limit). */
  deadlineMs: number;
}

/** What a workload process reports. */
export interface WorkloadResult {
  metrics: Record<string, number>;
  /** Exactly-once check; `null` where no job runs (insert). */
  check: { expected: number; runs: number; duplicates: number; missing: number } | null;
  settings: Record<string, unknown>;
}
