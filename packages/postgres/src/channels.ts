import { createHash } from 'node:crypto';

/** PostgreSQL truncates identifiers (and rejects channel names) beyond 63 bytes. */
const MAX_CHANNEL_LENGTH = 63;

function channel(schema: string, suffix: string): string {
  const name = `${schema}_${suffix}`;
  if (name.length <= MAX_CHANNEL_LENGTH) return name;
  const hash = createHash('sha1').update(schema).digest('hex').slice(0, 8);
  return `${schema.slice(0, MAX_CHANNEL_LENGTH - suffix.length - 10)}_${hash}_${suffix}`;
}

/**
 * The NOTIFY channel that announces due jobs for `schema`: `<schema>_jobs` (a long schema
 * name is shortened with a hash so the name stays within 63 bytes). Payload: empty.
 */
export function jobsChannel(schema: string): string {
  return channel(schema, 'jobs');
}

/** The NOTIFY channel that announces cancellation of a running job: `<schema>_cancel`, payload the job id. */
export function cancelChannel(schema: string): string {
  return channel(schema, 'cancel');
}
