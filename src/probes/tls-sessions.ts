/**
 * TLS session resumption for the Entra, Graph and Exchange admin API reads (the keep-alive agent
 * of ProbeContext.agent), across the parts and runs of one process.
 *
 * A full TLS handshake makes the client parse and verify the server's certificate chain and
 * check its signature; a resumed one (RFC 8446 §2.2, a pre-shared key from a session ticket)
 * skips both, and Node then skips its own host-name check too, as the session was verified when
 * it was made (Node.js TLS documentation, "Session resumption"; `tls.connect` option `session`,
 * `TLSSocket` event `'session'`, `tlsSocket.isSessionReused()`). Node's https.Agent already
 * caches sessions, but per agent: a run part's agent starts its connections in parallel, before
 * any ticket arrived, and is destroyed when the part ends, so nothing was ever resumed.
 *
 * What this hides, and why that is fine: these reads observe HTTP answers, not handshakes. The
 * network item (src/runner/reads/network.ts) judges TLS with its own probes (src/probes/tls.ts),
 * which never use this agent nor a session: every run still makes a full handshake to each
 * endpoint it judges, and records version, cipher and certificate. A resumed connection is still
 * a new TCP connection and a new TLS connection with fresh keys; only the certificate work is
 * saved. The server decides: it may refuse the ticket (then the handshake is full and verified),
 * and its ticket lifetime bounds how long a session lives (RFC 8446 §4.6.1: at most 7 days;
 * Node's own servers: 300 s). Sessions are kept per trust (the secure context of the inventory's
 * CA, or Node's roots), so a session verified under one CA is never offered under another.
 */
import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';

/** Most sessions kept per trust; oldest dropped first (a few hosts per environment). */
const MAX_SESSIONS = 64;

/** Sessions per trust: the secure context of an extra CA, or `default` for Node's roots. */
const SESSIONS = new WeakMap<object, Map<string, Buffer>>();
const DEFAULT_TRUST = {};

function sessionsFor(ctx: SecureContext | undefined): Map<string, Buffer> {
  const key = ctx ?? DEFAULT_TRUST;
  let m = SESSIONS.get(key);
  if (!m) SESSIONS.set(key, (m = new Map()));
  return m;
}

/** The name a session is kept under: where the socket goes and the name it verifies. */
function sessionKey(o: RequestOptions): string {
  return `${o.servername ?? ''}|${o.host ?? o.hostname ?? ''}|${o.port ?? 443}`;
}

/** Counts of handshakes made by ResumingAgents in this process (for the bench and tests). */
export const handshakeCounts = { full: 0, resumed: 0 };

/**
 * A keep-alive HTTPS agent whose connections offer the last session this process made to the
 * same host, port and name under the same trust, and keep the sessions they are given.
 */
export class ResumingAgent extends Agent {
  constructor(options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    // https.Agent hands createConnection the request's TLS options (tls.connect's).
    const tlsOptions = options as RequestOptions & ConnectionOptions;
    const store = sessionsFor(tlsOptions.secureContext);
    const key = sessionKey(options);
    const session = store.get(key);
    const socket = super.createConnection(
      session ? ({ ...tlsOptions, session } as RequestOptions) : options,
      callback,
    ) as TLSSocket;
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) handshakeCounts.resumed++;
      else handshakeCounts.full++;
    });
    socket.on('session', (s: Buffer) => {
      store.delete(key);
      store.set(key, s);
      if (store.size > MAX_SESSIONS) store.delete(store.keys().next().value!);
    });
    // A connection that failed may have failed on its session (the server forgot it): the
    // next one starts afresh with a full handshake.
    socket.once('close', (hadError: boolean) => {
      if (hadError) store.delete(key);
    });
    return socket;
  }
}
