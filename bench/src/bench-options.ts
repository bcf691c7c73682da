import { fileURLToPath } from 'node:url';
import { workloadPlans } from './plan.js';

/** What `pnpm bench` was asked to do (see `run.ts` for the flags). */
export interface BenchOptions {
  quick: boolean;
  rounds: number;
  /** Workload ids to run; all when undefined. */
  only: string[] | undefined;
  /** Adapters to run (plain-insert always runs where it belongs); all when undefined. */
  adapters: string[] | undefined;
  analyze: boolean;
  out: string;
}

/** A flag `pnpm bench` cannot run with; the message names the flag and what it accepts. */
export class BenchOptionError extends Error {
  override name = 'BenchOptionError';
}

/**
 * Reads `pnpm bench`'s flags. Throws {@link BenchOptionError} for a workload id or adapter
 * no workload has, or a `--rounds` that is not a positive whole number, before anything
 * runs: such a run would measure nothing and still look like a success.
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const args = argv.filter((a) => a !== '--');
  const value = (name: string) => {
    const i = args.indexOf(name);
    if (i === -1) return undefined;
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) {
      throw new BenchOptionError(`${name} needs a value`);
    }
    return next;
  };
  const quick = args.includes('--quick');
  const plans = workloadPlans(quick);
  const list = (name: string, known: readonly string[]) => {
    const given = value(name)?.split(',');
    const unknown = given?.filter((v) => !known.includes(v)) ?? [];
    if (unknown.length > 0) {
      throw new BenchOptionError(
        `${name}: no such ${unknown.length === 1 ? 'one' : 'ones'}: ${unknown.join(', ')} (known: ${known.join(', ')})`,
      );
    }
    return given;
  };
  const roundsText = value('--rounds');
  const rounds = roundsText === undefined ? (quick ? 1 : 3) : Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new BenchOptionError(
      `--rounds must be a whole number of at least 1, not "${roundsText}"`,
    );
  }
  return {
    quick,
    rounds,
    only: list(
      '--only',
      plans.map((p) => p.id),
    ),
    adapters: list('--adapters', [...new Set(plans.flatMap((p) => p.adapters))]),
    analyze: !args.includes('--no-analyze'),
    out: value('--out') ?? fileURLToPath(new URL('../RESULTS.md', import.meta.url)),
  };
}
