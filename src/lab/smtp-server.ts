/**
 * The lab's SMTP submission server, speaking as smtp.office365.com:587 does (o365-facts.md
 * §1.4): plain TCP, STARTTLS (RFC 3207), then AUTH XOAUTH2 (RFC 4954, inline or after `334 `),
 * MAIL/RCPT/DATA (RFC 5321) and BDAT (RFC 3030, since EHLO advertises CHUNKING).
 *
 * Decisions where the facts are silent:
 * - AUTH before STARTTLS: the pre-TLS EHLO offers no AUTH, so any mechanism is unknown there:
 *   `504 5.7.4 Unrecognized authentication type [diag]` (what clients that skip STARTTLS
 *   report from EXO, e.g. maxisam/mgob #52); MAIL FROM before TLS is unauthenticated (530).
 * - SMTP AUTH is the signed-in account itself: a `user=` other than the token's user (a shared
 *   mailbox the user has Full Access to included) fails at AUTH with 535 5.7.3
 *   (o365-facts.md §1.5; nextcloud/mail #13668, frappe/frappe #23079, Mailspring-Sync #116).
 * - MAIL FROM is accepted (250 2.1.0 Sender OK); Send As is applied at submission, so a sender
 *   other than the account (envelope MAIL FROM or header From:) without Send As on it is
 *   refused at the end of DATA with 554 5.2.252 SendAsDenied (o365-facts.md §1.4: gophish
 *   #2900; nextcloud/mail #13668: "Exchange applies the Send As permission at submission
 *   time"). The 5.7.60 text "Client does not have permissions to send as this sender" is the
 *   older and NDR wording of the same refusal; the lab speaks the SMTP reply.
 * - Messages are not kept: the server counts octets and reads headers only, so a client
 *   cannot make it hold a message in memory.
 */
import { createServer, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { exoBuildId, frontEndName, rfc1123, SMTP, smtpDiag, smtpHostName } from './exo-words';
import { decideMailAuth, maySendAs, parseXoauth2 } from './mail-auth';
import {
  LineChannel,
  LineTooLongError,
  listenTracked,
  type LabState,
  type MailServerOptions,
  type RunningServer,
} from './server-types';

/** Header bytes kept per message (to read From: and Message-ID:). */
const MAX_HEADER = 64 * 1024;
/** Recipients per transaction (RFC 5321 §4.5.3.1.8 requires at least 100). */
const MAX_RCPT = 500;

/** Server-wide identity, the same for every session like one EXO front-end. */
interface Identity {
  frontEnd: string;
  host: string;
  buildId: string;
}

/** The address inside `<…>` of a From: header, or its bare address. */
function headerFromAddress(headers: string): string | undefined {
  const m = /^From:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(headers);
  if (!m) return undefined;
  const value = m[1]!.replace(/\r?\n[ \t]/g, ' ');
  const angle = /<([^>]*)>/.exec(value);
  return (angle ? angle[1]! : value).trim();
}

function headerMessageId(headers: string): string | undefined {
  return /^Message-ID:[ \t]*(<[^>\r\n]+>)/im.exec(headers)?.[1];
}

class SmtpSession {
  private helo: string | undefined;
  private tls = false;
  private auth: { mailbox: string; upn: string } | undefined;
  private from: string | undefined;
  private rcpts: string[] = [];
  private header = '';
  private size = 0;
  private closed = false;

  constructor(
    private readonly ch: LineChannel,
    private readonly labState: LabState,
    private readonly id: Identity,
    private readonly upgrade: (raw: Socket) => TLSSocket,
  ) {}

  private diag(): string {
    return smtpDiag(this.id.frontEnd, this.id.buildId);
  }

  async run(): Promise<void> {
    await this.ch.send(SMTP.banner(this.id.host, rfc1123(), this.id.buildId));
    while (!this.closed) {
      let line: string | null;
      try {
        line = await this.ch.readLine();
        if (line === null) return;
        await this.dispatch(line);
      } catch (err) {
        if (!(err instanceof LineTooLongError)) throw err;
        await this.ch.send(SMTP.lineTooLong);
        return this.close();
      }
    }
  }

  private close(): void {
    this.closed = true;
    this.ch.end();
  }

  private dispatch(line: string): Promise<void> {
    const m = /^(\S*)\s*(.*)$/.exec(line.trim())!;
    const verb = m[1]!.toUpperCase();
    const rest = m[2]!;
    switch (verb) {
      case 'EHLO':
      case 'HELO':
        return this.hello(verb, rest);
      case 'STARTTLS':
        return this.startTls(rest);
      case 'AUTH':
        return this.authenticate(rest);
      case 'MAIL':
        return this.mail(rest);
      case 'RCPT':
        return this.rcpt(rest);
      case 'DATA':
        return this.data(rest);
      case 'BDAT':
        return this.bdat(rest);
      case 'RSET':
        this.resetTransaction();
        return this.ch.send(SMTP.reset);
      case 'NOOP':
        return this.ch.send(SMTP.noop);
      case 'QUIT':
        return this.quit();
      default:
        // EXO echoes the verb; the lab keeps it short so a stray SASL blob sent as a
        // command is not echoed back into transcripts.
        return this.ch.send(SMTP.unrecognized(m[1]!.replace(/[^\x21-\x7e]/g, '').slice(0, 16)));
    }
  }

  private resetTransaction(): void {
    this.from = undefined;
    this.rcpts = [];
    this.header = '';
    this.size = 0;
  }

  /** EHLO / HELO (RFC 5321 §4.1.1.1): the keyword list depends on whether TLS is up. */
  private hello(verb: string, domain: string): Promise<void> {
    if (!domain) return this.ch.send(SMTP.invalidArguments);
    this.helo = domain;
    this.resetTransaction();
    const greeting = SMTP.hello(this.id.host, this.ch.remoteIp);
    if (verb === 'HELO') return this.ch.send(`250 ${greeting}`);
    const keywords = this.tls ? SMTP.ehloTls : SMTP.ehloPlain;
    const lines = [greeting, ...keywords];
    return this.ch.send(...lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`));
  }

  /**
   * STARTTLS (RFC 3207): answer 220, then hand the socket to TLS. Everything learnt before
   * is forgotten (§4.2): the client must EHLO again.
   */
  private async startTls(rest: string): Promise<void> {
    if (this.tls) return this.ch.send(SMTP.unrecognized('STARTTLS'));
    if (rest) return this.ch.send(SMTP.invalidArguments);
    const raw = this.ch.detachForUpgrade() as Socket;
    await new Promise<void>(r => raw.write(`${SMTP.startTls}\r\n`, () => r()));
    this.ch.rebind(this.upgrade(raw));
    this.tls = true;
    this.helo = undefined;
    this.auth = undefined;
    this.resetTransaction();
  }

  /** AUTH (RFC 4954): XOAUTH2 is OAuth; LOGIN is basic auth (refused); the rest unknown. */
  private async authenticate(rest: string): Promise<void> {
    const [mechRaw, initial] = rest.split(/\s+/);
    const mech = (mechRaw ?? '').toUpperCase();
    if (!this.tls) return this.ch.send(SMTP.unrecognizedAuth(this.diag()));
    if (!this.helo) return this.ch.send(SMTP.sendHelloFirst);
    if (this.auth) return this.ch.send(SMTP.alreadyAuthenticated);
    if (mech === 'XOAUTH2') {
      const blob = initial ?? (await this.ask(SMTP.authContinue));
      if (blob === null) return this.close();
      if (blob === '*') return this.ch.send(SMTP.authCanceled);
      return this.finishXoauth2(blob);
    }
    if (mech === 'LOGIN') {
      const user = initial ?? (await this.ask(SMTP.loginUser));
      if (user === null) return this.close();
      if (user === '*') return this.ch.send(SMTP.authCanceled);
      const pass = await this.ask(SMTP.loginPass);
      if (pass === null) return this.close();
      if (pass === '*') return this.ch.send(SMTP.authCanceled);
      return this.ch.send(SMTP.basicDisabled(this.diag()));
    }
    return this.ch.send(SMTP.unrecognizedAuth(this.diag()));
  }

  /** Send a 334 challenge and read the client's answer line. */
  private async ask(challenge: string): Promise<string | null> {
    await this.ch.send(challenge);
    const line = await this.ch.readLine();
    return line === null ? null : line.trim();
  }

  private finishXoauth2(blob: string): Promise<void> {
    const sasl = parseXoauth2(blob);
    const outcome = sasl && decideMailAuth(this.labState, 'smtp', sasl.user, sasl.token);
    if (outcome && outcome.ok) {
      this.auth = { mailbox: outcome.mailbox, upn: outcome.upn };
      return this.ch.send(SMTP.authOk);
    }
    if (outcome?.reason === 'smtp-disabled-tenant')
      return this.ch.send(SMTP.authDisabledTenant(this.diag()));
    if (outcome?.reason === 'smtp-disabled-mailbox')
      return this.ch.send(SMTP.authDisabledMailbox(this.diag()));
    return this.ch.send(SMTP.authFailed(this.diag()));
  }

  /** MAIL FROM (RFC 5321 §4.1.1.2); submission needs AUTH first (RFC 6409 §4.1). */
  private mail(rest: string): Promise<void> {
    if (!this.auth) return this.ch.send(SMTP.notAuthenticated(this.diag()));
    if (this.from !== undefined) return this.ch.send(SMTP.senderAlready);
    const m = /^FROM:\s*<([^>]*)>(.*)$/i.exec(rest);
    if (!m) return this.ch.send(SMTP.invalidArguments);
    const size = /(?:^|\s)SIZE=(\d+)/i.exec(m[2]!);
    if (size && Number(size[1]) > SMTP.maxSize) return this.ch.send(SMTP.tooBig);
    this.from = m[1]!;
    return this.ch.send(SMTP.senderOk);
  }

  /** RCPT TO (RFC 5321 §4.1.1.3). */
  private rcpt(rest: string): Promise<void> {
    if (this.from === undefined) return this.ch.send(SMTP.needMail);
    const m = /^TO:\s*<([^>]+)>/i.exec(rest);
    if (!m) return this.ch.send(SMTP.invalidArguments);
    if (this.rcpts.length >= MAX_RCPT) return this.ch.send('452 4.5.3 Too many recipients');
    this.rcpts.push(m[1]!);
    return this.ch.send(SMTP.recipientOk);
  }

  private canTakeContent(rest: string, verb: 'DATA' | 'BDAT'): string | undefined {
    if (this.from === undefined) return SMTP.needMail;
    if (this.rcpts.length === 0) return SMTP.needRcpt;
    if (verb === 'DATA' && rest) return SMTP.invalidArguments;
    return undefined;
  }

  /** Keep only the header part of the content: it is all the lab reads. */
  private take(text: string): void {
    if (this.header.length < MAX_HEADER) this.header += text.slice(0, MAX_HEADER);
  }

  /** DATA (RFC 5321 §4.1.1.4): read to the lone ".", undoing dot-stuffing (§4.5.2). */
  private async data(rest: string): Promise<void> {
    const refusal = this.canTakeContent(rest, 'DATA');
    if (refusal) return this.ch.send(refusal);
    await this.ch.send(SMTP.dataGo);
    for (;;) {
      const line = await this.ch.readLine();
      if (line === null) return this.close();
      if (line === '.') break;
      const text = line.startsWith('.') ? line.slice(1) : line;
      this.size += Buffer.byteLength(text) + 2;
      this.take(`${text}\r\n`);
    }
    return this.finish();
  }

  /** BDAT (RFC 3030 §2): exact-size chunks, the last one marked LAST. */
  private async bdat(rest: string): Promise<void> {
    const m = /^(\d+)(?:\s+(LAST))?$/i.exec(rest);
    if (!m) return this.ch.send(SMTP.invalidArguments);
    const n = Number(m[1]);
    const refusal = this.canTakeContent(rest, 'BDAT');
    // The chunk follows the command whatever the answer, so it is read (and dropped) first.
    let left = n;
    while (left > 0) {
      const part = await this.ch.readBytes(Math.min(left, 64 * 1024));
      if (part === null) return this.close();
      left -= part.length;
      if (!refusal) this.take(part.toString('latin1'));
    }
    if (refusal) return this.ch.send(refusal);
    this.size += n;
    if (!m[2]) return this.ch.send(SMTP.bdatOk(n));
    return this.finish();
  }

  /** End of content: size, Send As (the account's own addresses or a Send As grant), then queued. */
  private finish(): Promise<void> {
    const auth = this.auth!;
    const headers = this.header.split(/\r?\n\r?\n/)[0] ?? '';
    const envelope = this.from ?? '';
    const headerFrom = headerFromAddress(headers);
    const size = this.size;
    this.resetTransaction();
    if (size > SMTP.maxSize) return this.ch.send(SMTP.tooBig);
    const allowed = (a: string) => maySendAs(this.labState, auth.upn, a);
    const offending = !allowed(envelope)
      ? envelope
      : headerFrom && !allowed(headerFrom)
        ? headerFrom
        : undefined;
    if (offending !== undefined)
      return this.ch.send(SMTP.sendAsDenied(auth.mailbox, offending, this.id.frontEnd));
    const messageId =
      headerMessageId(headers) ??
      `<${randomBytes(12).toString('hex').toUpperCase()}@${this.id.frontEnd}>`;
    return this.ch.send(SMTP.queued(messageId, this.id.frontEnd));
  }

  private async quit(): Promise<void> {
    await this.ch.send(SMTP.quit);
    this.close();
  }
}

/** Start the lab's SMTP submission server (plain TCP with STARTTLS, like port 587). */
export function startSmtpServer(opts: MailServerOptions): Promise<RunningServer> {
  const frontEnd = opts.frontEnd ?? frontEndName();
  const id: Identity = { frontEnd, host: smtpHostName(frontEnd), buildId: exoBuildId() };
  const context = createSecureContext({ key: opts.tls.keyPem, cert: opts.tls.certPem });
  const live = new Set<TLSSocket>();
  const upgrade = (raw: Socket): TLSSocket => {
    const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
    live.add(secure);
    secure.on('close', () => live.delete(secure));
    return secure;
  };
  // noDelay: replies to pipelined commands (RFC 2920: MAIL, RCPT, DATA in one packet) are
  // written one by one; with Nagle's algorithm the second waited for the client's delayed ACK,
  // about 40 ms per test message that Exchange Online does not add.
  const server = createServer({ noDelay: true }, socket => {
    const session = new SmtpSession(new LineChannel(socket, opts.delayMs), opts.state, id, upgrade);
    session.run().catch(() => socket.destroy());
  });
  return listenTracked(server, opts.port, () => live);
}
