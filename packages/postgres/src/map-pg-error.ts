import { ConcurrencyError, FlowMonkeyError, ValidationError } from '@flowmonkey/core';

/** The fields of a node-postgres `DatabaseError` this module reads. */
interface PgErrorLike {
  code: string;
  message: string;
  column?: string;
  constraint?: string;
  table?: string;
  /** The domain whose check failed (migration 00005), when no column is reported. */
  dataType?: string;
}

/**
 * The field each single-column domain of migration 00005 guards. PostgreSQL reports a
 * domain's failed check without its column; the shared domains (`short_text`,
 * `non_negative_int`) are named as themselves (`shortText`).
 */
const DOMAIN_FIELDS: Readonly<Record<string, string>> = {
  queue_name: 'queue',
  job_priority: 'priority',
  positive_int: 'maxAttempts',
  positive_bigint: 'timeoutMs',
  percent: 'progressPercent',
  message_text: 'progressMessage',
};

/** SQLSTATEs that mean "the value given cannot be stored": bad input, not a server fault. */
const INVALID_INPUT_CODES = new Set([
  '22P02', // invalid_text_representation (e.g. a malformed uuid)
  '22023', // invalid_parameter_value
  '22021', // character_not_in_repertoire (invalid UTF-8)
  '22P05', // untranslatable_character (\u0000 in jsonb)
  '22001', // string_data_right_truncation
  '22003', // numeric_value_out_of_range
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '23502', // not_null_violation
  '23505', // unique_violation (a duplicate id)
  '23514', // check_violation
]);

/**
 * SQLSTATEs of a statement or transaction that lost a race and wrote nothing: a
 * serialization failure, a deadlock, and FlowMonkey's own `assert_all_written` (migration
 * 00006), raised when a batch that must be written whole found a row it could not write.
 */
const RETRYABLE_CONFLICT_CODES = new Set(['40001', '40P01', 'FM001']);

/** True when `error` looks like a PostgreSQL error reported by node-postgres. */
export function isPgError(error: unknown): error is PgErrorLike {
  if (!(error instanceof Error) || !('severity' in error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * Maps a PostgreSQL error to core's typed errors, the only place SQLSTATEs are read:
 * invalid values and constraint violations (22xxx, 23502, 23505, 23514) become
 * `ValidationError` naming the column (or the constraint, or the field a domain guards),
 * and serialization failures, deadlocks and `assert_all_written` (40001, 40P01, FM001)
 * become `ConcurrencyError`. The original error is kept as `cause` and its message is
 * never rewritten; anything else is returned unchanged.
 */
export function mapPgError(error: unknown): unknown {
  if (error instanceof FlowMonkeyError || !isPgError(error)) return error;
  const details = {
    sqlstate: error.code,
    table: error.table,
    constraint: error.constraint,
    dataType: error.dataType,
  };
  if (INVALID_INPUT_CODES.has(error.code)) {
    return new ValidationError(fieldOf(error), error.message, { cause: error, details });
  }
  if (RETRYABLE_CONFLICT_CODES.has(error.code)) {
    return new ConcurrencyError('transaction', error.table ?? 'unknown', 0, {
      cause: error,
      details,
    });
  }
  return error;
}

/**
 * The column a constraint is about: `jobs_priority_check` → `priority`; a domain's,
 * `job_priority` → `priority` (see {@link DOMAIN_FIELDS}).
 */
function fieldOf(error: PgErrorLike): string {
  if (error.column !== undefined) return snakeToCamel(error.column);
  if (error.code === '23514' && error.dataType !== undefined) {
    return DOMAIN_FIELDS[error.dataType] ?? snakeToCamel(error.dataType);
  }
  const constraint = error.constraint;
  if (constraint === undefined) return 'value';
  let name = constraint.replace(/_(check|key|pkey|idx)$/, '');
  if (error.table !== undefined && name.startsWith(`${error.table}_`)) {
    name = name.slice(error.table.length + 1);
  }
  if (constraint.endsWith('_pkey')) return 'id';
  return snakeToCamel(name);
}

function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
