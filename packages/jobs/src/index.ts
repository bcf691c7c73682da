/**
 * @flowmonkey/jobs: `BasicJobRunner` runs jobs (stateful workflow steps and plain
 * background jobs), `JobReaper` rescues jobs of dead runners, and the retry helpers
 * compute backoff delays and retry plain functions.
 */
export type { RetryPolicy, RetryStrategy } from '@flowmonkey/core';
export { isRetrying, JobPriority, NonRetryableError } from '@flowmonkey/core';
export type { StopOptions } from './basic-job-runner.js';
export { BasicJobRunner } from './basic-job-runner.js';
export type { ResolvedRetryPolicy } from './compute-retry-delay.js';
export {
  computeRetryDelay,
  DEFAULT_RETRY_POLICY,
  resolveRetryPolicy,
} from './compute-retry-delay.js';
export type { CronSpec } from './cron/cron-schedule.js';
export { CRON_HORIZON_MS, CronSchedule } from './cron/cron-schedule.js';
export type { FireCounts } from './cron/fire-schedule.js';
export type { TimeInput } from './cron/resolve-run-at.js';
export { resolveRunAt } from './cron/resolve-run-at.js';
export type { RedriveFilter } from './dead-letters.js';
export { DeadLetters } from './dead-letters.js';
export type {
  JobDefinition,
  SchemaInput,
  SchemaOutput,
  TypedJobContext,
  TypedJobHandler,
} from './define-job.js';
export { defineJob } from './define-job.js';
export type {
  ExecutionSweeperOptions,
  SweepCounts,
  SweptEngine,
} from './execution-sweeper.js';
export { ExecutionSweeper } from './execution-sweeper.js';
export type { JobEngine, JobHandlerRegistry, JobSettlement } from './job-engine.js';
export { JobFailedError } from './job-failed-error.js';
export type { JobStatusInfo, WaitOptions } from './job-handle.js';
export { JobHandle } from './job-handle.js';
export type {
  JobHandlerContext,
  JobHandlerFunction,
  JobHandlerOptions,
  JobHookContext,
  JobHooks,
  JobOutcome,
} from './job-handler.js';
export type { PruneCounts } from './job-pruner.js';
export { JobPruner } from './job-pruner.js';
export type { ReapCounts } from './job-reaper.js';
export { JobReaper } from './job-reaper.js';
export type { JobRegistryOptions, RegistrableJob } from './job-registry.js';
export { createJobRegistry, JobRegistry } from './job-registry.js';
export type {
  RecurringScheduleParams,
  ScheduleJobParams,
  SchedulerRunCounts,
  ScheduleWithFireTimes,
} from './job-scheduler.js';
export { JobScheduler } from './job-scheduler.js';
export { JobWaitTimeoutError } from './job-wait-timeout-error.js';
export type { JobWakeups } from './job-wakeups.js';
export { planRetry } from './plan-retry.js';
export type { JobPrunerOptions, ResolvedPrunerOptions } from './pruner-options.js';
export { resolvePrunerOptions } from './pruner-options.js';
export type { JobReaperOptions, ResolvedReaperOptions } from './reaper-options.js';
export { resolveReaperOptions } from './reaper-options.js';
export { RetryStrategies } from './retry-strategies.js';
export type { BatchItemResult, RunBatchOptions } from './run-batch.js';
export type {
  BasicJobRunnerOptions,
  ResolvedRunnerOptions,
  RunnerEnvOptions,
} from './runner-options.js';
export { resolveRunnerOptions, runnerOptionsFromEnv } from './runner-options.js';
export type { RunnerStats } from './runner-stats.js';
export type { JobSchedulerOptions, ResolvedSchedulerOptions } from './scheduler-options.js';
export { resolveSchedulerOptions } from './scheduler-options.js';
export type { ServiceOptions } from './service.js';
export { Service } from './service.js';
export type { SchemaIssue, StandardSchemaV1 } from './standard-schema.js';
export { isStandardSchema, validateWithSchema } from './standard-schema.js';
export type { BatchOptions, JobBinding, LaterOptions, NowOptions } from './typed-job.js';
export { TypedJob } from './typed-job.js';
export type { WithRetryOptions } from './with-retry.js';
export { withRetry } from './with-retry.js';
