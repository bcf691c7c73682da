import { describe, expect, it } from 'vitest';
import { GroupQueue } from '../src/group-queue.js';

describe('GroupQueue', () => {
  it('writes the first item at once and what arrives meanwhile together, at most maxBatch at a time', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const queue = new GroupQueue<number>(async (batch) => {
      batches.push(batch);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
    }, 3);
    queue.push(1);
    await Promise.resolve();
    await Promise.resolve();
    for (const n of [2, 3, 4, 5]) queue.push(n);
    release();
    await queue.idle();
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('idle() resolves at once with nothing queued, and after a write that was in flight', async () => {
    const queue = new GroupQueue<string>(async () => {}, 10);
    await queue.idle();
    const written: string[] = [];
    const slow = new GroupQueue<string>(async (batch) => {
      await new Promise((r) => setTimeout(r, 5));
      written.push(...batch);
    }, 10);
    slow.push('a');
    slow.push('b');
    await slow.idle();
    expect(written).toEqual(['a', 'b']);
  });
});
