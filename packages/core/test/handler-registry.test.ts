import { describe, expect, it } from 'vitest';
import {
  DuplicateError,
  HandlerRegistry,
  NotFoundError,
  Result,
  type StepHandler,
  ValidationError,
} from '../src/index.js';

const handler = (type: string): StepHandler => ({
  type,
  metadata: { name: type },
  execute: async () => Result.success(type),
});

describe('HandlerRegistry', () => {
  it('registers handlers and finds them by type, in registration order', () => {
    const registry = new HandlerRegistry([handler('charge')]);
    registry.register(handler('ship'));
    expect(registry.get('ship').type).toBe('ship');
    expect(registry.has('charge')).toBe(true);
    expect(registry.has('refund')).toBe(false);
    expect(registry.list().map((h) => h.type)).toEqual(['charge', 'ship']);
  });

  it('rejects a second handler with the same type', () => {
    const registry = new HandlerRegistry([handler('charge')]);
    expect(() => registry.register(handler('charge'))).toThrow(DuplicateError);
    expect(() => registry.register(handler('charge'))).toThrow(
      'handler "charge" is already registered',
    );
  });

  it('throws NotFoundError naming the unknown type', () => {
    const registry = new HandlerRegistry();
    const error = (() => {
      try {
        registry.get('refund');
      } catch (caught) {
        return caught as NotFoundError;
      }
      throw new Error('found an unregistered handler');
    })();
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.kind).toBe('handler');
    expect(error.id).toBe('refund');
  });

  it('rejects a handler without a type or an execute function', () => {
    const registry = new HandlerRegistry();
    expect(() => registry.register({ ...handler('x'), type: '' })).toThrow(ValidationError);
    const noExecute = { type: 'y', metadata: {} } as unknown as StepHandler;
    expect(() => registry.register(noExecute)).toThrow(ValidationError);
  });
});
