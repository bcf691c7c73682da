import type {
  Execution,
  FlowStep,
  HandlerParams,
  Job,
  JobContext,
  Logger,
  StepHandler,
  StepResult,
} from '@flowmonkey/core';
import { Result } from '@flowmonkey/core';
import type { JobEngine, JobEngineDescription } from './job-engine.js';
import type { JobHandlerContext, RegisteredJobHandler } from './job-handler.js';

/**
 * Calls a registered handler for one attempt and returns its outcome as a `StepResult`.
 * A plain function's return value becomes a success. A `StepHandler` of a stateful job
 * receives the execution and step from `prefetched` (the runner's description of its
 * claimed batch) or else `engine.describeJob`, and the step's `config`; a `StepHandler`
 * running a plain background job (or without an engine) receives a stand-in execution (see
 * {@link standInFor}). Throws whatever the handler throws.
 */
export async function invokeHandler(
  handler: RegisteredJobHandler,
  context: JobHandlerContext,
  engine: JobEngine | undefined,
  prefetched?: JobEngineDescription,
): Promise<StepResult> {
  if (handler.fn !== undefined) {
    return Result.success(await handler.fn(context.job.input, context));
  }
  const step = handler.step as StepHandler;
  const job = context.job;
  let described: { execution: Execution; step: FlowStep } | undefined;
  if (engine !== undefined && job.executionId !== null) {
    described = prefetched ?? (await engine.describeJob(job));
    if (described === undefined) {
      return Result.failure({
        code: 'EXECUTION_NOT_FOUND',
        message: `job "${job.id}": execution "${job.executionId}" or its step "${job.stepId}" is gone`,
        retryable: false,
      });
    }
  }
  const { execution, step: flowStep } = described ?? standInFor(job);
  return step.execute(new StepJobParams(context, execution, flowStep));
}

/**
 * What a `StepHandler` running as a job receives. Like the runner's context, `signal` and
 * `log` are accessors made on first use (a step handler that reads neither costs no abort
 * controller or child logger), so a spread copy does not carry them.
 */
class StepJobParams implements HandlerParams {
  readonly input: unknown;
  readonly config: unknown;
  readonly execution: Readonly<Execution>;
  readonly step: Readonly<FlowStep>;
  readonly job: JobContext;
  readonly #context: JobHandlerContext;

  constructor(context: JobHandlerContext, execution: Execution, step: FlowStep) {
    this.input = context.job.input;
    this.config = step.config;
    this.execution = execution;
    this.step = step;
    this.job = {
      job: context.job,
      attempt: context.attempt,
      heartbeat: context.heartbeat,
      progress: context.progress,
    };
    this.#context = context;
  }

  get signal(): AbortSignal {
    return this.#context.signal;
  }

  get log(): Logger {
    return this.#context.log;
  }
}

/**
 * The execution and step a `StepHandler` sees when its job has no execution behind it: an
 * execution with the job's id, status `running` and context `{ input }`, and a step whose
 * id is the job's `stepId` (or handler type) and whose `config` is undefined.
 */
export function standInFor(job: Readonly<Job>): { execution: Execution; step: FlowStep } {
  const stepId = job.stepId ?? job.handler;
  const execution: Execution = {
    id: job.executionId ?? job.id,
    flowId: '',
    flowVersion: 0,
    status: 'running',
    currentStepId: stepId,
    input: job.input,
    context: { input: job.input },
    output: null,
    error: null,
    history: [],
    stepCount: 0,
    waitingOn: null,
    wakeAt: null,
    idempotencyKey: null,
    tenantId: null,
    parentExecutionId: null,
    version: 0,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
  return { execution, step: { id: stepId, type: job.handler } };
}
