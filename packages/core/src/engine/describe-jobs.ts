import { NotFoundError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { Job } from '../job.js';
import { getManyOf } from './batch-io.js';
import type { JobDescription } from './engine-types.js';
import type { EngineContext } from './step-work.js';

/**
 * The description of `job` given its execution (see `Engine.describeJob`). Throws
 * `NotFoundError` when this engine does not know the execution's flow or the job's step.
 */
export function describeWith(ctx: EngineContext, job: Job, execution: Execution): JobDescription {
  const flow = ctx.flows.get(execution.flowId, execution.flowVersion);
  const step = flow.steps[job.stepId ?? ''];
  if (step === undefined) throw new NotFoundError('step', `${flow.id}/${job.stepId}`);
  return { execution, step, flow };
}

/**
 * `Engine.describeJobs`: reads the executions of the stateful jobs among `jobs` with one
 * `executions.getMany` (one `get` per execution when the store lacks it) and describes
 * each. Plain jobs and jobs whose execution is gone are left out; so is a job whose flow or
 * step this engine does not know, with the error logged (`warn`), so that one unknown flow
 * does not fail the others' descriptions.
 */
export async function describeJobs(
  ctx: EngineContext,
  jobs: readonly Job[],
): Promise<Map<string, JobDescription>> {
  const stateful = jobs.filter((job) => job.executionId !== null && job.stepId !== null);
  const described = new Map<string, JobDescription>();
  if (stateful.length === 0) return described;
  const ids = stateful.map((job) => job.executionId as string);
  const executions = new Map((await getManyOf(ctx.stores.executions, ids)).map((e) => [e.id, e]));
  for (const job of stateful) {
    const execution = executions.get(job.executionId as string);
    if (execution === undefined) continue;
    try {
      described.set(job.id, describeWith(ctx, job, execution));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      ctx.log.warn(
        { err: error, jobId: job.id, executionId: execution.id },
        'cannot describe a job: this engine does not know its flow or step',
      );
    }
  }
  return described;
}
