import { randomUUID } from 'node:crypto';

/**
 * Returns a new UUID version 7 (RFC 9562): 48 bits of millisecond time, then random
 * bits. Ids made later sort later, which keeps B-tree inserts on the right edge of the
 * primary-key index instead of scattering them. Built from a version-4 UUID (Node.js draws
 * those from a cached entropy pool): its first 48 bits replaced by the time, its version
 * digit by 7; the variant bits and the 74 random bits a v7 UUID carries are kept.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  if (!Number.isFinite(nowMs)) throw new RangeError(`uuidv7: time ${nowMs} is not a number`);
  const time = Math.min(Math.max(0, Math.floor(nowMs)), 2 ** 48 - 1)
    .toString(16)
    .padStart(12, '0');
  // randomUUID(): xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx, `y` already the RFC variant.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}
