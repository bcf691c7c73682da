/**
 * An order flow on the in-memory stores: an inline step, a stateful step (run as a job) and
 * a failure branch. This script plays the job runner's part by hand (claim the job, run its
 * handler, settle it) so every transition is visible. Run it with:
 *
 *   npx tsx examples/order-flow-memory.ts
 */
import {
  createMemoryStores,
  defineFlow,
  Engine,
  noopLogger,
  Result,
  type StepHandler,
  toErrorInfo,
} from '@flowmonkey/core';

interface Order {
  id: string;
  amountCents: number;
  card: string;
}

const validateOrder: StepHandler<Order> = {
  type: 'validate-order',
  metadata: { description: 'Checks the order before money moves (inline).' },
  async execute({ input }) {
    if (input.amountCents <= 0)
      return Result.failure({ code: 'BAD_AMOUNT', message: 'amount must be positive' });
    return Result.success({ orderId: input.id, amountCents: input.amountCents, card: input.card });
  },
};

const chargeCard: StepHandler<{ card: string; amountCents: number }> = {
  type: 'charge-card',
  metadata: {
    stateful: true,
    defaultMaxAttempts: 1,
    description: 'Talks to the payment gateway (a job).',
  },
  async execute({ input }) {
    if (input.card === '4000-0000-0000-0002') {
      return Result.failure({ code: 'CARD_DECLINED', message: 'the card was declined' });
    }
    return Result.success({ chargeId: `ch_${input.amountCents}` });
  },
};

const shipOrder: StepHandler<string> = {
  type: 'ship-order',
  metadata: {},
  async execute({ input }) {
    return Result.success({ shipped: true, chargeId: input });
  },
};

const notifyDecline: StepHandler<string> = {
  type: 'notify-decline',
  metadata: {},
  async execute({ input }) {
    return Result.success({ emailed: input, template: 'payment-declined' });
  },
};

const orderFlow = defineFlow({
  id: 'order',
  initialStepId: 'validate',
  steps: {
    validate: { type: 'validate-order', input: 'input', transitions: { onSuccess: 'charge' } },
    charge: {
      type: 'charge-card',
      input: 'validate',
      transitions: { onSuccess: 'ship', onFailure: 'notifyDecline' },
    },
    ship: { type: 'ship-order', input: 'charge.chargeId' },
    notifyDecline: { type: 'notify-decline', input: 'input.id' },
  },
});

const stores = createMemoryStores();
const engine = new Engine({
  stores,
  handlers: [validateOrder, chargeCard, shipOrder, notifyDecline],
  flows: [orderFlow],
});

const short = (id: string) => id.slice(-6);
engine.events.on('execution:started', ({ execution }) =>
  console.log(`[${short(execution.id)}] started`),
);
engine.events.on('step:started', ({ execution, stepId }) =>
  console.log(`[${short(execution.id)}]   step ${stepId} started`),
);
engine.events.on('step:completed', ({ execution, stepId, output }) =>
  console.log(`[${short(execution.id)}]   step ${stepId} completed: ${JSON.stringify(output)}`),
);
engine.events.on('step:failed', ({ execution, stepId, error }) =>
  console.log(`[${short(execution.id)}]   step ${stepId} failed: ${error.code} ${error.message}`),
);
engine.events.on('execution:waiting', ({ execution, stepId, jobId }) =>
  console.log(
    `[${short(execution.id)}] waiting in ${stepId} on job ${jobId === null ? '-' : short(jobId)}`,
  ),
);
engine.events.on('execution:resumed', ({ execution, stepId }) =>
  console.log(`[${short(execution.id)}] resumed from ${stepId}`),
);
engine.events.on('execution:completed', ({ execution }) =>
  console.log(`[${short(execution.id)}] completed: ${JSON.stringify(execution.output)}`),
);
engine.events.on('execution:failed', ({ execution, error }) =>
  console.log(`[${short(execution.id)}] failed: ${error.code}`),
);

/** The runner's part, by hand: claim due jobs, run each handler, settle it with the engine. */
async function runJobsOnce(): Promise<void> {
  for (const job of await stores.jobs.claimBatch({ runnerId: 'example-runner', limit: 10 })) {
    if (job.leaseId === null) continue;
    const lease = { jobId: job.id, leaseId: job.leaseId };
    console.log(`  runner: claimed job ${short(job.id)} (${job.handler}, attempt ${job.attempts})`);
    const described = await engine.describeJob(job);
    if (described === undefined) continue;
    const handler = engine.handlers.get(job.handler);
    try {
      const result = await handler.execute({
        input: job.input,
        config: described.step.config,
        execution: described.execution,
        step: described.step,
        signal: new AbortController().signal,
        log: noopLogger,
      });
      if (result.kind === 'success') await engine.completeJob({ ...lease, result: result.output });
      // A real runner would retry a retryable failure (retryAt); this one fails at once.
      else if (result.kind === 'failure') await engine.failJob({ ...lease, error: result.error });
    } catch (error) {
      await engine.failJob({ ...lease, error: toErrorInfo(error) });
    }
  }
}

for (const order of [
  { id: 'order-1', amountCents: 2599, card: '4242-4242-4242-4242' },
  { id: 'order-2', amountCents: 1000, card: '4000-0000-0000-0002' },
]) {
  console.log(`\n== ${order.id}`);
  const execution = await engine.start('order', order);
  await runJobsOnce();
  const final = await engine.get(execution.id);
  console.log(
    `== ${order.id}: ${final?.status}, history: ${final?.history.map((r) => `${r.stepId}:${r.outcome}`).join(' -> ')}`,
  );
}
