import { describe, expect, it } from 'vitest';
import { BenchOptionError, parseBenchArgs } from '../src/bench-options.js';
import { isLoopback, nothingAnswered } from '../src/bench-server.js';

describe('parseBenchArgs', () => {
  it('reads the flags, after the -- that pnpm passes on', () => {
    const options = parseBenchArgs(['--', '--quick', '--only', 'drain,latency', '--rounds', '2']);
    expect(options).toMatchObject({ quick: true, rounds: 2, only: ['drain', 'latency'] });
    expect(options.out).toMatch(/bench[/\\]RESULTS\.md$/);
    expect(parseBenchArgs([]).rounds).toBe(3);
  });

  it('refuses a workload or adapter no workload has, naming the flag and what it knows', () => {
    expect(() => parseBenchArgs(['--only', 'drain,drian'])).toThrow(
      /--only: no such one: drian \(known: drain, multiworker, .*memory\)/,
    );
    expect(() => parseBenchArgs(['--adapters', 'graphile'])).toThrow(BenchOptionError);
    expect(() => parseBenchArgs(['--adapters', 'graphile'])).toThrow(
      /--adapters: .*graphile-worker/,
    );
  });

  it('refuses rounds that would run nothing, and a flag without its value', () => {
    for (const rounds of ['0', 'abc', '1.5']) {
      expect(() => parseBenchArgs(['--rounds', rounds])).toThrow(/--rounds must be a whole number/);
    }
    expect(() => parseBenchArgs(['--only', '--quick'])).toThrow('--only needs a value');
  });
});

describe('nothingAnswered', () => {
  it('is true only when nothing listens, so a refusing server is never swapped for another', () => {
    const error = (code: string) => Object.assign(new Error(code), { code });
    expect(nothingAnswered(error('ECONNREFUSED'))).toBe(true);
    expect(nothingAnswered(new Error('Connection terminated due to connection timeout'))).toBe(
      true,
    );
    // What node-postgres reports for a wrong password, a missing role, a server starting up.
    expect(nothingAnswered(error('28P01'))).toBe(false);
    expect(nothingAnswered(error('28000'))).toBe(false);
    expect(nothingAnswered(error('57P03'))).toBe(false);
  });
});

describe('isLoopback', () => {
  it('takes a server on this machine for local, so its CPU is read; any other host is not', () => {
    expect(isLoopback('postgres://postgres@127.0.0.1:5432/postgres')).toBe(true);
    expect(isLoopback('postgres://u:secret@localhost/db')).toBe(true);
    expect(isLoopback('postgres://u@[::1]:5433/db')).toBe(true);
    expect(isLoopback('postgres:///db?host=/var/run/postgresql')).toBe(true);
    // Another machine's CPU cannot be read from this one's /proc: no PostgreSQL figure.
    expect(isLoopback('postgres://u@db.internal:5432/db')).toBe(false);
    expect(isLoopback('postgres://u@10.0.0.5/db')).toBe(false);
    expect(isLoopback('postgres:///db?host=db.internal')).toBe(false);
    expect(isLoopback('not a url')).toBe(false);
  });
});
