/**
 * What a step handler returns: success with an output, a failure, or a request to
 * wait (park the execution until a time, or until something resumes it).
 */

/** A plain, JSON-safe description of an error, as stored on executions and jobs. */
export interface ErrorInfo {
  /** Stable machine-readable code, e.g. `PAYMENT_DECLINED`, `JOB_TIMEOUT`. */
  code: string;
  /** Human-readable message. */
  message: string;
  /** Optional structured facts (JSON-serialisable). */
  details?: Record<string, unknown>;
  /** The error this one wraps, if any. */
  cause?: ErrorInfo;
}

/** A step failure. `retryable: false` (the default for `Result.failure`) skips remaining attempts of a job. */
export interface StepError extends ErrorInfo {
  retryable?: boolean;
}

/** The step succeeded with `output`. */
export interface SuccessResult<O = unknown> {
  readonly kind: 'success';
  readonly output: O;
}

/** The step failed; the execution takes the step's `onFailure` transition, or fails. */
export interface FailureResult {
  readonly kind: 'failure';
  readonly error: StepError;
}

/**
 * Park the execution. `until` (epoch ms) makes it due again at that time; without it the
 * execution waits until `engine.resume` is called for it. A job handler returning wait
 * snoozes its job until `until` without spending an attempt.
 */
export interface WaitResult {
  readonly kind: 'wait';
  readonly until: number | null;
  readonly reason: string;
}

/** The outcome of one step handler call. */
export type StepResult<O = unknown> = SuccessResult<O> | FailureResult | WaitResult;

/** Converts anything thrown or passed as an error into an {@link ErrorInfo}. */
export function toErrorInfo(error: unknown, fallbackCode = 'HANDLER_ERROR'): ErrorInfo {
  if (error instanceof Error) {
    const withCode = error as Error & { code?: unknown; details?: unknown };
    const info: ErrorInfo = {
      code: typeof withCode.code === 'string' ? withCode.code : fallbackCode,
      message: error.message,
    };
    if (isPlainRecord(withCode.details) && Object.keys(withCode.details).length > 0) {
      info.details = withCode.details;
    }
    if (error.cause !== undefined) info.cause = toErrorInfo(error.cause, 'CAUSE');
    return info;
  }
  if (isPlainRecord(error) && typeof error.code === 'string' && typeof error.message === 'string') {
    return error as unknown as ErrorInfo;
  }
  return { code: fallbackCode, message: typeof error === 'string' ? error : String(error) };
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Constructors for {@link StepResult}. */
export const Result = {
  /** The step succeeded with `output`. */
  success<O>(output: O): SuccessResult<O> {
    return { kind: 'success', output };
  },
  /**
   * The step failed. Accepts an `Error`, a message, or an {@link StepError}. A failure
   * returned (not thrown) is deliberate, so it is not retried unless `retryable: true`.
   */
  failure(error: Error | string | StepError): FailureResult {
    const info: StepError =
      typeof error === 'string'
        ? { code: 'STEP_FAILED', message: error }
        : error instanceof Error
          ? toErrorInfo(error, 'STEP_FAILED')
          : error;
    return { kind: 'failure', error: info };
  },
  /** Park the execution, optionally until `until` (epoch ms or a `Date`). */
  wait(options: { until?: number | Date; reason?: string } = {}): WaitResult {
    const until = options.until instanceof Date ? options.until.getTime() : (options.until ?? null);
    return { kind: 'wait', until, reason: options.reason ?? 'waiting' };
  },
} as const;
