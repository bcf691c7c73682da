import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LONG } from './chaos-database.js';

/** Figures a scenario reports: counts, durations (ms) and short notes. */
export type Figures = Record<string, number | string | boolean>;

/**
 * Prints a scenario's figures as one block and writes them to `chaos/results/<id>.json`
 * (the source of the table in docs/reliability.md).
 */
export function report(id: string, figures: Figures): void {
  const form = LONG ? 'long' : 'short';
  const lines = Object.entries(figures).map(([k, v]) => `  ${k.padEnd(28)} ${String(v)}`);
  console.log(`\n[chaos] ${id} (${form} form)\n${lines.join('\n')}\n`);
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${id}.${form}.json`;
  writeFileSync(
    file,
    `${JSON.stringify({ id, form, at: new Date().toISOString(), figures }, null, 2)}\n`,
  );
}

/**
 * Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; resolves with
 * the time it took in ms, or rejects naming `what`. For waiting on real processes and a
 * real database, never on the passage of time itself.
 */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolves after `ms` (the pace of fault injection, not a wait for an outcome). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
