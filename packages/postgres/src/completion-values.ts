import {
  assertJsonPayload,
  isUuid,
  type LeaseRef,
  type NormalizedRunnerEvent,
  ValidationError,
} from '@flowmonkey/core';

/** `completeMany`'s items as its SQL takes them ($1-$3), validated. */
export interface CompletionColumns {
  /** Lower-case job ids; `null` for an item whose job or lease id is not a UUID. */
  jobIds: (string | null)[];
  /** Lower-case lease ids, parallel to `jobIds`. */
  leaseIds: (string | null)[];
  /** Each item's result as JSON text. */
  results: string[];
}

/**
 * Checks the items of a batch completion and returns them as the three parallel arrays
 * of the `completeMany` SQL, in one pass: a `ValidationError` names the field of the
 * first bad item (`items[2].result`), before anything is sent. A string that is not a
 * UUID was never a lease: it is sent as `null`, matches no row and comes back lost.
 */
export function completionColumns(
  items: readonly (LeaseRef & { result: unknown })[],
  maxPayloadBytes: number,
): CompletionColumns {
  if (!Array.isArray(items)) throw new ValidationError('items', 'must be an array');
  const n = items.length;
  const out: CompletionColumns = {
    jobIds: new Array(n),
    leaseIds: new Array(n),
    results: new Array(n),
  };
  items.forEach((item, i) => {
    if (typeof item?.jobId !== 'string')
      throw new ValidationError(`items[${i}].jobId`, 'must be a string');
    if (typeof item.leaseId !== 'string')
      throw new ValidationError(`items[${i}].leaseId`, 'must be a string');
    out.results[i] = assertJsonPayload(item.result, `items[${i}].result`, {
      maxBytes: maxPayloadBytes,
    });
    const valid = isUuid(item.jobId) && isUuid(item.leaseId);
    out.jobIds[i] = valid ? item.jobId.toLowerCase() : null;
    out.leaseIds[i] = valid ? item.leaseId.toLowerCase() : null;
  });
  return out;
}

/**
 * Runner events as the five parallel arrays of the `recordEvents` / `completeMany` SQL. A
 * lease id that is not a UUID was never issued: its started/timeout events are fenced out,
 * and a lease-lost event is kept without it.
 */
export function eventColumns(events: readonly NormalizedRunnerEvent[]): unknown[] {
  return [
    events.map((e) => e.jobId),
    events.map((e) => (isUuid(e.leaseId) ? e.leaseId : null)),
    events.map((e) => e.kind),
    events.map((e) => e.attempt),
    events.map((e) => e.data),
  ];
}
