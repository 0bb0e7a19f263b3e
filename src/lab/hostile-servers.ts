/**
 * Servers that misbehave at the protocol level, for the lab's `huge-list` and `huge-greeting`
 * faults (faults.ts). Transport faults (fault-servers.ts) break the connection; these speak the
 * protocol but abuse what it allows, so the probes' bounds on what they buffer are tested:
 *
 * - `huge-list` (IMAP): a TLS relay to the real IMAP service that answers every LIST with
 *   100,000 extra `* LIST` lines before the real answer. Untagged responses may come at any
 *   time (RFC 9051 §7, RFC 3501 §7), so a client must cope with any number of them.
 * - `huge-greeting` (SMTP): a 220 greeting of 10 MB without CRLF until its end, where RFC 5321
 *   §4.5.3.1.5 allows 512 octets per reply line; after it, EHLO offers no STARTTLS.
 */
import type { Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, TLSSocket } from 'node:tls';
import type { LabCa } from './ca';
import { bindSockets, trackedServer, type RunningServer } from './server-types';

/** How many `* LIST` lines `huge-list` adds to each LIST answer. */
export const HUGE_LIST_LINES = 100_000;

/** How long the `huge-greeting` 220 line is, in bytes, before its CRLF. */
export const HUGE_GREETING_BYTES = 10 * 1024 * 1024;

/**
 * Write `data`, then wait until the socket takes more (or is gone): a client that stops reading
 * must not make the lab buffer megabytes.
 */
async function write(socket: Socket, data: string | Buffer): Promise<boolean> {
  if (socket.destroyed) return false;
  if (socket.write(data)) return true;
  await new Promise<void>(resolve => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
  return !socket.destroyed;
}

/** Options of `startHugeList`. */
export interface HugeListOptions {
  ca: LabCa;
  /** The names the real service presents; the first is SNI upstream. */
  names: string[];
  /** Extra `* LIST` lines per LIST; HUGE_LIST_LINES when unset. */
  lines?: number;
}

/** `huge-list`: see the file comment. */
export function startHugeList(
  upstream: { port: number },
  opts: HugeListOptions,
): Promise<RunningServer> {
  const issued = opts.ca.issue({ names: opts.names });
  const context = createSecureContext({ key: issued.keyPem, cert: issued.certPem });
  const count = opts.lines ?? HUGE_LIST_LINES;
  return trackedServer((client, track) => {
    const front = new TLSSocket(client, { isServer: true, secureContext: context });
    const back = tlsConnect({
      host: '127.0.0.1',
      port: upstream.port,
      servername: opts.names[0],
      ca: opts.ca.certPem,
    });
    track(front);
    track(back);
    bindSockets(front, back);
    back.pipe(front);
    // Client lines go upstream in order; a LIST is preceded by the flood of untagged lines.
    let text = '';
    let chain = Promise.resolve();
    front.on('data', (chunk: Buffer) => {
      chain = chain.then(async () => {
        text += chunk.toString('latin1');
        let i: number;
        while ((i = text.indexOf('\n')) >= 0) {
          const line = text.slice(0, i + 1);
          text = text.slice(i + 1);
          if (/^\S+ (?:LIST|LSUB|XLIST)\b/i.test(line) && !(await flood(front, count))) return;
          if (!back.destroyed) back.write(line, 'latin1');
        }
      });
    });
  });
}

/** Send `count` untagged LIST lines in batches, each batch waiting for the client to read. */
async function flood(socket: Socket, count: number): Promise<boolean> {
  const batch = 1000;
  for (let n = 0; n < count; n += batch) {
    const lines: string[] = [];
    for (let k = n; k < Math.min(n + batch, count); k++) {
      lines.push(`* LIST (\\HasNoChildren) "/" "Flood/Folder ${k}"\r\n`);
    }
    if (!(await write(socket, lines.join('')))) return false;
  }
  return true;
}

/** Options of `startHugeGreeting`. */
export interface HugeGreetingOptions {
  /** Length of the 220 line before its CRLF; HUGE_GREETING_BYTES when unset. */
  bytes?: number;
}

/** `huge-greeting`: see the file comment. */
export function startHugeGreeting(opts: HugeGreetingOptions = {}): Promise<RunningServer> {
  const total = opts.bytes ?? HUGE_GREETING_BYTES;
  return trackedServer(client => {
    void (async () => {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      if (!(await write(client, '220 smtp.office365.com '))) return;
      for (let sent = 0; sent < total; sent += chunk.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
        if (!(await write(client, part))) return;
      }
      if (!(await write(client, '\r\n'))) return;
      // A client that read all that gets a session without STARTTLS (RFC 3207).
      let text = '';
      client.on('data', (b: Buffer) => {
        text = (text + b.toString('latin1')).slice(-4096);
        let i: number;
        while ((i = text.indexOf('\n')) >= 0) {
          const verb = text.slice(0, i).trim().split(' ')[0]!.toUpperCase();
          text = text.slice(i + 1);
          if (verb === 'EHLO' || verb === 'HELO')
            client.write('250-smtp.office365.com\r\n250 SIZE 37748736\r\n');
          else if (verb === 'QUIT')
            client.end('221 2.0.0 Service closing transmission channel\r\n');
          else client.write('502 5.5.1 Unrecognized command\r\n');
        }
      });
    })();
  });
}
