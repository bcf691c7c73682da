import type { WorkloadPlan } from './plan.js';
import { fmt, median } from './stats.js';
import type { WorkloadResult } from './workload-types.js';

/** Every run of one adapter in one workload, in round order (`null`: the run failed). */
export type RunsByAdapter = Map<string, (WorkloadResult | null)[]>;

const REFERENCE = 'graphile-worker';

function cell(values: number[]): string {
  if (values.length === 0) return 'failed';
  if (values.length === 1) return fmt(values[0] ?? Number.NaN);
  return `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
}

/**
 * The ratio of the medians to the reference's, then, when two or more rounds ran both, the
 * range of the ratios within each round (the two runs back to back, so a machine whose speed
 * drifts between rounds moves both): how far one run's ratio can be trusted.
 */
export function ratioCell(
  mine: readonly (number | undefined)[],
  reference: readonly (number | undefined)[],
  higherIsBetter: boolean,
): string {
  const of = (a: number, b: number) => (higherIsBetter ? a / b : b / a);
  const measured = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  const mineMeasured = mine.filter(measured);
  const referenceMeasured = reference.filter(measured);
  if (mineMeasured.length === 0 || referenceMeasured.length === 0) return '–';
  const headline = `${of(median(mineMeasured), median(referenceMeasured)).toFixed(2)}×`;
  const perRound: number[] = [];
  mine.forEach((value, round) => {
    const ref = reference[round];
    if (measured(value) && measured(ref)) perRound.push(of(value, ref));
  });
  if (perRound.length < 2) return headline;
  return `${headline} (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`;
}

/** The markdown section of one workload: medians, min–max, ratio to graphile-worker, checks. */
export function workloadSection(plan: WorkloadPlan, runs: RunsByAdapter): string {
  const lines = [`### ${plan.title}`, ''];
  const header = ['adapter', ...plan.metrics.map((m) => m.label)];
  const hasRef = runs.has(REFERENCE);
  const keys = plan.ratioKeys ?? [plan.metrics.at(-1)?.key];
  const ratioMetrics = plan.metrics.filter((m) => keys.includes(m.key));
  if (hasRef) for (const m of ratioMetrics) header.push(`× ${REFERENCE}: ${m.label}`);
  header.push('exactly once');
  lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`);
  /** One value per round, `undefined` where the run failed or did not measure it. */
  const byRound = (adapter: string, key: string) =>
    (runs.get(adapter) ?? []).map((r) => r?.metrics[key]);
  const values = (adapter: string, key: string) =>
    byRound(adapter, key).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  /** `n/a` for a metric no run of the adapter reports (one it does not measure). */
  const metricCell = (adapter: string, key: string) =>
    byRound(adapter, key).every((v) => v === undefined) &&
    (runs.get(adapter) ?? []).some((r) => r !== null)
      ? 'n/a'
      : cell(values(adapter, key));
  for (const [adapter, results] of runs) {
    const row = [adapter, ...plan.metrics.map((m) => metricCell(adapter, m.key))];
    if (hasRef) {
      for (const m of ratioMetrics) {
        row.push(
          adapter === REFERENCE
            ? '1.00×'
            : ratioCell(byRound(adapter, m.key), byRound(REFERENCE, m.key), m.higherIsBetter),
        );
      }
    }
    row.push(checkCell(results));
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('', settingsLine(runs), '');
  return lines.join('\n');
}

/** Failed runs, and the duplicates and missing jobs of the exactly-once checks, summed. */
function tally(results: (WorkloadResult | null)[]) {
  const checks = results.flatMap((r) => (r?.check ? [r.check] : []));
  return {
    failed: results.filter((r) => r === null).length,
    checked: checks.length,
    duplicates: checks.reduce((a, c) => a + c.duplicates, 0),
    missing: checks.reduce((a, c) => a + c.missing, 0),
  };
}

function checkCell(results: (WorkloadResult | null)[]): string {
  const { failed, checked, duplicates, missing } = tally(results);
  if (checked === 0) return failed > 0 ? `${failed} run(s) failed` : 'n/a';
  const verdict =
    duplicates === 0 && missing === 0 ? 'yes' : `NO: ${duplicates} duplicates, ${missing} missing`;
  return failed > 0 ? `${verdict}; ${failed} run(s) failed` : verdict;
}

/**
 * What makes a run of the suite fail (its exit code): per adapter of the workload, runs
 * that failed (a crash, the hard time limit) and jobs run more than once or not at all.
 * Empty when everything ran, exactly once.
 */
export function runProblems(plan: WorkloadPlan, runs: RunsByAdapter): string[] {
  const problems: string[] = [];
  for (const [adapter, results] of runs) {
    const { failed, duplicates, missing } = tally(results);
    if (failed > 0) problems.push(`${plan.id}/${adapter}: ${failed} run(s) failed`);
    if (duplicates > 0 || missing > 0) {
      problems.push(`${plan.id}/${adapter}: ${duplicates} duplicate(s), ${missing} missing`);
    }
  }
  return problems;
}

function settingsLine(runs: RunsByAdapter): string {
  const parts: string[] = [];
  for (const [adapter, results] of runs) {
    const settings = results.find((r) => r !== null)?.settings;
    if (settings === undefined) continue;
    const text = Object.entries(settings)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
    parts.push(`${adapter}: ${text}`);
  }
  return parts.length === 0
    ? 'Settings: none reported (every run failed).'
    : `Settings: ${parts.join('; ')}.`;
}

/** The whole RESULTS.md body produced by one `pnpm bench` run. */
export function resultsMarkdown(options: {
  facts: Record<string, string>;
  versions: Record<string, string>;
  rounds: number;
  quick: boolean;
  sections: string[];
  elapsedMs: number;
}): string {
  const { facts, versions, rounds, quick, sections, elapsedMs } = options;
  return [
    `## Run of ${facts.date}${quick ? ' (--quick)' : ''}`,
    '',
    ...Object.entries(facts).map(([k, v]) => `- ${k}: ${v}`),
    `- libraries: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `- ${rounds} round(s), adapters in turn (A B A B), each run in a fresh database and its own process; cells are median (min–max); ratios compare medians, with the range of the ratios within each round in brackets; total ${Math.round(elapsedMs / 1000)} s`,
    '',
    ...sections,
  ].join('\n');
}
