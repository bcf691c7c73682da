import { FlowDefinitionError } from '../errors.js';
import type { Flow } from '../flow.js';
import type { HandlerRegistry } from '../handler-registry.js';

/**
 * Checks that every step of `flow` names a handler type registered in `handlers`. Throws
 * {@link FlowDefinitionError} naming the flow, the first step at fault and the field `type`.
 */
export function checkFlowHandlers(flow: Flow, handlers: HandlerRegistry): void {
  for (const step of Object.values(flow.steps)) {
    if (!handlers.has(step.type)) {
      throw new FlowDefinitionError(
        flow.id,
        step.id,
        'type',
        `no handler is registered for type "${step.type}"`,
      );
    }
  }
}
