import pg from 'pg';

/** Connects once and returns the server's `server_version` without distribution suffixes (e.g. `18.1`). */
export async function readServerVersion(connectionString: string): Promise<string> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => {});
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    const full = result.rows[0]?.server_version ?? 'unknown';
    return full.split(' ')[0] ?? full;
  } finally {
    await client.end();
  }
}
