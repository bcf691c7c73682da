import { ValidationError } from '@flowmonkey/core';
import type { StandardSchemaV1 } from '@standard-schema/spec';

export type { StandardSchemaV1 };

/** One validation issue in a JSON-safe form: the schema's message and the path to the value. */
export interface SchemaIssue {
  message: string;
  /** Keys from the validated value down to the offending one; empty for the value itself. */
  path: (string | number)[];
}

/**
 * Validates `value` with any Standard Schema v1 validator (zod 4, valibot, arktype...) and
 * returns the schema's output. On failure throws a `ValidationError` whose `field` is
 * `field` plus the path of the first issue (`input.to`), whose message lists every issue,
 * and whose `details.issues` holds them all as {@link SchemaIssue}s. A validator that
 * itself throws is wrapped in a `ValidationError` with the original as `cause`.
 */
export async function validateWithSchema<S extends StandardSchemaV1>(
  schema: S,
  value: unknown,
  field: string,
): Promise<StandardSchemaV1.InferOutput<S>> {
  let result: StandardSchemaV1.Result<StandardSchemaV1.InferOutput<S>>;
  try {
    result = (await schema['~standard'].validate(value)) as StandardSchemaV1.Result<
      StandardSchemaV1.InferOutput<S>
    >;
  } catch (error) {
    throw new ValidationError(field, 'the schema threw while validating', { cause: error });
  }
  if (result.issues === undefined) return result.value;
  const issues = result.issues.map(toSchemaIssue);
  const first = issues[0];
  const where = first === undefined ? field : joinPath(field, first.path);
  const message = issues
    .map((issue) => `${issue.path.length === 0 ? '' : `${issue.path.join('.')}: `}${issue.message}`)
    .join('; ');
  throw new ValidationError(where, message || 'is invalid', { details: { issues } });
}

/** True when `value` looks like a Standard Schema v1 validator. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  if (value === null) return false;
  const props = (value as { '~standard'?: { version?: unknown; validate?: unknown } })['~standard'];
  return props?.version === 1 && typeof props.validate === 'function';
}

function toSchemaIssue(issue: StandardSchemaV1.Issue): SchemaIssue {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    return typeof key === 'number' ? key : String(key);
  });
  return { message: issue.message, path };
}

function joinPath(field: string, path: readonly (string | number)[]): string {
  let out = field;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${key}`;
  return out;
}
