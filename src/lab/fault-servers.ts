/**
 * Network faults as real sockets on loopback (faults.ts describes the kinds). Each fault gets
 * its own port; the lab points one vantage point's endpoint there, so a probe from that
 * vantage meets a refused port, a silent one, a slow relay or a certificate it must reject,
 * while the real service stays healthy for everyone else.
 *
 * Certificate faults terminate TLS with the bad certificate and relay the decrypted bytes to
 * the real service over a verified TLS connection, so a client that (wrongly) accepted the
 * certificate would still reach a working service. They work for implicit TLS (IMAP 993, POP3
 * 995, HTTPS) and for SMTP's STARTTLS without being told which: whoever speaks first decides.
 * A TLS client speaks first (ClientHello); an SMTP server speaks first (the 220 banner), in
 * which case the relay passes plaintext through until the client's STARTTLS is answered with
 * 220, then presents the bad certificate for the handshake that follows (RFC 3207 §4).
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';
import {
  connect as tlsConnect,
  createSecureContext,
  TLSSocket,
  type SecureContext,
} from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Issued, LabCa } from './ca';
import type { FaultKind } from './faults';
import { startHugeGreeting, startHugeList } from './hostile-servers';
import { bindSockets, listenTracked, trackedServer, type RunningServer } from './server-types';

/** Options of `startFault`. */
export interface FaultOptions {
  /** The lab CA: it issues the fault's certificates and verifies the real service upstream. */
  ca: LabCa;
  /** The names the real service presents (e.g. `outlook.office365.com`); the first is SNI upstream. */
  names: string[];
  /** `slow`: delay per server→client chunk; `trickle`: per byte; 1000 ms when unset. */
  delayMs?: number;
}

/** The other name a `wrong-cert` fault presents. */
export const WRONG_CERT_NAME = 'wrong.example.net';

const DAY = 86400000;

/** Start a fault in front of the service listening on 127.0.0.1:`upstream.port`. */
export async function startFault(
  kind: FaultKind,
  upstream: { port: number },
  opts: FaultOptions,
): Promise<RunningServer> {
  switch (kind) {
    case 'refuse':
      return refusedPort();
    case 'blackhole':
      return blackhole();
    case 'slow':
      return slowRelay(upstream.port, opts.delayMs ?? 1000);
    case 'wrong-cert':
      return certRelay(upstream.port, opts, opts.ca.issue({ names: [WRONG_CERT_NAME] }));
    case 'expired-cert': {
      const now = Date.now();
      const expired = opts.ca.issue({
        names: opts.names,
        notBefore: new Date(now - 400 * DAY),
        notAfter: new Date(now - 2 * DAY),
      });
      return certRelay(upstream.port, opts, expired);
    }
    case 'trickle':
      return trickleRelay(upstream.port, opts.delayMs ?? 1000);
    case 'garbage':
      return garbage();
    case 'huge-list':
      return startHugeList(upstream, { ca: opts.ca, names: opts.names });
    case 'huge-greeting':
      return startHugeGreeting();
  }
}

/**
 * `refuse`: a port that was free a moment ago and now has no listener, so a connection is
 * answered with RST (ECONNREFUSED), like a firewall that rejects.
 */
async function refusedPort(): Promise<RunningServer> {
  const probe = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const a = probe.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
  await new Promise<void>(r => probe.close(() => r()));
  return { host: '127.0.0.1', port, close: async () => undefined };
}

/** `blackhole`: accepts, never says a byte, holds the socket until `close()`. */
function blackhole(): Promise<RunningServer> {
  const server = createServer(socket => {
    socket.on('error', () => socket.destroy());
  });
  return listenTracked(server);
}

/**
 * A relay to the real service on `upstreamPort`: each client gets its own upstream connection,
 * tied to it (either ending ends both), which `handler` then wires up.
 */
function relayServer(
  upstreamPort: number,
  handler: (client: Socket, up: Socket, track: (s: Socket) => void) => void,
): Promise<RunningServer> {
  return trackedServer((client, track) => {
    const up = netConnect(upstreamPort, '127.0.0.1');
    track(up);
    bindSockets(client, up);
    handler(client, up, track);
  });
}

/** `slow`: a TCP relay that holds every server→client chunk for `delayMs` (order kept). */
function slowRelay(upstreamPort: number, delayMs: number): Promise<RunningServer> {
  return relayServer(upstreamPort, (client, up) => {
    client.pipe(up);
    let chain = Promise.resolve();
    up.on('data', (chunk: Buffer) => {
      chain = chain
        .then(() => new Promise<void>(r => setTimeout(r, delayMs)))
        .then(() => {
          if (!client.destroyed) client.write(chunk);
        });
    });
    up.on('end', () => {
      chain = chain.then(() => {
        client.end();
      });
    });
  });
}

/**
 * `trickle`: a TCP relay that passes the server's bytes on one at a time, one per `delayMs`.
 * Every byte resets a client's idle timer, so only a deadline for the whole exchange ends it.
 */
function trickleRelay(upstreamPort: number, delayMs: number): Promise<RunningServer> {
  return relayServer(upstreamPort, (client, up) => {
    client.pipe(up);
    const queue: Buffer[] = [];
    let offset = 0;
    let ended = false;
    const timer = setInterval(() => {
      const head = queue[0];
      if (!head) {
        if (ended) client.end();
        return;
      }
      if (!client.destroyed) client.write(head.subarray(offset, offset + 1));
      offset += 1;
      if (offset >= head.length) {
        queue.shift();
        offset = 0;
      }
    }, delayMs);
    client.on('close', () => clearInterval(timer));
    up.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      // The relay holds what the client has not got yet; past a megabyte, stop reading upstream.
      if (queue.reduce((n, b) => n + b.length, 0) > 1024 * 1024) up.pause();
    });
    up.on('end', () => {
      ended = true;
    });
  });
}

/** How many random bytes `garbage` sends each time. */
const GARBAGE_BYTES = 1024;

/**
 * Random bytes that are neither TLS nor a mail protocol: the first byte is 0xff, which is no TLS
 * record type (RFC 8446 §5.1 uses 20-24) and starts no SMTP/IMAP/POP3 reply; each burst ends in
 * CRLF so a line-based client has a (meaningless) line to judge.
 */
function noise(): Buffer {
  const b = randomBytes(GARBAGE_BYTES);
  b[0] = 0xff;
  b[b.length - 2] = 0x0d;
  b[b.length - 1] = 0x0a;
  return b;
}

/** `garbage`: see noise(); sent on connect and after every chunk the client sends. */
function garbage(): Promise<RunningServer> {
  const server = createServer(socket => {
    socket.on('error', () => socket.destroy());
    socket.write(noise());
    socket.on('data', () => {
      if (!socket.destroyed) socket.write(noise());
    });
  });
  return listenTracked(server);
}

/** Terminate TLS towards the client with `cert`, open verified TLS upstream, and relay. */
function spliceTls(
  client: Socket,
  up: Socket,
  context: SecureContext,
  opts: FaultOptions,
  track: (s: Socket) => void,
): void {
  const front = new TLSSocket(client, { isServer: true, secureContext: context });
  const back = tlsConnect({ socket: up, servername: opts.names[0], ca: opts.ca.certPem });
  track(front);
  track(back);
  bindSockets(front, back);
  front.pipe(back);
  back.pipe(front);
}

/** `wrong-cert` / `expired-cert`: see the file comment. */
function certRelay(upstreamPort: number, opts: FaultOptions, cert: Issued): Promise<RunningServer> {
  const context = createSecureContext({ key: cert.keyPem, cert: cert.certPem });
  return relayServer(upstreamPort, (client, up, track) => {
    let decided = false;
    const decide = (first: Buffer, from: Socket) => {
      if (decided) return;
      decided = true;
      client.off('data', onClient);
      up.off('data', onUp);
      client.pause();
      up.pause();
      // Put the first bytes back: the TLS layer (or the plaintext relay) reads them again.
      from.unshift(first);
      if (from === client) spliceTls(client, up, context, opts, track);
      else startTlsRelay(client, up, context, opts, track);
    };
    const onClient = (b: Buffer) => decide(b, client);
    const onUp = (b: Buffer) => decide(b, up);
    client.on('data', onClient);
    up.on('data', onUp);
  });
}

/**
 * Plaintext SMTP relay until STARTTLS is accepted (RFC 3207 §4: the handshake starts right
 * after the server's 220), then the bad certificate towards the client.
 */
function startTlsRelay(
  client: Socket,
  up: Socket,
  context: SecureContext,
  opts: FaultOptions,
  track: (s: Socket) => void,
): void {
  let clientText = '';
  let pending = false;
  let upText = '';
  const fromClient = (chunk: Buffer) => {
    up.write(chunk);
    clientText = (clientText + chunk.toString('latin1')).slice(-4096);
    const lines = clientText.split('\n');
    clientText = lines.pop() ?? '';
    if (lines.some(l => /^STARTTLS\s*$/i.test(l))) {
      pending = true;
      client.off('data', fromClient);
      client.pause();
    }
  };
  const fromUp = (chunk: Buffer) => {
    if (!pending) {
      client.write(chunk);
      return;
    }
    upText += chunk.toString('latin1');
    if (!upText.includes('\n')) return;
    const reply = upText;
    upText = '';
    if (/^220[ -]/.test(reply)) {
      up.off('data', fromUp);
      up.pause();
      client.write(reply, () => spliceTls(client, up, context, opts, track));
      return;
    }
    // STARTTLS refused: carry on in plaintext.
    pending = false;
    client.write(reply);
    client.on('data', fromClient);
    client.resume();
  };
  client.on('data', fromClient);
  up.on('data', fromUp);
  client.resume();
  up.resume();
}
