/**
 * What every lab mail server shares: its options, the handle it returns, and the small
 * plumbing underneath (listening on loopback with socket tracking, and a line channel that
 * reads CRLF lines and literals with hard limits and writes answers after an optional delay).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Issued } from './ca';
import type { LabTenant } from './tenant';
import type { LabClock } from './clock';
import type { LabKeys } from './tokens';

/** A lab server listening on loopback. */
export interface RunningServer {
  host: '127.0.0.1';
  port: number;
  /** Stops listening and destroys every open socket, so no test hangs on a live session. */
  close(): Promise<void>;
}

/**
 * The state the servers read on every decision. It is read live, not copied: a scenario may
 * change the tenant (disable IMAP, switch SMTP AUTH off…) and the next AUTHENTICATE sees it.
 */
export interface LabState {
  tenant: LabTenant;
  keys: LabKeys;
  /**
   * The lab's clock for what ages over days (refresh tokens' 90 days, sign-in log times); real
   * time when unset. Tests move it forward instead of waiting.
   */
  clock?: LabClock;
  /**
   * Every token and device code Entra handed out, in order, when set: tests search what ecebot
   * wrote for them, since the lab makes them up and no test can choose them.
   */
  issued?: string[];
}

/** Options of `startImapServer`, `startPop3Server` and `startSmtpServer`. */
export interface MailServerOptions {
  state: LabState;
  /** Key and certificate (PEM) from `ca.issue({ names: [...] })`. */
  tls: Issued;
  /** Front-end FQDN for greetings, e.g. SI2PR01CA0042.APCPRD01.PROD.OUTLOOK.COM; random if unset. */
  frontEnd?: string;
  /** Delay before every server response line batch (slow-imap scenario). */
  delayMs?: number;
  /** Port to listen on; 0 or unset picks a free one. */
  port?: number;
}

/**
 * Longest command line the lab accepts. Lab tokens are ~1 KB; real Entra tokens reach 2–3 KB and
 * base64 adds a third, so 16 KB leaves room for real clients while bounding what a hostile one can
 * make the server hold (RFC 5321 §4.5.3.1.4 / RFC 9051 §4 let servers set such a limit).
 */
export const MAX_LINE = 16 * 1024;

/** Largest IMAP literal the lab accepts (it has no APPEND; literals only carry names). */
export const MAX_LITERAL = 64 * 1024;

/** Raised by `LineChannel.readLine` when a line exceeds its limit. */
export class LineTooLongError extends Error {
  constructor() {
    super('line too long');
    this.name = 'LineTooLongError';
  }
}

/** Listen on 127.0.0.1 and track sockets so `close()` can end live sessions. */
export function listenTracked(
  server: Server,
  port = 0,
  extra: () => Iterable<Socket> = () => [],
): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      resolve({
        host: '127.0.0.1',
        port: bound,
        close: () =>
          new Promise<void>(done => {
            for (const s of [...sockets, ...extra()]) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Tie two sockets' lifetimes together: either ending or failing ends both. */
export function bindSockets(a: Socket, b: Socket): void {
  const both = () => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) {
    s.on('error', both);
    s.on('close', both);
  }
}

/**
 * Listen on loopback (listenTracked) with a handler that may open more sockets per connection
 * (a relay's upstream, a TLS layer): it `track`s them, and `close()` destroys them too. A client
 * that fails is destroyed.
 */
export function trackedServer(
  handler: (client: Socket, track: (s: Socket) => void) => void,
): Promise<RunningServer> {
  const extra = new Set<Socket>();
  const track = (s: Socket) => {
    extra.add(s);
    s.on('close', () => extra.delete(s));
  };
  const server = createServer(client => {
    client.on('error', () => client.destroy());
    handler(client, track);
  });
  return listenTracked(server, 0, () => extra);
}

const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/**
 * A pull-style reader and a delayed writer over one socket. Protocol sessions are written as
 * plain async loops (`await readLine()` → answer), which keeps pipelined commands in order.
 * The read buffer is bounded: the socket is paused while the session has not caught up.
 */
export class LineChannel {
  private socket: Socket | TLSSocket;
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    // Back-pressure: a client that floods faster than the session answers is paused.
    if (this.buf.length > MAX_LINE * 4) this.socket.pause();
    this.wake();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake();
  };

  constructor(
    socket: Socket | TLSSocket,
    private readonly delayMs = 0,
  ) {
    this.socket = socket;
    this.attach();
  }

  /** The peer's address without the IPv4-mapped prefix (for `Hello [ip]`). */
  get remoteIp(): string {
    return (this.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  }

  /** Whether the socket under the channel is (now) TLS. */
  get encrypted(): boolean {
    return (this.socket as TLSSocket).encrypted === true;
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    this.socket.on('close', this.onEnd);
    // A reset by the client is an ordinary end of session for a server.
    this.socket.on('error', this.onEnd);
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    if (this.socket.isPaused()) this.socket.resume();
    await new Promise<void>(r => (this.waiter = r));
    return true;
  }

  /**
   * The next line without its CRLF (a bare LF is accepted too), or `null` at end of stream.
   * Throws `LineTooLongError` once `max` bytes arrive without a line end.
   */
  async readLine(max = MAX_LINE): Promise<string | null> {
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf >= 0 && lf <= max + 1) {
        const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
        const line = this.buf.subarray(0, end).toString('utf8');
        this.buf = this.buf.subarray(lf + 1);
        return line;
      }
      if (this.buf.length > max + 1) throw new LineTooLongError();
      if (!(await this.more())) return null;
    }
  }

  /** Exactly `n` bytes (an IMAP literal, an SMTP BDAT chunk), or `null` at end of stream. */
  async readBytes(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.more())) return null;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Write one batch of response lines (CRLF added), after the configured delay. */
  async send(...lines: string[]): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.socket.destroyed || !this.socket.writable) return;
    await new Promise<void>(r => this.socket.write(lines.map(l => `${l}\r\n`).join(''), () => r()));
  }

  /** Half-close after the last answer; destroy if the peer does not close in time. */
  end(): void {
    this.ended = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /**
   * Hand the socket to a TLS layer (SMTP STARTTLS, RFC 3207). Stops reading first, so the
   * ClientHello stays in the socket's buffer for the TLS layer, and drops any plaintext the
   * client pipelined after STARTTLS (RFC 3207 §6: nothing from before TLS may carry over).
   * Returns the raw socket for wrapping; call `rebind` with the TLS socket.
   */
  detachForUpgrade(): Socket | TLSSocket {
    this.socket.pause();
    // The 'error' listener stays: a reset under the TLS layer still ends the session.
    this.detach();
    this.buf = Buffer.alloc(0);
    return this.socket;
  }

  /** Continue the session on the upgraded socket. */
  rebind(socket: Socket | TLSSocket): void {
    this.socket = socket;
    this.ended = false;
    this.attach();
  }
}
