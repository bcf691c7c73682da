/**
 * The engine's two sweeps, `Engine.wakeDue` and `Engine.recoverStale` (see their doc
 * comments). Internal to the engine.
 */
import { ConfigError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { StepOutcome } from './engine-types.js';
import type { Resumer } from './resumer.js';
import type { EngineContext, StepRunner } from './step-runner.js';

/** Running executions read per page by `recoverStale`. */
const RECOVERY_PAGE = 100;

/** The outcome a timed wait resumes with: a success without output. */
const SLEPT: StepOutcome = { kind: 'success', output: null };

/** `Engine.wakeDue`: resumes due timed waits; returns how many it resumed. */
export async function wakeDue(
  ctx: EngineContext,
  resumer: Resumer,
  options: { limit?: number; now?: number },
): Promise<number> {
  const due = await ctx.stores.executions.listDueWakeups({
    limit: options.limit ?? 100,
    now: options.now,
  });
  let woken = 0;
  for (const seen of due) {
    if (seen.waitingOn === null) continue;
    const params = { stepId: seen.waitingOn.stepId, jobId: null, outcome: SLEPT };
    try {
      // Only the wait that was seen due: if the execution moved on since, leave it alone.
      const result = await resumer.resume(seen.id, params, (e) => e.version === seen.version);
      if (result.resumed) woken++;
    } catch (error) {
      ctx.log.error({ err: error, executionId: seen.id }, 'waking a timed wait failed');
    }
  }
  return woken;
}

/** `Engine.recoverStale`: runs stale `running` executions again; returns how many it ran. */
export async function recoverStale(
  ctx: EngineContext,
  runner: StepRunner,
  options: { olderThanMs: number; limit?: number; now?: number },
): Promise<number> {
  if (!Number.isFinite(options.olderThanMs) || options.olderThanMs < 0) {
    throw new ConfigError('olderThanMs', 'must be a non-negative number of milliseconds');
  }
  const limit = options.limit ?? 100;
  const cutoff = (options.now ?? ctx.clock.now()) - options.olderThanMs;
  const stale: Execution[] = [];
  for (let offset = 0; stale.length < limit; offset += RECOVERY_PAGE) {
    const page = await ctx.stores.executions.list({
      status: 'running',
      limit: RECOVERY_PAGE,
      offset,
    });
    stale.push(...page.filter((e) => e.updatedAt <= cutoff).slice(0, limit - stale.length));
    if (page.length < RECOVERY_PAGE) break;
  }
  let recovered = 0;
  for (const execution of stale) {
    try {
      await runner.advance(execution);
      recovered++;
    } catch (error) {
      ctx.log.error({ err: error, executionId: execution.id }, 'recovering an execution failed');
    }
  }
  return recovered;
}
