/**
 * The SMTP probe: submit on smtp.office365.com:587 like ECE does — banner, EHLO, STARTTLS
 * (required, RFC 3207), EHLO again, AUTH XOAUTH2, optionally a small test message, QUIT
 * (checklist items `connectivity`, `mailbox-protocols`, `mailbox-rights`, `network`).
 *
 * The SMTP conversation is nodemailer's SMTP connection; ecebot owns the name resolution, the
 * TCP connection (handed over with the `connection` option) and every deadline. nodemailer's
 * transaction log feeds a transcript that makes one step per phase, coded from the wire reply
 * (src/probes/mail-codes.ts).
 *
 * nodemailer's XOAUTH2 quirk (teams-bot-notes.md §8): when the server answers the token with a
 * 334 challenge, nodemailer sends an empty line and then runs AUTH XOAUTH2 once more with a
 * "fresh" token — with a fixed access token, the same one. Both attempts are recorded as the
 * server saw them; the first refusal decides.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { format } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import XOAuth2 from 'nodemailer/lib/xoauth2';
import type { Code } from '../model';
import { CertCapture, describeCert } from './cert';
import { trustOptions, type HostPort, type ProbeContext } from './context';
import {
  nodemailerErrorCode,
  parseSmtpReply,
  smtpCode,
  type NodemailerErrorFields,
  type SmtpCommand,
} from './mail-codes';
import {
  LINE_HEAD_CHARS,
  MAX_LINE_BYTES,
  ProbeRun,
  connectStep,
  hostPort,
  resolveStep,
  runGuarded,
  type OpenStep,
} from './tcp';
import { ehloName } from './tls';
import type { MailObservation } from '../model';
import { decodeOauthChallenge, xoauth2 } from './xoauth2';

/** Options for probeSmtp. */
export interface SmtpProbeOptions {
  /**
   * The SASL `user=`: the account that signed in for the token, which is all Exchange Online
   * accepts for SMTP AUTH (o365-facts.md §1.5).
   */
  user: string;
  /**
   * The mailbox served: the test message's envelope sender and From:, and the observation's
   * `mailbox` (default `user`). Another mailbox than `user` needs Send As for the message.
   */
  from?: string;
  accessToken: string;
  /** Send a small test message (header `X-ECEbot-Test: 1`) to this address after login. */
  sendTo?: string;
}

/** Step names per SMTP verb. */
const STEP_NAMES: Record<string, string> = {
  EHLO: 'ehlo',
  HELO: 'ehlo',
  STARTTLS: 'starttls',
  AUTH: 'authenticate',
  MAIL: 'send',
  QUIT: 'quit',
};

/**
 * Builds steps from nodemailer's transaction log (`tnx: client | server | network | smtp |
 * message`): a client command opens a step, its reply closes it. The envelope and DATA of the
 * test message are one `send` step (they may be pipelined, RFC 2920).
 */
class SmtpTranscript {
  private step?: OpenStep;
  private verb = 'CONNECT';
  /** Commands of the open step still waiting for their reply, in order (pipelining). */
  private pending: SmtpCommand[] = [];
  private authAttempts = 0;
  /** A note for the step just opened (e.g. that it is nodemailer's retry). */
  private stepNote?: string;
  /** Set once STARTTLS was accepted: failures after that are TLS failures. */
  tlsStarted = false;
  /** Called when STARTTLS is accepted, before the handshake takes the socket over. */
  onTlsStart?: () => void;
  tlsDone = false;
  /** EHLO keywords after TLS (what the authenticated session can use). */
  capabilities?: string[];
  /** The decisive reply of a successful conversation (235, or the reply to the message). */
  authLine?: string;
  sendLine?: string;
  /** Whether the server accepted the test message. */
  sent?: boolean;
  oauthError?: Record<string, unknown>;

  constructor(
    private readonly run: ProbeRun,
    private readonly servername: string,
    private readonly capture: CertCapture,
  ) {}

  start(): void {
    this.step = this.run.open('greeting');
  }

  get openStep(): OpenStep | undefined {
    return this.step && !this.step.isFinished ? this.step : undefined;
  }

  /** A bunyan-style logger (entry, format, ...args) as nodemailer expects. */
  logger(): Record<
    'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal',
    (...a: unknown[]) => void
  > {
    const take = (entry: unknown, fmt?: unknown, ...args: unknown[]): void => {
      const tnx = entry && typeof entry === 'object' ? (entry as { tnx?: unknown }).tnx : undefined;
      if (typeof fmt !== 'string' || typeof tnx !== 'string') return;
      this.entry(tnx, args.length ? format(fmt, ...args) : fmt);
    };
    return { trace: take, debug: take, info: take, warn: take, error: take, fatal: take };
  }

  private entry(tnx: string, text: string): void {
    if (tnx === 'client') this.client(text);
    else if (tnx === 'server') this.server(text);
    else if (tnx === 'smtp' && /^Connection upgraded with STARTTLS/.test(text)) this.tlsUp();
    else if (tnx === 'message' && /bytes encoded mime message/.test(text)) {
      this.openStep?.sent.push(text);
    }
  }

  private client(line: string): void {
    const open = this.openStep;
    const verb = (line.split(' ')[0] ?? '').toUpperCase();
    if (open?.name === 'authenticate' && this.verb === 'AUTH' && !/^AUTH\b/i.test(line)) {
      // The answer to a 334 challenge: the empty line that ends an XOAUTH2 error exchange.
      open.sent.push(line);
      this.pending.push('AUTH');
      return;
    }
    if (open?.name === 'send' && (verb === 'RCPT' || verb === 'DATA')) {
      open.sent.push(line);
      this.pending.push(verb);
      return;
    }
    if (open) open.finish({ ok: false, code: 'PROTOCOL_ERROR', note: 'no reply' }, false);
    this.verb = verb;
    this.pending = [verbCommand(verb)];
    let sent = line;
    let note: string | undefined;
    if (verb === 'AUTH') {
      // nodemailer logs the blob built around "/* secret */"; show the mechanism only.
      sent = line.replace(/^(AUTH \S+) .*/i, '$1 <redacted>');
      this.authAttempts += 1;
      if (this.authAttempts > 1) {
        note = 'nodemailer repeats AUTH XOAUTH2 once after a 334 challenge (teams-bot-notes.md §8)';
      }
    }
    this.step = this.run.open(STEP_NAMES[verb] ?? verb.toLowerCase(), sent);
    if (note) this.stepNote = note;
  }

  private finish(result: { ok: boolean; code?: Code; note?: string }, decisive = true): void {
    const open = this.openStep;
    if (!open) return;
    const note = [this.stepNote, result.note].filter(Boolean).join('; ');
    this.stepNote = undefined;
    open.finish(note ? { ...result, note } : result, decisive);
  }

  private server(reply: string): void {
    const open = this.openStep;
    const lines = reply.split(/\r?\n/);
    if (!open) {
      for (const l of lines) this.run.appendLate(l);
      return;
    }
    open.received.push(...lines);
    const command = this.pending.shift() ?? verbCommand(this.verb);
    const status = parseSmtpReply(reply).status;
    if (open.name === 'authenticate' && status === 334) {
      const challenge = decodeOauthChallenge(reply.replace(/^334 ?/, ''));
      if (challenge && !this.oauthError) this.oauthError = this.run.redactor.value(challenge);
      return;
    }
    const code = smtpCode(command, reply);
    switch (open.name) {
      case 'greeting':
        this.finish({ ok: code === 'OK', code });
        return;
      case 'ehlo': {
        const keywords = lines.slice(1).map(l => l.replace(/^\d{3}[ -]/, ''));
        if (this.tlsDone) this.capabilities = keywords;
        this.finish({ ok: code === 'OK', code });
        if (code === 'OK' && !this.tlsStarted && !keywords.some(k => /^STARTTLS\b/i.test(k))) {
          // RFC 3207: without STARTTLS in EHLO the token would have to travel in clear text.
          this.run.failWith({ code: 'STARTTLS_UNAVAILABLE', stage: 'ehlo', server: lines.at(-1) });
        }
        if (code === 'OK' && this.tlsDone && !keywords.some(k => /^AUTH\b.*\bXOAUTH2\b/i.test(k))) {
          this.run.failWith({ code: 'XOAUTH2_NOT_OFFERED', stage: 'ehlo', server: lines.at(-1) });
        }
        return;
      }
      case 'starttls':
        this.finish({ ok: code === 'OK', code });
        if (code === 'OK') {
          this.tlsStarted = true;
          this.onTlsStart?.();
          this.step = this.run.open('tls', `TLS handshake (SNI ${this.servername})`);
        }
        return;
      case 'authenticate':
        if (code === 'OK') this.authLine = lines.at(-1);
        this.finish({ ok: code === 'OK', code });
        return;
      case 'send':
        if (code !== 'OK') {
          this.sent = false;
          this.finish({ ok: false, code });
        } else if (status === 354) {
          this.pending.push('DATA');
        } else if (!this.pending.length) {
          this.sent = true;
          this.sendLine = lines.at(-1);
          this.finish({ ok: true });
        }
        return;
      case 'quit':
        this.finish({ ok: code === 'OK', code }, false);
        return;
      default:
        this.finish({ ok: code === 'OK', code });
    }
  }

  /**
   * The server sent more than MAX_LINE_BYTES without a line end (checked on the socket before
   * nodemailer buffers it): keep how it started as the server's words and fail the open step.
   */
  tooLong(head: string, bytes: number): void {
    const open = this.openStep;
    const note = `the server sent ${bytes} bytes without ending the line; ecebot stops reading after ${MAX_LINE_BYTES} (an SMTP reply line is at most 512 octets, RFC 5321 §4.5.3.1.5)`;
    if (!open) {
      this.run.failWith({ code: 'REPLY_TOO_LONG', stage: 'greeting', server: head });
      return;
    }
    open.received.push(head);
    open.finish({ ok: false, code: 'REPLY_TOO_LONG', note });
  }

  private tlsUp(): void {
    this.tlsDone = true;
    const cert = this.capture.facts();
    if (this.openStep?.name === 'tls')
      this.finish({ ok: true, note: cert ? describeCert(cert) : '' });
  }

  /** A library error: closes the open step with its code, or records it as the failure. */
  error(err: unknown, fallbackStage: string): void {
    const fields = (err ?? {}) as NodemailerErrorFields;
    const code = nodemailerErrorCode(fields, this.tlsStarted && !this.tlsDone);
    const note = fields.message ?? String(err);
    const open = this.openStep;
    if (open) this.finish({ ok: false, code, note }, open.name !== 'quit');
    else
      this.run.failWith({
        code,
        stage: fallbackStage,
        ...(fields.response ? { server: fields.response } : {}),
      });
  }
}

function verbCommand(verb: string): SmtpCommand {
  switch (verb) {
    case 'EHLO':
    case 'HELO':
      return 'EHLO';
    case 'STARTTLS':
    case 'AUTH':
    case 'MAIL':
    case 'RCPT':
    case 'DATA':
    case 'QUIT':
      return verb;
    default:
      return 'CONNECT';
  }
}

/** RFC 5322 date with a numeric zone. */
function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** The small test message (RFC 5322), marked with `X-ECEbot-Test: 1` so it can be filtered. */
export function testMessage(from: string, to: string, now = new Date()): string {
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    'Subject: ecebot SMTP submission test',
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${randomUUID()}@ecebot.invalid>`,
    'X-ECEbot-Test: 1',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'ecebot sent this message to test SMTP submission with OAuth2 (checklist item "connectivity").',
    'It can be deleted.',
    '',
  ].join('\r\n');
}

/**
 * One phase of nodemailer's callback API as a promise of its error (null on success). A socket
 * failure arrives as an 'error' or 'end' event without the phase's callback ever being called,
 * so those settle the phase too.
 */
function phase(
  conn: SMTPConnection,
  start: (done: (err?: unknown) => void) => void,
): Promise<unknown> {
  return new Promise(resolve => {
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      conn.off('error', done);
      conn.off('end', ended);
      resolve(err ?? null);
    };
    const ended = (): void => done(new Error('the connection ended'));
    conn.once('error', done);
    conn.once('end', ended);
    start(done);
  });
}

/** Log in to SMTP submission with XOAUTH2 (and optionally send a test message), step by step. */
export async function probeSmtp(
  ctx: ProbeContext,
  target: HostPort,
  opts: SmtpProbeOptions,
): Promise<MailObservation> {
  const run = new ProbeRun(ctx, [opts.accessToken, xoauth2(opts.user, opts.accessToken)]);
  const capture = new CertCapture();
  const transcript = new SmtpTranscript(run, target.host, capture);
  await runGuarded(run, async () => {
    const resolution = await resolveStep(run, target.host);
    if (!resolution) return;
    const address = resolution.addresses[0]!;
    const plain = await connectStep(run, address, target.port);
    if (!plain) return;

    guardLineLength(plain, transcript);
    const { dnsMs, tlsMs, greetingMs, commandMs } = ctx.deadlines;
    const conn = new SMTPConnection({
      connection: plain,
      host: address,
      port: target.port,
      ...(net.isIP(target.host) ? {} : { servername: target.host }),
      requireTLS: true,
      name: ehloName(plain),
      // ecebot owns every deadline (anchors.md "Style lessons" 4). nodemailer's
      // connectionTimeout covers the session set-up after our TCP connect: greeting, EHLO,
      // STARTTLS, the handshake and the second EHLO.
      connectionTimeout: greetingMs + tlsMs + 2 * commandMs,
      greetingTimeout: greetingMs,
      socketTimeout: commandMs,
      dnsTimeout: dnsMs,
      socketCloseTimeout: commandMs,
      // nodemailer's own cap (1 MiB by default), set to ours: after STARTTLS the guard on the
      // plain socket sees only TLS records, and this is the bound that holds.
      maxResponseSize: MAX_LINE_BYTES,
      logger: transcript.logger(),
      transactionLog: true,
      tls: { ...trustOptions(ctx), checkServerIdentity: capture.checkServerIdentity },
    });
    run.own(() => conn.close());
    let stage = 'greeting';
    conn.on('error', (err: unknown) => transcript.error(err, stage));
    transcript.start();

    const connectErr = await phase(conn, done => conn.connect(done));
    if (connectErr) transcript.error(connectErr, stage);
    if (run.failureCode()) return;

    stage = 'authenticate';
    const loginErr = await phase(conn, done =>
      conn.login(
        {
          type: 'OAuth2',
          user: opts.user,
          oauth2: new XOAuth2({ user: opts.user, accessToken: opts.accessToken }),
        },
        done,
      ),
    );
    if (loginErr) {
      transcript.error(loginErr, stage);
      if (run.failureCode() !== 'TIMEOUT') await quit(conn, run);
      return;
    }

    if (opts.sendTo) {
      stage = 'send';
      const from = opts.from ?? opts.user;
      const message = testMessage(from, opts.sendTo);
      const to = opts.sendTo;
      const sendErr = await phase(conn, done => conn.send({ from, to: [to] }, message, done));
      if (sendErr) transcript.error(sendErr, stage);
    }
    if (run.failureCode() === 'TIMEOUT') return;
    stage = 'quit';
    await quit(conn, run);
  });

  const success: { stage: string; server?: string } = opts.sendTo
    ? { stage: 'send' }
    : { stage: 'authenticate' };
  const words = opts.sendTo ? transcript.sendLine : transcript.authLine;
  if (words !== undefined) success.server = words;
  const obs: MailObservation = {
    ...run.base('smtp', hostPort(target), success),
    kind: 'smtp',
    host: target.host,
    port: target.port,
    user: opts.user,
    mailbox: opts.from ?? opts.user,
  };
  if (transcript.capabilities) obs.capabilities = transcript.capabilities;
  if (transcript.sent !== undefined) obs.mailboxFacts = { sent: transcript.sent };
  if (transcript.oauthError) obs.oauthError = transcript.oauthError;
  return obs;
}

/**
 * Watch the plaintext part of the conversation (greeting, EHLO, STARTTLS) for a line that
 * passes MAX_LINE_BYTES, and end it there with its start as the server's words. nodemailer's
 * maxResponseSize (set to the same bound) would stop it too, but drops what it buffered and
 * says only "Server response exceeds maximum allowed size", so the transcript would not show
 * what the server sent. The listener is registered before nodemailer's (the socket is paused
 * first, so no byte is read until nodemailer resumes it) and goes when STARTTLS is accepted.
 */
function guardLineLength(plain: net.Socket, transcript: SmtpTranscript): void {
  let pending = 0;
  let head = '';
  const onData = (chunk: Buffer): void => {
    const nl = chunk.lastIndexOf(0x0a);
    if (nl >= 0) {
      const rest = chunk.subarray(nl + 1);
      pending = rest.length;
      head = rest.subarray(0, LINE_HEAD_CHARS).toString('latin1');
    } else {
      if (head.length < LINE_HEAD_CHARS) {
        head += chunk.subarray(0, LINE_HEAD_CHARS - head.length).toString('latin1');
      }
      pending += chunk.length;
    }
    if (pending <= MAX_LINE_BYTES) return;
    plain.off('data', onData);
    transcript.tooLong(`${head}… (${pending - head.length}+ more bytes)`, pending);
    plain.destroy();
  };
  plain.pause();
  plain.on('data', onData);
  transcript.onTlsStart = () => plain.off('data', onData);
}

/** QUIT and wait for the server to close, within the command deadline. */
function quit(conn: SMTPConnection, run: ProbeRun): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, run.ctx.deadlines.commandMs);
    conn.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      conn.quit();
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
