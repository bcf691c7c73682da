import { describe, expect, it } from 'vitest';
import { type WorkloadPlan, workloadPlans } from '../src/plan.js';
import { ratioCell, runProblems, workloadSection } from '../src/report.js';
import type { WorkloadResult } from '../src/workload-types.js';

describe('ratioCell', () => {
  it('gives the ratio of the medians, then the range of the ratios within each round', () => {
    // Round 2 ran on a machine twice as fast for both: the per-round ratios stay 0.5 and
    // 0.6, while the medians (120 of 200) say 0.6.
    expect(ratioCell([100, 200, 120], [200, 400, 200], true)).toBe('0.60× (0.50–0.60)');
  });

  it('inverts the ratio where lower is better', () => {
    expect(ratioCell([2, 4], [4, 6], false)).toBe('1.67× (1.50–2.00)');
  });

  it('pairs only rounds that both adapters measured', () => {
    // Medians over every value (200 and 150); only round 1 has both, so no range.
    expect(ratioCell([100, undefined, 300], [200, 100, Number.NaN], true)).toBe('1.33×');
    expect(ratioCell([100, undefined, 300], [200, 100, 400], true)).toBe('1.00× (0.50–0.75)');
  });

  it('shows a dash when either side has no value', () => {
    expect(ratioCell([undefined], [100], true)).toBe('–');
    expect(ratioCell([100], [], true)).toBe('–');
  });
});

describe('workloadSection', () => {
  const [quickPlan] = workloadPlans(true);
  if (quickPlan === undefined) throw new Error('no workload plans');
  const plan: WorkloadPlan = {
    ...quickPlan,
    title: 'drain: 3 jobs',
    adapters: ['flowmonkey', 'graphile-worker'],
    metrics: [{ key: 'jobsPerSec', label: 'jobs/s', higherIsBetter: true }],
    ratioKeys: undefined,
  };
  const run = (jobsPerSec: number): WorkloadResult => ({
    metrics: { jobsPerSec },
    check: { expected: 3, runs: 3, duplicates: 0, missing: 0 },
    settings: { batchSize: 1 },
  });

  it('pairs a failed run with nothing, keeping the other rounds in step', () => {
    const section = workloadSection(
      plan,
      new Map([
        ['flowmonkey', [run(50), null, run(90)]],
        ['graphile-worker', [run(100), run(100), run(100)]],
      ]),
    );
    expect(section).toContain(
      '| flowmonkey | 70 (50–90) | 0.70× (0.50–0.90) | yes; 1 run(s) failed |',
    );
    expect(section).toContain('| graphile-worker | 100 (100–100) | 1.00× | yes |');
  });

  it('says n/a for a metric an adapter does not measure, and failed for one it could not', () => {
    const twoMetrics: WorkloadPlan = {
      ...plan,
      metrics: [
        { key: 'jobsPerSec', label: 'jobs/s', higherIsBetter: true },
        { key: 'storedPerSec', label: 'stored/s', higherIsBetter: true },
      ],
      ratioKeys: ['storedPerSec'],
    };
    const both = (stored: number): WorkloadResult => {
      const result = run(100);
      return { ...result, metrics: { ...result.metrics, storedPerSec: stored } };
    };
    const section = workloadSection(
      twoMetrics,
      new Map([
        // As a workload process reports it: JSON turns the NaN of a failed poll into null.
        ['flowmonkey', [JSON.parse(JSON.stringify(both(Number.NaN))) as WorkloadResult]],
        ['graphile-worker', [both(80)]],
        ['pg-boss', [run(90)]],
      ]),
    );
    expect(section).toContain('| flowmonkey | 100 | failed | – | yes |');
    expect(section).toContain('| pg-boss | 90 | n/a | – | yes |');
  });

  it('names the failed runs and the jobs not run exactly once, which fail the suite', () => {
    const twice: WorkloadResult = {
      ...run(100),
      check: { expected: 3, runs: 4, duplicates: 1, missing: 0 },
    };
    expect(
      runProblems(
        plan,
        new Map([
          ['flowmonkey', [run(50), null, run(90)]],
          ['graphile-worker', [run(100), twice, run(100)]],
        ]),
      ),
    ).toEqual([
      `${plan.id}/flowmonkey: 1 run(s) failed`,
      `${plan.id}/graphile-worker: 1 duplicate(s), 0 missing`,
    ]);
    expect(runProblems(plan, new Map([['flowmonkey', [run(50), run(90)]]]))).toEqual([]);
    const lost: WorkloadResult = {
      ...run(100),
      check: { expected: 3, runs: 2, duplicates: 0, missing: 1 },
    };
    expect(runProblems(plan, new Map([['pg-boss', [lost]]]))).toEqual([
      `${plan.id}/pg-boss: 0 duplicate(s), 1 missing`,
    ]);
    // Workloads that run no jobs (insert) have no check, and nothing to fail.
    const unchecked: WorkloadResult = { ...run(100), check: null };
    expect(runProblems(plan, new Map([['plain-insert', [unchecked]]]))).toEqual([]);
  });

  it('says so when no run reported its settings', () => {
    const section = workloadSection(plan, new Map([['flowmonkey', [null]]]));
    expect(section).toContain('| flowmonkey | failed | 1 run(s) failed |');
    expect(section).toContain('Settings: none reported (every run failed).');
  });
});
