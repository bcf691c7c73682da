/**
 * Typed errors. Every error FlowMonkey throws on purpose is a {@link FlowMonkeyError}
 * with a stable string `code`, so callers branch on `error.code` rather than on
 * message text. A wrapped error keeps the original as `cause`; messages of caught
 * errors are never rewritten.
 */

/** Options accepted by every FlowMonkey error. */
export interface FlowMonkeyErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown;
  /** Structured facts about the failure (field names, ids), safe to log. */
  details?: Record<string, unknown>;
}

/** Base class of every typed FlowMonkey error. */
export class FlowMonkeyError extends Error {
  /** Stable machine-readable code, e.g. `VALIDATION_ERROR`. */
  readonly code: string;
  /** Structured facts about the failure (field names, ids). */
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: FlowMonkeyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** An option or setting is invalid. `field` names it, e.g. `heartbeatIntervalMs`. */
export class ConfigError extends FlowMonkeyError {
  readonly field: string;
  constructor(field: string, message: string, options: FlowMonkeyErrorOptions = {}) {
    super('CONFIG_ERROR', `${field}: ${message}`, {
      ...options,
      details: { field, ...options.details },
    });
    this.field = field;
  }
}

/**
 * Input at a public boundary is invalid. `field` is a dotted path to the offending
 * value (`input.items[3]`, `priority`); nothing has been written when this is thrown.
 */
export class ValidationError extends FlowMonkeyError {
  readonly field: string;
  constructor(field: string, message: string, options: FlowMonkeyErrorOptions = {}) {
    super('VALIDATION_ERROR', `${field}: ${message}`, {
      ...options,
      details: { field, ...options.details },
    });
    this.field = field;
  }
}

/**
 * A flow definition is invalid. Names the flow, the step (when one is at fault)
 * and the field, e.g. `flow "order" step "pay": transitions.onSuccess: unknown step "ship"`.
 */
export class FlowDefinitionError extends FlowMonkeyError {
  readonly flowId: string;
  readonly stepId: string | undefined;
  readonly field: string;
  constructor(
    flowId: string,
    stepId: string | undefined,
    field: string,
    message: string,
    options: FlowMonkeyErrorOptions = {},
  ) {
    const where = stepId === undefined ? `flow "${flowId}"` : `flow "${flowId}" step "${stepId}"`;
    super('FLOW_DEFINITION_ERROR', `${where}: ${field}: ${message}`, {
      ...options,
      details: { flowId, stepId, field, ...options.details },
    });
    this.flowId = flowId;
    this.stepId = stepId;
    this.field = field;
  }
}

/** A thing looked up by id (execution, job, flow, handler, schedule) does not exist. */
export class NotFoundError extends FlowMonkeyError {
  readonly kind: string;
  readonly id: string;
  constructor(kind: string, id: string, options: FlowMonkeyErrorOptions = {}) {
    super('NOT_FOUND', `${kind} "${id}" not found`, { ...options, details: { kind, id } });
    this.kind = kind;
    this.id = id;
  }
}

/** Registering a second handler (or flow) under a type (or id) already taken. */
export class DuplicateError extends FlowMonkeyError {
  constructor(kind: string, id: string, options: FlowMonkeyErrorOptions = {}) {
    super('DUPLICATE', `${kind} "${id}" is already registered`, {
      ...options,
      details: { kind, id },
    });
  }
}

/**
 * A write to a running job was fenced out: the job no longer holds the lease id the
 * writer presented (it was reaped, taken over, cancelled or already finished).
 * Nothing was changed. The holder must stop working on the job and drop its result.
 */
export class LeaseLostError extends FlowMonkeyError {
  readonly jobId: string;
  readonly leaseId: string;
  constructor(jobId: string, leaseId: string, options: FlowMonkeyErrorOptions = {}) {
    super('LEASE_LOST', `job "${jobId}": lease "${leaseId}" is no longer held`, {
      ...options,
      details: { jobId, leaseId },
    });
    this.jobId = jobId;
    this.leaseId = leaseId;
  }
}

/**
 * Optimistic concurrency: a record was updated by someone else since it was read.
 * Nothing was written; re-read and decide again.
 */
export class ConcurrencyError extends FlowMonkeyError {
  constructor(
    kind: string,
    id: string,
    expectedVersion: number,
    options: FlowMonkeyErrorOptions = {},
  ) {
    super(
      'CONCURRENCY_CONFLICT',
      `${kind} "${id}" was modified concurrently (expected version ${expectedVersion})`,
      { ...options, details: { kind, id, expectedVersion } },
    );
  }
}

/** Throw from a handler to fail the job at once, skipping any remaining attempts. */
export class NonRetryableError extends FlowMonkeyError {
  constructor(message: string, options: FlowMonkeyErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'NON_RETRYABLE', message, options);
  }
}

/** An execution exceeded its step limit (a runaway loop). */
export class StepLimitExceededError extends FlowMonkeyError {
  constructor(executionId: string, limit: number) {
    super(
      'STEP_LIMIT_EXCEEDED',
      `execution "${executionId}" exceeded its limit of ${limit} steps`,
      {
        details: { executionId, limit },
      },
    );
  }
}

/** A job attempt ran past its timeout. */
export class JobTimeoutError extends FlowMonkeyError {
  constructor(jobId: string, timeoutMs: number) {
    super('JOB_TIMEOUT', `job "${jobId}" timed out after ${timeoutMs} ms`, {
      details: { jobId, timeoutMs },
    });
  }
}

/** Work was cancelled (a job, or the execution that owns it). */
export class CancelledError extends FlowMonkeyError {
  constructor(message: string, options: FlowMonkeyErrorOptions = {}) {
    super('CANCELLED', message, options);
  }
}

/** The operation is not valid in the current state (e.g. resuming a completed execution). */
export class InvalidStateError extends FlowMonkeyError {
  constructor(message: string, options: FlowMonkeyErrorOptions = {}) {
    super('INVALID_STATE', message, options);
  }
}

/** True when `error` is a {@link FlowMonkeyError} with the given code. */
export function hasErrorCode(error: unknown, code: string): boolean {
  return error instanceof FlowMonkeyError && error.code === code;
}
