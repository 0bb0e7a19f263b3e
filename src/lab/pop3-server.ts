/**
 * The lab's POP3 server on implicit TLS, speaking as outlook.office365.com:995 does
 * (o365-facts.md §1.3). Syntax follows RFC 1939 (commands, multi-line byte-stuffed answers),
 * RFC 2449 (CAPA) and RFC 5034 (AUTH); the words are Exchange Online's.
 *
 * One deliberate departure from RFC 5034: `AUTH XOAUTH2 <initial-response>` on one line is
 * refused with `-ERR Protocol error. Connection is closed. 10` and the connection is closed,
 * as EXO does (getmail6 #256; MS doc "POP protocol exchange"; o365-facts.md §5 row 6). Only
 * the two-step form (`AUTH XOAUTH2`, `+ `, blob) logs in. curl sends the two-step form by
 * default (an initial response only with --sasl-ir, and never one longer than 247 bytes).
 *
 * Every login failure — bad token, wrong user, POP disabled — gets the one EXO text
 * `-ERR Authentication failure: unknown user name or bad password.` (§5 row 5). DELE marks a
 * message for the session only: the lab's mailboxes keep their messages after QUIT, so every
 * run of a scenario sees the same maildrop.
 */
import { createHash } from 'node:crypto';
import { createServer, type TLSSocket } from 'node:tls';
import { frontEndName, POP3, rfc1123 } from './exo-words';
import { decideMailAuth, parseXoauth2 } from './mail-auth';
import {
  LineChannel,
  LineTooLongError,
  listenTracked,
  type LabState,
  type MailServerOptions,
  type RunningServer,
} from './server-types';

/** One message of the maildrop: its lines (no CRLF), size in octets and unique id. */
export interface Pop3Message {
  lines: string[];
  size: number;
  uidl: string;
}

/**
 * The i-th (1-based) generated message of a mailbox: a small RFC 5322 message, the same on
 * every run, with one body line starting with "." so clients meet byte-stuffing.
 */
export function labMessage(mailbox: string, i: number): Pop3Message {
  const digest = createHash('sha256').update(`${mailbox.toLowerCase()}#${i}`).digest();
  const lines = [
    `Return-Path: <customer${i}@example.net>`,
    `From: Customer ${i} <customer${i}@example.net>`,
    `To: <${mailbox}>`,
    `Subject: Lab message ${i}`,
    `Date: ${rfc1123(new Date(Date.UTC(2026, 0, i, 9, 0, 0)))}`,
    `Message-ID: <lab-${digest.subarray(0, 8).toString('hex')}@example.net>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello, this is message ${i} for ${mailbox}.`,
    '.This line starts with a dot (RFC 1939 §3 byte-stuffing).',
    'Regards,',
    'The lab',
  ];
  const size = lines.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0);
  // UIDL: up to 70 characters from 0x21–0x7E (RFC 1939 §7); EXO's look like `AAQkA…`.
  return { lines, size, uidl: `AAQkA${digest.toString('base64url').slice(0, 38)}` };
}

/** RFC 1939 §3: a line starting with "." is sent with one more ".". */
function dotStuff(lines: string[]): string[] {
  return lines.map(l => (l.startsWith('.') ? `.${l}` : l));
}

const TRANSACTION = new Set(['STAT', 'LIST', 'UIDL', 'RETR', 'TOP', 'DELE', 'NOOP', 'RSET']);

class Pop3Session {
  private state: 'authorization' | 'transaction' = 'authorization';
  private messages: Pop3Message[] = [];
  private deleted = new Set<number>();
  private closed = false;

  constructor(
    private readonly ch: LineChannel,
    private readonly labState: LabState,
    private readonly frontEnd: string,
  ) {}

  async run(): Promise<void> {
    await this.ch.send(POP3.greeting(this.frontEnd));
    while (!this.closed) {
      let line: string | null;
      try {
        line = await this.ch.readLine();
      } catch (err) {
        if (!(err instanceof LineTooLongError)) throw err;
        await this.ch.send(POP3.tooLong);
        return this.close();
      }
      if (line === null) return;
      if (line.trim() === '') continue;
      const [verb = '', ...args] = line.trim().split(/ +/);
      await this.dispatch(verb.toUpperCase(), args);
    }
  }

  private close(): void {
    this.closed = true;
    this.ch.end();
  }

  private dispatch(verb: string, args: string[]): Promise<void> {
    if (verb === 'CAPA') return this.capa();
    if (verb === 'QUIT') return this.quit();
    if (this.state === 'authorization') {
      if (verb === 'USER') return this.ch.send(POP3.ok);
      // Basic auth is off in Exchange Online (o365-facts.md §1.7).
      if (verb === 'PASS') return this.ch.send(POP3.logonFailed);
      if (verb === 'AUTH') return this.auth(args);
      if (TRANSACTION.has(verb)) return this.ch.send(POP3.badState);
      return this.ch.send(POP3.protocolError);
    }
    if (verb === 'USER' || verb === 'PASS' || verb === 'AUTH') return this.ch.send(POP3.badState);
    switch (verb) {
      case 'STAT':
        return this.stat();
      case 'LIST':
        return this.list(args[0]);
      case 'UIDL':
        return this.uidl(args[0]);
      case 'RETR':
        return this.retr(args[0]);
      case 'TOP':
        return this.top(args[0], args[1]);
      case 'DELE':
        return this.dele(args[0]);
      case 'NOOP':
        return this.ch.send(POP3.ok);
      case 'RSET':
        this.deleted.clear();
        return this.ch.send(POP3.ok);
      default:
        return this.ch.send(POP3.protocolError);
    }
  }

  /** CAPA (RFC 2449 §5), the list EXO sends (email-oauth2-proxy #62). */
  private capa(): Promise<void> {
    return this.ch.send(POP3.ok, ...POP3.capa, '.');
  }

  private async quit(): Promise<void> {
    await this.ch.send(POP3.signOff);
    this.close();
  }

  /** AUTH (RFC 5034): XOAUTH2 two-step only (see the file comment); PLAIN is basic auth. */
  private async auth(args: string[]): Promise<void> {
    const mech = args[0]?.toUpperCase();
    if (mech !== 'XOAUTH2' && mech !== 'PLAIN') return this.ch.send(POP3.protocolError);
    if (mech === 'XOAUTH2' && args.length > 1) {
      await this.ch.send(POP3.protocolErrorClosed);
      return this.close();
    }
    let response = args[1];
    if (response === undefined) {
      await this.ch.send(POP3.authContinue);
      const line = await this.ch.readLine();
      if (line === null) return this.close();
      response = line.trim();
    }
    if (mech === 'PLAIN' || response === '*') return this.ch.send(POP3.authFailed);
    return this.finishXoauth2(response);
  }

  private async finishXoauth2(blob: string): Promise<void> {
    const sasl = parseXoauth2(blob);
    const outcome = sasl && decideMailAuth(this.labState, 'pop3', sasl.user, sasl.token);
    if (!outcome || !outcome.ok) return this.ch.send(POP3.authFailed);
    // RFC 1939 §8: the maildrop is fixed when the session enters the transaction state.
    const mbx = this.labState.tenant.mailboxes.find(m => m.address === outcome.mailbox);
    const count = mbx?.messages ?? 0;
    this.messages = Array.from({ length: count }, (_, i) => labMessage(outcome.mailbox, i + 1));
    this.state = 'transaction';
    return this.ch.send(POP3.authOk);
  }

  /** The live message numbers (1-based), without those marked deleted. */
  private live(): number[] {
    return this.messages.map((_, i) => i + 1).filter(n => !this.deleted.has(n));
  }

  /** Resolve a message-number argument, or answer the error and return undefined. */
  private async pick(arg: string | undefined): Promise<Pop3Message | undefined> {
    const n = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : NaN;
    const msg = this.messages[n - 1];
    if (!msg) {
      await this.ch.send(POP3.noSuchMessage);
      return undefined;
    }
    if (this.deleted.has(n)) {
      await this.ch.send(POP3.deleted);
      return undefined;
    }
    return msg;
  }

  private stat(): Promise<void> {
    const live = this.live();
    const octets = live.reduce((s, n) => s + this.messages[n - 1]!.size, 0);
    return this.ch.send(`+OK ${live.length} ${octets}`);
  }

  private async list(arg: string | undefined): Promise<void> {
    if (arg !== undefined) {
      const msg = await this.pick(arg);
      if (msg) await this.ch.send(`+OK ${arg} ${msg.size}`);
      return;
    }
    const live = this.live();
    const octets = live.reduce((s, n) => s + this.messages[n - 1]!.size, 0);
    const lines = live.map(n => `${n} ${this.messages[n - 1]!.size}`);
    return this.ch.send(`+OK ${live.length} ${octets}`, ...lines, '.');
  }

  private async uidl(arg: string | undefined): Promise<void> {
    if (arg !== undefined) {
      const msg = await this.pick(arg);
      if (msg) await this.ch.send(`+OK ${arg} ${msg.uidl}`);
      return;
    }
    const lines = this.live().map(n => `${n} ${this.messages[n - 1]!.uidl}`);
    return this.ch.send(POP3.ok, ...lines, '.');
  }

  private async retr(arg: string | undefined): Promise<void> {
    const msg = await this.pick(arg);
    if (msg) await this.ch.send(POP3.ok, ...dotStuff(msg.lines), '.');
  }

  /** TOP (RFC 1939 §7): the header, the blank line and the first `n` body lines. */
  private async top(arg: string | undefined, lines: string | undefined): Promise<void> {
    if (lines === undefined || !/^\d+$/.test(lines)) return this.ch.send(POP3.protocolError);
    const msg = await this.pick(arg);
    if (!msg) return;
    const blank = msg.lines.indexOf('');
    const shown = msg.lines.slice(0, blank + 1 + Number(lines));
    await this.ch.send(POP3.ok, ...dotStuff(shown), '.');
  }

  private async dele(arg: string | undefined): Promise<void> {
    const msg = await this.pick(arg);
    if (!msg) return;
    this.deleted.add(Number(arg));
    await this.ch.send(POP3.ok);
  }
}

/** Start the lab's POP3 server (implicit TLS, like port 995). */
export function startPop3Server(opts: MailServerOptions): Promise<RunningServer> {
  const frontEnd = opts.frontEnd ?? frontEndName();
  const server = createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem });
  const live = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    const session = new Pop3Session(new LineChannel(socket, opts.delayMs), opts.state, frontEnd);
    session.run().catch(() => socket.destroy());
  });
  server.on('tlsClientError', () => undefined);
  return listenTracked(server, opts.port, () => live);
}
