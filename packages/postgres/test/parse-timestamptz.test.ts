import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseTimestamptz } from '../src/parse-timestamptz.js';
import { useTestDatabase } from '../src/testing/index.js';

const db = useTestDatabase();
const reference = (text: string): number => {
  const value = pg.types.getTypeParser(1184, 'text')(text) as unknown;
  return value instanceof Date ? value.getTime() : Number(value);
};

describe('parseTimestamptz', () => {
  it.each([
    ['2026-12-01 13:14:27.123456+00', Date.UTC(2026, 11, 1, 13, 14, 27, 123)],
    ['2026-12-01 13:14:27+00', Date.UTC(2026, 11, 1, 13, 14, 27)],
    ['2026-12-01 13:14:27.5+00', Date.UTC(2026, 11, 1, 13, 14, 27, 500)],
    ['2026-12-01 18:44:27.999999+05:30', Date.UTC(2026, 11, 1, 13, 14, 27, 999)],
    ['2026-12-01 09:44:27-03:30', Date.UTC(2026, 11, 1, 13, 14, 27)],
    ['1900-01-01 00:19:32+00:19:32', Date.UTC(1900, 0, 1)],
    ['0150-06-01 00:00:00+00', Date.UTC(150, 5, 1)],
  ])('reads %s as the same instant as node-postgres', (text, expected) => {
    expect(parseTimestamptz(text)).toBe(expected);
    expect(parseTimestamptz(text)).toBe(reference(text));
  });

  it.each([
    '0044-03-15 12:00:00+00 BC',
    '0099-01-01 00:00:00+00',
    '12026-01-01 00:00:00+00',
    'infinity',
    '-infinity',
  ])('hands %s to node-postgres', (text) => {
    expect(parseTimestamptz(text)).toBe(reference(text));
  });

  it('agrees with node-postgres on what PostgreSQL prints in many time zones', async () => {
    const client = await db().pool.connect();
    try {
      for (const zone of [
        'UTC',
        'Asia/Kolkata',
        'America/St_Johns',
        'Europe/Amsterdam',
        'Pacific/Chatham',
      ]) {
        await client.query(`SET TimeZone = '${zone}'`);
        const { rows } = await client.query<{ t: string }>(
          `SELECT (timestamptz '1890-05-01 00:00:00+00' + i * interval '13 days 7 hours 11 minutes 3.141592 seconds')::text AS t
           FROM generate_series(0, 4000) i`,
        );
        for (const { t } of rows) expect(parseTimestamptz(t), `${zone}: ${t}`).toBe(reference(t));
      }
    } finally {
      await client.query('RESET TimeZone');
      client.release();
    }
  });
});
