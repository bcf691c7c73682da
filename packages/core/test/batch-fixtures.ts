/**
 * Fixtures of the batch settlement tests: the benchmark's three-step flow, stores that
 * count their calls (inside transactions too) and can run a hook before a call, and a
 * recorder of each execution's events.
 */
import {
  createMemoryStores,
  defineFlow,
  Engine,
  type Execution,
  type FlowMonkeyEventName,
  type Job,
  type JobBatchSettlement,
  type JobSettlement,
  type Logger,
  ManualClock,
  type MemoryStores,
  Result,
  type StepHandler,
  type StoreSet,
  type Stores,
} from '../src/index.js';

/** prepare (inline) → work (stateful, a job) → finish (inline), as in bench/. */
export const benchFlow = defineFlow({
  id: 'bench',
  initialStepId: 'prepare',
  steps: {
    prepare: { type: 'prepare', input: 'input', transitions: { onSuccess: 'work' } },
    work: { type: 'work', input: 'prepare', transitions: { onSuccess: 'finish' } },
    finish: { type: 'finish', input: 'work', transitions: { onFailure: 'refund' } },
    refund: { type: 'refund', input: 'work' },
  },
});

/** work (stateful) → again (stateful) → finish: two jobs in a row. */
export const twoJobsFlow = defineFlow({
  id: 'two-jobs',
  initialStepId: 'work',
  steps: {
    work: { type: 'work', input: 'input', transitions: { onSuccess: 'again' } },
    again: { type: 'work', input: 'work', transitions: { onSuccess: 'finish' } },
    finish: { type: 'finish', input: 'again' },
  },
});

/** work (stateful) → pause (a timed wait) → finish; only two steps may start. */
export const waitFlow = defineFlow({
  id: 'wait',
  initialStepId: 'work',
  steps: {
    work: { type: 'work', input: 'input', transitions: { onSuccess: 'pause' } },
    pause: { type: 'pause', transitions: { onSuccess: 'finish' } },
    finish: { type: 'finish', input: 'work' },
  },
});

/** The same three steps with `maxSteps: 2`: the step limit stops it before `finish`. */
export const limitFlow = defineFlow({
  id: 'limit',
  initialStepId: 'work',
  maxSteps: 2,
  steps: {
    work: { type: 'work', input: 'input', transitions: { onSuccess: 'prepare' } },
    prepare: { type: 'prepare', input: 'work', transitions: { onSuccess: 'finish' } },
    finish: { type: 'finish', input: 'work' },
  },
});

/** The handlers of these flows. `finish` throws for `{ i }` with `i` in `failFor`. */
export function benchHandlers(failFor: ReadonlySet<number> = new Set()): StepHandler[] {
  return [
    {
      type: 'prepare',
      metadata: {},
      execute: async ({ input }) => Result.success({ ...(input as object), prepared: true }),
    },
    { type: 'work', metadata: { stateful: true }, execute: async () => Result.success(null) },
    {
      type: 'finish',
      metadata: {},
      execute: async ({ input }) => {
        const i = (input as { i: number }).i;
        if (failFor.has(i)) throw new Error(`finish ${i} failed`);
        return Result.success({ done: i });
      },
    },
    { type: 'refund', metadata: {}, execute: async () => Result.success('refunded') },
    {
      type: 'pause',
      metadata: {},
      execute: async () => Result.wait({ until: Date.UTC(2030, 0, 1), reason: 'sleep' }),
    },
  ];
}

/** What the runner's `work` handler returns for a job. */
export function workResult(job: Job): unknown {
  const input = job.input as { i: number } | null;
  return { i: input?.i ?? -1, worked: true };
}

/** The items of `completeJobs` / `completeJob` for claimed `jobs`. */
export function itemsFor(jobs: readonly Job[], result = workResult) {
  return jobs.map((job) => ({
    jobId: job.id,
    leaseId: job.leaseId as string,
    result: result(job),
  }));
}

/** Call counts by `store.method` (`executions.updateMany`, `transaction`). */
export type CallCounts = Record<string, number>;

/** A hook run before `store.method` with its arguments; may throw or write elsewhere. */
export type BeforeCall = (method: string, args: unknown[]) => Promise<void> | void;

/**
 * `memory` with every call of its execution and job stores counted (inside transactions
 * too), `before` run first, and the methods in `without` (e.g. `executions.getMany`)
 * hidden, as a store that lacks them.
 */
export function spyStores(
  memory: MemoryStores,
  options: { without?: readonly string[]; before?: BeforeCall } = {},
): { stores: Stores; calls: CallCounts } {
  const calls: CallCounts = {};
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const wrap = <T extends object>(inner: T, store: string): T =>
    new Proxy(inner, {
      get(target, prop, receiver) {
        const name = `${store}.${String(prop)}`;
        if (options.without?.includes(name)) return undefined;
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          count(name);
          await options.before?.(name, args);
          return value.apply(target, args);
        };
      },
    });
  const set = (tx: StoreSet): StoreSet => ({
    executions: wrap(tx.executions, 'executions'),
    jobs: wrap(tx.jobs, 'jobs'),
  });
  const outer = set(memory);
  const stores: Stores = {
    ...outer,
    schedules: memory.schedules,
    transaction: (fn) => {
      count('transaction');
      return memory.transaction((tx) => fn(set(tx)));
    },
  };
  return { stores, calls };
}

const EVENT_NAMES: FlowMonkeyEventName[] = [
  'step:started',
  'step:completed',
  'step:failed',
  'execution:waiting',
  'execution:resumed',
  'execution:completed',
  'execution:failed',
  'execution:cancelled',
  'job:created',
];

/** Records the engine's events per execution id, as `name stepId`. */
export function recordEvents(engine: Engine): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const name of EVENT_NAMES) {
    engine.events.on(name, (payload) => {
      const p = payload as { execution?: Execution; job?: Job; stepId?: string };
      const id = p.execution?.id ?? p.job?.executionId ?? '?';
      const list = seen.get(id) ?? [];
      list.push(p.stepId === undefined ? name : `${name} ${p.stepId}`);
      seen.set(id, list);
    });
  }
  return seen;
}

/** An execution with its ids (its own, wherever it appears, and its jobs') replaced, to compare two runs. */
export function comparable(execution: Execution | undefined): unknown {
  if (execution === undefined) return undefined;
  const { id, ...fields } = execution;
  const rest = JSON.parse(JSON.stringify(fields).replaceAll(id, '<id>')) as typeof fields;
  return {
    ...rest,
    history: execution.history.map((r) => ({ ...r, jobId: r.jobId === null ? null : 'job' })),
    waitingOn: execution.waitingOn === null ? null : { ...execution.waitingOn, jobId: 'job' },
  };
}

/** A logger that keeps the messages of `warn` and `error` lines. */
export function linesLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_obj, msg) => {
      lines.push(`warn ${msg ?? ''}`);
    },
    error: (_obj, msg) => {
      lines.push(`error ${msg ?? ''}`);
    },
    child: () => logger,
  };
  return logger;
}

/** Options of {@link setupBatch}. */
export interface SetupOptions {
  failFor?: ReadonlySet<number>;
  without?: readonly string[];
  before?: BeforeCall;
  maxPayloadBytes?: number;
  handlers?: StepHandler[];
}

/**
 * Memory stores (counted, see {@link spyStores}), an engine with the fixture flows and its
 * recorded events, and `start(n, flowId)` that starts `n` executions and claims their jobs
 * in start order.
 */
export function setupBatch(options: SetupOptions = {}) {
  const clock = new ManualClock();
  const memory = createMemoryStores({ clock });
  const { stores, calls } = spyStores(memory, options);
  const logged: string[] = [];
  const engine = new Engine({
    stores,
    clock,
    logger: linesLogger(logged),
    handlers: options.handlers ?? benchHandlers(options.failFor),
    flows: [benchFlow, twoJobsFlow, waitFlow, limitFlow],
    ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
  });
  const seen = recordEvents(engine);
  const start = async (n: number, flowId = 'bench') => {
    const started: Execution[] = [];
    for (let i = 0; i < n; i++) started.push(await engine.start(flowId, { i }));
    const jobs = await memory.jobs.claimBatch({ runnerId: 'r1', limit: 1000 });
    // In start order, so that item i belongs to execution i.
    const order = new Map(started.map((e, i) => [e.id, i]));
    jobs.sort(
      (a, b) => (order.get(a.executionId ?? '') ?? 0) - (order.get(b.executionId ?? '') ?? 0),
    );
    for (const key of Object.keys(calls)) delete calls[key];
    return { started, jobs };
  };
  return { clock, memory, stores, calls, engine, seen, logged, start };
}

/** The settlement of an `ok` batch result; throws for anything else. */
export function settlementOf(r: JobBatchSettlement | undefined): JobSettlement {
  if (r === undefined || !r.ok) throw new Error(`not settled: ${r?.ok === false ? r.error : r}`);
  return r.settlement;
}
