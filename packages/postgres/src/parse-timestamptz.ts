import pg from 'pg';

/** OID of `timestamptz`. */
const TIMESTAMPTZ_OID = 1184;

function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Parses a `timestamptz` in PostgreSQL's text output (`DateStyle` ISO, as node-postgres
 * sets it) to epoch milliseconds, sub-millisecond digits truncated as `Date` does. The
 * usual shape, `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]` with a year from 100 to 9999, is
 * read by position without building a `Date`; anything else (BC, years past 9999,
 * `infinity`) goes to node-postgres' own parser. Rows of a claim carry several of these per
 * job, and the regular-expression parser was a few per cent of a worker's CPU.
 */
export function parseTimestamptz(text: string): number {
  const n = text.length;
  if (
    n >= 22 &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 32 &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58
  ) {
    const year = digits(text, 0, 4);
    let i = 19;
    let ms = 0;
    if (text.charCodeAt(i) === 46) {
      i++;
      let count = 0;
      for (; i < n; i++, count++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        if (count < 3) ms = ms * 10 + d;
      }
      for (; count < 3; count++) ms *= 10;
    }
    const sign = text.charCodeAt(i);
    if (year >= 100 && (sign === 43 || sign === 45)) {
      let offset = digits(text, i + 1, i + 3) * 3600;
      i += 3;
      if (text.charCodeAt(i) === 58) {
        offset += digits(text, i + 1, i + 3) * 60;
        i += 3;
      }
      if (text.charCodeAt(i) === 58) {
        offset += digits(text, i + 1, i + 3);
        i += 3;
      }
      const utc = Date.UTC(
        year,
        digits(text, 5, 7) - 1,
        digits(text, 8, 10),
        digits(text, 11, 13),
        digits(text, 14, 16),
        digits(text, 17, 19),
        ms,
      );
      if (i === n && !Number.isNaN(utc + offset)) {
        return utc - (sign === 45 ? -offset : offset) * 1000;
      }
    }
  }
  const parsed = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text')(text) as unknown;
  return parsed instanceof Date ? parsed.getTime() : Number(parsed);
}

/**
 * Type parsers for the stores' own queries: `timestamptz` as epoch ms (see
 * {@link parseTimestamptz}), everything else as node-postgres parses it.
 */
export const storeTypes = {
  getTypeParser(oid: number, format: 'text' | 'binary' = 'text'): (value: string) => unknown {
    if (oid === TIMESTAMPTZ_OID && format === 'text') return parseTimestamptz;
    return pg.types.getTypeParser(oid, format);
  },
};
