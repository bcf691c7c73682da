import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a version-7 UUID with the RFC variant whose first 48 bits are the time in ms', () => {
    const at = Date.UTC(2026, 11, 1, 15, 16, 17, 189);
    const id = uuidv7(at);
    expect(id).toMatch(V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sorts ids made in later milliseconds after earlier ones, as text', () => {
    const t = Date.now();
    const ids = [t + 2, t, t + 1, t + 1000].map((ms) => uuidv7(ms));
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0], ids[3]]);
  });

  it('draws fresh random bits for ids of the same millisecond', () => {
    const t = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => uuidv7(t)));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(V7);
  });

  it('keeps the time field in range for times outside 1970..10889', () => {
    expect(uuidv7(-5).slice(0, 13)).toBe('00000000-0000');
    expect(uuidv7(2 ** 50).slice(0, 13)).toBe('ffffffff-ffff');
  });

  it('refuses a time that is not a finite number', () => {
    expect(() => uuidv7(Number.NaN)).toThrow(RangeError);
  });
});
