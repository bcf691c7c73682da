import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../src/define-job.js';
import type { JobHandle } from '../src/job-handle.js';
import type { BatchItemResult } from '../src/run-batch.js';

const Resize = defineJob({
  name: 'resize',
  input: z.object({ url: z.url(), width: z.coerce.number().default(100) }),
  output: z.object({ url: z.string(), bytes: z.number() }),
  handler: async (input) => {
    expectTypeOf(input).toEqualTypeOf<{ url: string; width: number }>();
    return { url: input.url, bytes: input.width * 10 };
  },
});

describe('defineJob types', () => {
  it('flow from the schemas to later, now, batch and handles', () => {
    expectTypeOf(Resize.later).parameter(0).toEqualTypeOf<{ url: string; width?: unknown }>();
    expectTypeOf(Resize.later).returns.resolves.toEqualTypeOf<
      JobHandle<{ url: string; bytes: number }>
    >();
    expectTypeOf(Resize.now).returns.resolves.toEqualTypeOf<{ url: string; bytes: number }>();
    expectTypeOf(Resize.batch).returns.resolves.toEqualTypeOf<
      BatchItemResult<{ url: string; bytes: number }>[]
    >();
    expectTypeOf(Resize.handle).returns.toEqualTypeOf<JobHandle<{ url: string; bytes: number }>>();
    // @ts-expect-error: width must be a number-ish, url is required
    void (() => Resize.later({ width: 3 }));
    defineJob({
      name: 'bad-output',
      input: z.object({}),
      output: z.object({ n: z.number() }),
      // @ts-expect-error: the handler must return the output schema's input type
      handler: async () => ({ n: 'x' }),
    });
  });
});
