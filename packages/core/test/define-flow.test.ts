import { describe, expect, it } from 'vitest';
import {
  checkFlowHandlers,
  DEFAULT_MAX_STEPS,
  defineFlow,
  type FlowDefinition,
  FlowDefinitionError,
  HandlerRegistry,
  Result,
  type StepDefinition,
  selectInput,
} from '../src/index.js';

function flowWith(steps: Record<string, StepDefinition>, extra: Partial<FlowDefinition> = {}) {
  return { id: 'order', initialStepId: 'a', steps, ...extra } as FlowDefinition;
}

function definitionError(definition: FlowDefinition): FlowDefinitionError {
  try {
    defineFlow(definition);
  } catch (error) {
    expect(error).toBeInstanceOf(FlowDefinitionError);
    return error as FlowDefinitionError;
  }
  throw new Error('defineFlow accepted an invalid definition');
}

describe('defineFlow', () => {
  it('returns a deep-frozen flow with step ids, version 1 and the default step limit', () => {
    const config = { currency: 'EUR', nested: { retries: [1, 2] } };
    const flow = defineFlow(
      flowWith({
        a: { type: 'charge', config, transitions: { onSuccess: 'b' } },
        b: { type: 'ship' },
      }),
    );
    expect(flow.version).toBe(1);
    expect(flow.maxSteps).toBe(DEFAULT_MAX_STEPS);
    expect(flow.steps.a?.id).toBe('a');
    expect(flow.steps.b?.id).toBe('b');
    expect(Object.isFrozen(flow)).toBe(true);
    expect(Object.isFrozen(flow.steps.a)).toBe(true);
    const frozenConfig = flow.steps.a?.config as typeof config;
    expect(Object.isFrozen(frozenConfig.nested.retries)).toBe(true);
    expect(Object.isFrozen(config)).toBe(false);
  });

  it('allows loops', () => {
    const flow = defineFlow(
      flowWith({
        a: { type: 'poll', transitions: { onSuccess: 'b', onFailure: 'a' } },
        b: { type: 'check', transitions: { onFailure: 'a' } },
      }),
    );
    expect(Object.keys(flow.steps)).toEqual(['a', 'b']);
  });

  it.each([
    ['empty flow id', { id: '' }, undefined, 'id'],
    ['flow id with spaces', { id: 'my flow' }, undefined, 'id'],
    ['zero version', { version: 0 }, undefined, 'version'],
    ['fractional maxSteps', { maxSteps: 1.5 }, undefined, 'maxSteps'],
    ['no steps', { steps: {} }, undefined, 'steps'],
    ['missing initialStepId', { initialStepId: '' }, undefined, 'initialStepId'],
    ['unknown initial step', { initialStepId: 'nope' }, undefined, 'initialStepId'],
  ] as const)('rejects %s', (_name, override, stepId, field) => {
    const error = definitionError(
      flowWith({ a: { type: 'x' } }, override as Partial<FlowDefinition>),
    );
    expect(error.stepId).toBe(stepId);
    expect(error.field).toBe(field);
    expect(error.code).toBe('FLOW_DEFINITION_ERROR');
  });

  it.each([
    ['a step without type', { type: '' }, 'type'],
    [
      'a transition to an unknown step',
      { type: 'x', transitions: { onSuccess: 'ship' } },
      'transitions.onSuccess',
    ],
    [
      'an onFailure to an unknown step',
      { type: 'x', transitions: { onFailure: 'refund' } },
      'transitions.onFailure',
    ],
    ['an outputKey with a dot', { type: 'x', outputKey: 'a.b' }, 'outputKey'],
    ['the reserved outputKey input', { type: 'x', outputKey: 'input' }, 'outputKey'],
    ['an empty outputKey', { type: 'x', outputKey: '' }, 'outputKey'],
    ['an input path with an empty segment', { type: 'x', input: 'input..id' }, 'input'],
    ['zero maxAttempts', { type: 'x', maxAttempts: 0 }, 'maxAttempts'],
    ['a negative timeoutMs', { type: 'x', timeoutMs: -5 }, 'timeoutMs'],
    ['a priority out of range', { type: 'x', priority: 5000 }, 'priority'],
    ['a fractional priority', { type: 'x', priority: 1.5 }, 'priority'],
    ['a bad queue name', { type: 'x', queue: 'has space' }, 'queue'],
    ['transitions that are not an object', { type: 'x', transitions: 'b' }, 'transitions'],
    [
      'an unknown retry strategy',
      { type: 'x', retry: { strategy: 'SOMETIMES' } },
      'retry.strategy',
    ],
  ] as const)('rejects %s, naming the step and field', (_name, step, field) => {
    const error = definitionError(flowWith({ a: step as StepDefinition }));
    expect(error.flowId).toBe('order');
    expect(error.stepId).toBe('a');
    expect(error.field).toBe(field);
    expect(error.message).toContain('flow "order" step "a"');
  });

  it('rejects a step id that is not a valid identifier', () => {
    const error = definitionError(
      flowWith({ a: { type: 'x', transitions: { onSuccess: 'b c' } }, 'b c': { type: 'x' } }),
    );
    expect(error.stepId).toBe('b c');
    expect(error.field).toBe('id');
  });

  it('rejects a step named input, whose output would overwrite the execution input', () => {
    const error = definitionError(
      flowWith({ a: { type: 'x', transitions: { onSuccess: 'input' } }, input: { type: 'x' } }),
    );
    expect(error.stepId).toBe('input');
  });

  it('rejects an unreachable step, naming it', () => {
    const error = definitionError(
      flowWith({
        a: { type: 'x', transitions: { onSuccess: 'b' } },
        b: { type: 'x' },
        orphan: { type: 'x' },
      }),
    );
    expect(error.stepId).toBe('orphan');
    expect(error.message).toContain('unreachable');
  });
});

describe('checkFlowHandlers', () => {
  it('names the step and field type when a handler is not registered', () => {
    const handlers = new HandlerRegistry([
      { type: 'charge', metadata: {}, execute: async () => Result.success(null) },
    ]);
    const flow = defineFlow(
      flowWith({ a: { type: 'charge', transitions: { onSuccess: 'b' } }, b: { type: 'ship' } }),
    );
    const error = (() => {
      try {
        checkFlowHandlers(flow, handlers);
      } catch (caught) {
        return caught as FlowDefinitionError;
      }
      throw new Error('accepted an unknown handler');
    })();
    expect(error).toBeInstanceOf(FlowDefinitionError);
    expect(error.stepId).toBe('b');
    expect(error.field).toBe('type');
    expect(error.message).toContain('"ship"');
  });
});

describe('selectInput', () => {
  const context = { input: { order: { id: 'o-1', total: 0 } }, charge: { id: 'ch_1' } };

  it('gives the whole context when omitted or $', () => {
    expect(selectInput(undefined, context)).toBe(context);
    expect(selectInput('$', context)).toBe(context);
  });

  it('follows a dotted path, with null for a missing value', () => {
    expect(selectInput('input.order.id', context)).toBe('o-1');
    expect(selectInput('$.charge.id', context)).toBe('ch_1');
    expect(selectInput('input.order.total', context)).toBe(0);
    expect(selectInput('input.customer.name', context)).toBeNull();
    expect(selectInput('input.order.id.length', context)).toBeNull();
  });

  it('calls a function selector with the context', () => {
    expect(selectInput((ctx) => Object.keys(ctx), context)).toEqual(['input', 'charge']);
  });
});
