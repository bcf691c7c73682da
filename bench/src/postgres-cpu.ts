import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat on Linux. */
const TICKS_PER_S = 100;

/**
 * The fields of /proc/<pid>/stat after the command name, for every process named
 * `postgres` on this machine (Linux only); a process that ends while being read is left out.
 */
function postgresStats(): string[][] {
  const stats: string[][] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes('(postgres)')) stats.push(stat.slice(stat.lastIndexOf(')') + 2).split(' '));
    } catch {
      // The process ended while being read.
    }
  }
  return stats;
}

/**
 * CPU ms used so far (user and system) by every process named `postgres` on this machine,
 * the WAL writer and background writer included, read from /proc (Linux only). The
 * studies take the difference over a measured stretch.
 */
export function postgresCpuMs(): number {
  let ticks = 0;
  for (const fields of postgresStats()) ticks += Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / TICKS_PER_S;
}

/** Minor page faults so far of every process named `postgres` (Linux only). */
export function postgresPageFaults(): number {
  let faults = 0;
  for (const fields of postgresStats()) faults += Number(fields[7]);
  return faults;
}
