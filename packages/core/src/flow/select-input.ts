import type { InputSelector } from '../flow.js';

/**
 * Takes a step's input from the execution context, as the step's `input` selector says:
 * omitted or `'$'` gives the whole context; a dotted path such as `'input.order.id'` or
 * `'charge.id'` (an optional leading `'$.'` is accepted) gives that value, or `null` when
 * any part of the path is missing; a function gives whatever it returns.
 */
export function selectInput(
  selector: InputSelector | undefined,
  context: Readonly<Record<string, unknown>>,
): unknown {
  if (selector === undefined || selector === '$') return context;
  if (typeof selector === 'function') return selector(context);
  const path = selector.startsWith('$.') ? selector.slice(2) : selector;
  let value: unknown = context;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) {
      return null;
    }
    value = (value as Record<string, unknown>)[segment];
  }
  return value === undefined ? null : value;
}

/** True when `selector` is a string {@link selectInput} understands (`'$'` or a dotted path). */
export function isValidInputPath(selector: string): boolean {
  if (selector === '$') return true;
  const path = selector.startsWith('$.') ? selector.slice(2) : selector;
  return path.length > 0 && path.split('.').every((segment) => segment.length > 0);
}
