import { connect, createServer, type Server, type Socket } from 'node:net';

/** How the proxy treats traffic right now. */
export type ProxyMode = 'pass' | 'blackhole';

interface Link {
  client: Socket;
  server: Socket;
  /** A self-committing statement was bound on this link; it commits at the next Sync. */
  awaitingSync?: boolean;
  /**
   * The server's last ReadyForQuery said a transaction is open: a statement bound now
   * commits with the transaction's COMMIT, not at its Sync.
   */
  inTransaction?: boolean;
}

/**
 * Prepared statements that commit on their own, in the implicit transaction that ends at
 * the extended protocol's Sync, when sent outside an explicit transaction: a runner's
 * one-statement settle of step jobs (a large batch sends several inside BEGIN/COMMIT).
 */
const SELF_COMMITTING_STATEMENTS = ['completeAndResumeMany'];

/**
 * A TCP proxy between runners and PostgreSQL that injects network faults: `blackhole()`
 * keeps every connection open but forwards nothing either way (and holds new connections
 * unanswered), like a pulled cable; `heal()` ends that; `dropAll()` resets every open
 * connection; `cutAfterCommit(n)` lets the next `n` commits reach the server and then cuts
 * that connection before the server's answer gets back (a lost acknowledgement). A commit
 * is a simple-protocol `COMMIT`, or the Sync that follows the binding of a statement that
 * commits on its own (`SELF_COMMITTING_STATEMENTS`).
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #links = new Set<Link>();
  #server: Server | undefined;
  #mode: ProxyMode = 'pass';
  #held: (() => void)[] = [];
  #commitCuts = 0;
  /** Connections cut right after a commit went through. */
  commitsCut = 0;
  /** Connections reset by `dropAll()`. */
  dropped = 0;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Starts listening on a free port of 127.0.0.1. */
  async start(): Promise<number> {
    const server = createServer((client) => this.#accept(client));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this.port;
  }

  /** Rewrites `url` (a postgres:// connection string) to go through the proxy. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Forwards nothing either way from now on; connections stay open. */
  blackhole(): void {
    this.#mode = 'blackhole';
    for (const { client, server } of this.#links) {
      client.pause();
      server.pause();
    }
  }

  /** Ends a black-hole: held data and connections flow again. */
  heal(): void {
    this.#mode = 'pass';
    for (const { client, server } of this.#links) {
      client.resume();
      server.resume();
    }
    const held = this.#held;
    this.#held = [];
    for (const open of held) open();
  }

  /** Resets every open connection (the peers see a connection error). */
  dropAll(): void {
    for (const link of this.#links) {
      this.dropped++;
      link.client.resetAndDestroy();
      link.server.destroy();
    }
    this.#links.clear();
  }

  /** Cuts the connection of each of the next `count` commits right after forwarding it. */
  cutAfterCommit(count: number): void {
    this.#commitCuts += count;
  }

  /** Closes every connection and stops listening. */
  async stop(): Promise<void> {
    this.heal();
    this.dropAll();
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => {});
    const open = () => {
      if (client.destroyed) return;
      const server = connect(this.#target.port, this.#target.host);
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
      const link: Link = { client, server };
      this.#links.add(link);
      client.on('close', () => this.#links.delete(link));
      client.on('data', (chunk) => this.#toServer(link, chunk));
      server.on('data', (chunk) => {
        // Read before the client can answer it with its next statement.
        link.inTransaction = transactionOpen(chunk) ?? link.inTransaction;
        client.write(chunk);
      });
    };
    if (this.#mode === 'blackhole') {
      client.pause();
      this.#held.push(open);
    } else {
      open();
    }
  }

  #toServer(link: Link, chunk: Buffer): void {
    link.server.write(chunk);
    if (this.#commitCuts === 0) return;
    if (link.inTransaction !== true && bindsSelfCommitting(chunk)) link.awaitingSync = true;
    if (isCommit(chunk) || (link.awaitingSync === true && hasSync(chunk))) {
      this.#commitCuts--;
      this.commitsCut++;
      // The client never hears back; the server keeps the socket a moment so it surely
      // reads and runs the commit before seeing the connection close.
      link.server.pause();
      link.client.resetAndDestroy();
      this.#links.delete(link);
      setTimeout(() => link.server.destroy(), 200).unref();
    }
  }
}

/** True when `chunk` holds a simple-protocol Query message whose text is `COMMIT`. */
function isCommit(chunk: Buffer): boolean {
  for (let i = 0; i + 5 < chunk.length; i++) {
    if (chunk[i] !== 0x51) continue; // 'Q'
    const length = chunk.readInt32BE(i + 1);
    const text = chunk
      .subarray(i + 5, i + length)
      .toString('utf8')
      .replace(/\0$/, '');
    if (text.trim().toUpperCase() === 'COMMIT') return true;
  }
  return false;
}

/**
 * True when `chunk` holds a Bind or Parse message naming one of
 * `SELF_COMMITTING_STATEMENTS` (node-postgres names prepared statements
 * `fm_<schema>_<store>_<method>`; the name is in the message as text).
 */
function bindsSelfCommitting(chunk: Buffer): boolean {
  const text = chunk.toString('latin1');
  return SELF_COMMITTING_STATEMENTS.some((name) => text.includes(`_${name}\0`));
}

/**
 * From the last ReadyForQuery message in `chunk` ('Z', length 5, then the status: 'I' idle,
 * 'T' in a transaction, 'E' in a failed one): whether a transaction is open; `undefined`
 * when `chunk` holds none.
 */
function transactionOpen(chunk: Buffer): boolean | undefined {
  const at = chunk.lastIndexOf(READY_FOR_QUERY);
  if (at < 0 || at + READY_FOR_QUERY.length >= chunk.length) return undefined;
  return chunk[at + READY_FOR_QUERY.length] !== 0x49; // 'I'
}

const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5]);

/** True when `chunk` holds an extended-protocol Sync message ('S', length 4). */
function hasSync(chunk: Buffer): boolean {
  return chunk.includes(SYNC);
}

const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
