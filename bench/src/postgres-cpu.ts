import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat on Linux. */
const TICKS_PER_S = 100;

/** The fields of /proc/<pid>/stat after the command name, and the command (Linux only). */
function statOf(pid: number | string): { command: string; fields: string[] } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = stat.lastIndexOf(')');
  return {
    command: stat.slice(stat.indexOf('(') + 1, close),
    fields: stat.slice(close + 2).split(' '),
  };
}

/**
 * The stat fields (see {@link statOf}) of every process named `postgres` on this machine;
 * a process that ends while being read is left out.
 */
function postgresStats(): string[][] {
  const stats: string[][] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const { command, fields } = statOf(pid);
      if (command === 'postgres') stats.push(fields);
    } catch {
      // The process ended while being read.
    }
  }
  return stats;
}

/**
 * CPU ms used so far (user and system) by every process named `postgres` on this machine,
 * the WAL writer and background writer included, read from /proc (Linux only), and by the
 * server processes that have ended: the postmaster, which reaps them, holds their time as
 * its children's (`cutime`, `cstime`). Without those, a connection that closed within a
 * measured stretch took all its CPU out of the sum, and a stretch could come out negative.
 * The studies and the bench take the difference over a measured stretch.
 */
export function postgresCpuMs(): number {
  let ticks = 0;
  for (const fields of postgresStats()) {
    // utime, stime, cutime, cstime: fields 14 to 17 of the stat line.
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / TICKS_PER_S;
}

/** Minor page faults so far of every process named `postgres` (Linux only). */
export function postgresPageFaults(): number {
  let faults = 0;
  for (const fields of postgresStats()) faults += Number(fields[7]);
  return faults;
}

/** Minor page faults so far of one process, e.g. a connection's server (Linux only). */
export function processPageFaults(pid: number): number {
  return Number(statOf(pid).fields[7]);
}
