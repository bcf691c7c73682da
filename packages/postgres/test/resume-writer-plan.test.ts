import { describe, expect, it } from 'vitest';
import type { CompletionColumns } from '../src/completion-values.js';
import { STATEMENT_DOCUMENT_CHARS } from '../src/execution-update-documents.js';
import { JOB_CHARS, planStatements } from '../src/resume-writer.js';

const document = (chars: number) => ({ json: 'x'.repeat(chars), rows: 1 });
const jobs = (n: number, resultChars: number): CompletionColumns => ({
  jobIds: Array.from({ length: n }, (_, i) => `job-${i}`),
  leaseIds: Array.from({ length: n }, (_, i) => `lease-${i}`),
  results: Array.from({ length: n }, () => 'r'.repeat(resultChars)),
});
/** Characters a statement carries: its document and its jobs (`JOB_CHARS` and the result each). */
const size = (s: ReturnType<typeof planStatements>[number]) =>
  (s.document?.json.length ?? 0) + s.jobs.results.reduce((n, r) => n + JOB_CHARS + r.length, 0);

describe('planStatements (completeAndResumeMany split in several statements)', () => {
  it('puts jobs beside the documents while they fit, then in statements of their own, in order', () => {
    const planned = planStatements([document(47_000), document(10_000)], jobs(500, 20));
    expect(planned.map((s) => s.document?.json.length)).toEqual([47_000, 10_000, undefined]);
    expect(planned.map((s) => s.jobs.jobIds.length)).toEqual([21, 391, 88]);
    expect(planned.flatMap((s) => s.jobs.jobIds)).toEqual(jobs(500, 20).jobIds);
    expect(planned.flatMap((s) => s.jobs.leaseIds)).toEqual(jobs(500, 20).leaseIds);
    for (const s of planned) expect(size(s)).toBeLessThanOrEqual(STATEMENT_DOCUMENT_CHARS);
  });

  it('keeps one statement for a small batch, and one even for an empty one', () => {
    expect(planStatements([document(5_000)], jobs(10, 20))).toHaveLength(1);
    const [only, ...rest] = planStatements([], jobs(0, 0));
    expect(rest).toEqual([]);
    expect(only).toEqual({ document: undefined, jobs: jobs(0, 0), size: 0 });
  });

  it('gives a job larger than the limit a statement of its own', () => {
    const planned = planStatements([], jobs(3, STATEMENT_DOCUMENT_CHARS));
    expect(planned.map((s) => s.jobs.jobIds)).toEqual([['job-0'], ['job-1'], ['job-2']]);
  });
});
