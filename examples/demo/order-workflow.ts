/**
 * The demo's order workflow, shared by the demo's main process (which starts executions)
 * and its worker processes (which run the stateful payment step).
 *
 *   validate (inline) ─▶ charge (stateful job) ─▶ ship (inline) ─▶ completed
 *                              │ failure (declined, timed out, out of attempts)
 *                              ▼
 *                        release-stock (inline) ─▶ failed, with the payment error
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  defineFlow,
  type Flow,
  NonRetryableError,
  Result,
  type StepHandler,
} from '@flowmonkey/core';

/** What a demo order looks like. `card` picks how the fake payment gateway behaves. */
export interface Order {
  id: string;
  amountCents: number;
  /** `ok` pays; `flaky` fails twice then pays; `declined` is refused; `slow` never answers in time. */
  card: 'ok' | 'flaky' | 'declined' | 'slow';
}

interface Charge {
  orderId: string;
  amountCents: number;
  card: Order['card'];
}

const validateOrder: StepHandler<Order> = {
  type: 'validate-order',
  metadata: { description: 'Checks the order before any money moves (inline).' },
  async execute({ input }) {
    if (!(input.amountCents > 0)) {
      return Result.failure({ code: 'BAD_AMOUNT', message: 'amount must be positive' });
    }
    return Result.success({ orderId: input.id, amountCents: input.amountCents, card: input.card });
  },
};

/** A fake payment gateway call: runs as a job in a worker process, with progress. */
const chargePayment: StepHandler<Charge> = {
  type: 'charge-payment',
  metadata: {
    description: 'Charges the card through the (fake) payment gateway.',
    stateful: true,
    defaultMaxAttempts: 3,
    timeoutMs: 1500,
    retry: { strategy: 'FIXED', baseDelayMs: 400, jitter: false },
  },
  async execute({ input, signal, job }) {
    const attempt = job?.attempt ?? 1;
    for (let percent = 25; percent <= 100; percent += 25) {
      await sleep(input.card === 'slow' ? 1000 : 60 + Math.random() * 90, undefined, { signal });
      await job?.progress(percent, `talking to the gateway (${percent}%)`);
    }
    if (input.card === 'declined') {
      throw new NonRetryableError('the card was declined', { code: 'CARD_DECLINED' });
    }
    if (input.card === 'flaky' && attempt < 3) {
      throw Object.assign(new Error(`gateway timeout on attempt ${attempt}`), {
        code: 'GATEWAY_UNAVAILABLE',
      });
    }
    return Result.success({ chargeId: `ch_${input.orderId}`, attempt });
  },
};

const shipOrder: StepHandler<string> = {
  type: 'ship-order',
  metadata: { description: 'Books the parcel (inline).' },
  async execute({ input }) {
    return Result.success({ trackingNumber: `TRK-${input}` });
  },
};

/** The failure branch: put the stock back, then fail the order with the payment's error. */
const releaseStock: StepHandler = {
  type: 'release-stock',
  metadata: { description: 'Compensates a failed payment (inline).' },
  async execute({ execution }) {
    const failed = [...execution.history].reverse().find((record) => record.error !== null);
    return Result.failure({
      code: failed?.error?.code ?? 'PAYMENT_FAILED',
      message: `payment failed, stock released: ${failed?.error?.message ?? 'unknown error'}`,
    });
  },
};

/** Every handler of the order workflow. */
export const orderHandlers: StepHandler[] = [
  validateOrder as StepHandler,
  chargePayment as StepHandler,
  shipOrder as StepHandler,
  releaseStock,
];

/** The order workflow. */
export const orderFlow: Flow = defineFlow({
  id: 'order',
  version: 1,
  initialStepId: 'validate',
  steps: {
    validate: { type: 'validate-order', input: 'input', transitions: { onSuccess: 'charge' } },
    charge: {
      type: 'charge-payment',
      input: 'validate',
      transitions: { onSuccess: 'ship', onFailure: 'releaseStock' },
    },
    ship: { type: 'ship-order', input: 'validate.orderId' },
    releaseStock: { type: 'release-stock' },
  },
});
