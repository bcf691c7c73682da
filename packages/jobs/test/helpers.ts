import type { FlowMonkeyEventName, Job, JobStore } from '@flowmonkey/core';
import { createMemoryStores, EventBus, ManualClock, noopLogger } from '@flowmonkey/core';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import type { BasicJobRunnerOptions } from '../src/runner-options.js';

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves when `signal` aborts, rejecting with its reason (what a well-behaved handler does). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Records every job event emitted on `bus` as `name:jobId`. */
export function recordEvents(bus: EventBus): string[] {
  const seen: string[] = [];
  const names: FlowMonkeyEventName[] = [
    'job:claimed',
    'job:started',
    'job:progress',
    'job:completed',
    'job:failed',
    'job:retrying',
    'job:cancelled',
    'job:timeout',
    'job:lease-lost',
  ];
  for (const name of names)
    bus.on(name, (p) => {
      seen.push(`${name}:${(p as { job: Job }).job.id}`);
    });
  return seen;
}

/** Memory stores on a manual clock plus a runner on them, quiet and deterministic. */
export function setup(options: Partial<BasicJobRunnerOptions> = {}) {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const events = new EventBus();
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    runnerId: 'runner-a',
    logger: noopLogger,
    clock,
    events,
    random: () => 0.5,
    ...options,
  });
  return { clock, stores, events, runner };
}

/** Wraps a store so `claimBatch` ignores the handler filter (to simulate a misbehaving claim). */
export function ignoringHandlerFilter(store: JobStore): JobStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimBatch') {
        return (params: Parameters<JobStore['claimBatch']>[0]) =>
          target.claimBatch({ ...params, handlers: undefined });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Fetches a job that must exist. */
export async function mustGet(store: JobStore, jobId: string): Promise<Job> {
  const job = await store.get(jobId);
  if (job === undefined) throw new Error(`job ${jobId} not found`);
  return job;
}
