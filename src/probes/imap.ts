/**
 * The IMAP probe: log in to outlook.office365.com:993 with XOAUTH2 like ECE does, list the
 * folders, open INBOX read-only, log out (checklist items `connectivity` and `network`).
 *
 * The IMAP conversation is imapflow's; ecebot owns the socket and every deadline:
 * - the `dns`, `connect` and `tls` steps are ours (src/probes/tcp.ts, tls.ts), and the secured
 *   socket is handed to imapflow through its `transport` option, so the certificate is checked
 *   and described the same way for every protocol;
 * - imapflow's `logger` feeds a transcript that turns each tagged command and its completion
 *   into one step (greeting, capability, authenticate, list, select, logout), coded from the
 *   wire line itself (src/probes/mail-codes.ts);
 * - after the greeting the probe sends what curl sends (CAPABILITY, AUTHENTICATE, LIST, LOGOUT)
 *   plus EXAMINE for the folder it opens: five round trips, where imapflow's own session start
 *   would add ID twice, CAPABILITY again and NAMESPACE (ProbeImapFlow below says why each is
 *   left out; docs/performance.md "Across a WAN");
 * - imapflow's own error enrichments (`authenticationFailed`, `serverResponseCode`,
 *   `responseText`, `response`, `oauthError`) decide only when no wire line did.
 */
import { ImapFlow, type ImapFlowOptions, type ImapTransportSocket } from 'imapflow';
import type { TLSSocket } from 'node:tls';
import type { Code } from '../model';
import type { HostPort, ProbeContext } from './context';
import { imapCode, imapflowErrorCode, type ImapflowErrorFields } from './mail-codes';
import {
  MAX_LINE_BYTES,
  ProbeRun,
  connectStep,
  hostPort,
  resolveStep,
  runGuarded,
  type OpenStep,
} from './tcp';
import { tlsStep } from './tls';
import type { MailObservation } from '../model';
import { xoauth2 } from './xoauth2';

/** Options for probeImap. */
export interface ImapProbeOptions {
  /** The mailbox (the SASL `user=`). */
  user: string;
  accessToken: string;
  /** The folder to open read-only after login; default INBOX. */
  select?: string;
}

/**
 * The capabilities in an untagged `* CAPABILITY …` response, or in the `[CAPABILITY …]`
 * response code of the greeting, where a server may announce them instead (RFC 9051 §7.1,
 * RFC 3501 §7.1; Dovecot does, and imapflow then sends no CAPABILITY command).
 */
function capabilityList(line: string): string[] | undefined {
  const m = /^\* (?:CAPABILITY (.+)|(?:OK|PREAUTH) \[CAPABILITY ([^\]]+)\])/i.exec(line);
  const list = m?.[1] ?? m?.[2];
  return list ? list.trim().split(/\s+/) : undefined;
}

/** Step names per IMAP verb: the phases a person reads in the transcript. */
const STEP_NAMES: Record<string, string> = {
  CAPABILITY: 'capability',
  ID: 'id',
  AUTHENTICATE: 'authenticate',
  LOGIN: 'login',
  NAMESPACE: 'namespace',
  LIST: 'list',
  LSUB: 'list',
  XLIST: 'list',
  SELECT: 'select',
  EXAMINE: 'select',
  LOGOUT: 'logout',
};

/** Commands whose failure does not decide the outcome (ID is optional, RFC 2971). */
const NOT_DECISIVE = new Set(['ID', 'LOGOUT']);

/** One log entry as imapflow writes it: `src` is `s` (server), `c` (client) or a topic. */
interface ImapLogEntry {
  src?: string;
  msg?: string;
  comment?: string;
}

/**
 * Builds steps from imapflow's log: a client line opens a step, the matching tagged line (or
 * an untagged BYE) closes it. The greeting step is open from the start.
 */
class ImapTranscript {
  private tag?: string;
  private verb = 'GREETING';
  private step?: OpenStep;
  /** The first CAPABILITY list (before login: it says whether AUTH=XOAUTH2 is offered). */
  capabilities?: string[];
  /** The line that answered AUTHENTICATE. */
  authLine?: string;

  constructor(private readonly run: ProbeRun) {}

  /** Open the greeting step; call when the TLS session is handed to imapflow. */
  start(): void {
    this.step = this.run.open('greeting');
  }

  /** The step in progress, if any. */
  get openStep(): OpenStep | undefined {
    return this.step && !this.step.isFinished ? this.step : undefined;
  }

  /** The logger imapflow writes to (every level goes to the transcript). */
  logger(): NonNullable<ImapFlowOptions['logger']> {
    const take = (entry: unknown): void => {
      if (entry && typeof entry === 'object') this.entry(entry as ImapLogEntry);
    };
    return { trace: take, debug: take, info: take, warn: take, error: take, fatal: take };
  }

  private entry(e: ImapLogEntry): void {
    if (typeof e.msg !== 'string') return;
    if (e.src === 's') this.server(e.msg);
    else if (e.src === 'c') this.client(e.msg, e.comment);
  }

  private client(msg: string, comment?: string): void {
    const open = this.openStep;
    if (comment !== undefined) {
      // A SASL continuation answer: the hidden XOAUTH2 blob, or the empty line that ends an
      // error challenge.
      open?.sent.push(msg.includes('value hidden') ? '<redacted>' : msg);
      return;
    }
    const m = /^(\S+) (\S+)/.exec(msg);
    if (!m) return;
    if (open) {
      open.finish({ ok: false, code: 'PROTOCOL_ERROR', note: 'no tagged response' }, false);
    }
    this.tag = m[1]!;
    this.verb = m[2]!.toUpperCase();
    // Name the mechanism imapflow chose: it prefers OAUTHBEARER (RFC 7628) over XOAUTH2 when a
    // server offers both (Dovecot does; Exchange Online offers XOAUTH2 only, o365-facts.md §1.2).
    const mechanism = /^\S+ \S+ (\S+)/.exec(msg)?.[1] ?? 'XOAUTH2';
    const sent =
      this.verb === 'AUTHENTICATE' && /value hidden/.test(msg)
        ? `${this.tag} AUTHENTICATE ${mechanism} <redacted>`
        : msg;
    this.step = this.run.open(STEP_NAMES[this.verb] ?? this.verb.toLowerCase(), sent);
  }

  private server(line: string): void {
    const open = this.openStep;
    if (!open) {
      this.run.appendLate(line);
      return;
    }
    open.received.push(line);
    if (!this.capabilities) this.capabilities = capabilityList(line);
    const decisive = !NOT_DECISIVE.has(this.verb);
    if (this.verb === 'GREETING') {
      const code: Code = /^\* (OK|PREAUTH)\b/i.test(line) ? 'OK' : imapCode('GREETING', line);
      open.finish({ ok: code === 'OK', code: code === 'OK' ? 'OK' : code });
      return;
    }
    if (this.tag && line.startsWith(`${this.tag} `)) {
      if (this.verb === 'AUTHENTICATE') this.authLine = line;
      const code = imapCode(this.verb, line);
      open.finish({ ok: code === 'OK', code }, decisive);
      return;
    }
    if (/^\* BYE\b/i.test(line) && this.verb !== 'LOGOUT') {
      // The server ends the session instead of answering (e.g. AccessTokenExpired, §1.2).
      open.finish({ ok: false, code: imapCode(this.verb, line) }, decisive);
    }
  }
}

/** imapflow's `transport`: hands over the TLS session our own steps already established. */
function handOver(socket: TLSSocket): NonNullable<ImapFlowOptions['transport']> {
  return {
    connect: (_options, onConnect) => {
      setImmediate(onConnect);
      return socket as unknown as ImapTransportSocket;
    },
  };
}

/**
 * The members of imapflow 2.x that its session start uses and its typings leave out (marked
 * `@internal` in lib/imap-flow.js), as `exec` below is.
 */
interface ImapSessionInternals {
  run(command: string, ...args: unknown[]): Promise<unknown>;
  authenticate(): Promise<boolean>;
}

/**
 * imapflow with the session start cut to the round trips the check needs. imapflow 2.10 runs
 * `startSession()` once the greeting is in, and it has no option to leave any of its commands
 * out: it sends CAPABILITY, ID, AUTHENTICATE, CAPABILITY, ID and NAMESPACE before the probe's
 * first command — six round trips, where curl sends two (CAPABILITY, AUTHENTICATE). Across a WAN
 * each costs one round trip time (50 ms and more from an ECE server to Microsoft 365). Here:
 * - CAPABILITY stays (RFC 9051 §6.1.1): the check must see whether AUTH=XOAUTH2 is offered
 *   (XOAUTH2_NOT_OFFERED), and SASL-IR (RFC 4959) lets AUTHENTICATE carry the token in one
 *   round trip. imapflow skips the command itself when the greeting carried `[CAPABILITY …]`
 *   (RFC 9051 §7.1; Dovecot does, Exchange Online does not).
 * - AUTHENTICATE XOAUTH2 stays: it is the login under test.
 * - ID goes, before and after login: RFC 2971 makes it optional and informational for both
 *   sides; nothing the check judges reads the server's answer, and curl sends none.
 * - CAPABILITY after login goes: RFC 9051 §6.2.2 lets a client ask again to learn extensions
 *   that came with the login; the probe uses none (LIST and EXAMINE are base IMAP, RFC 9051
 *   §6.3.9 and §6.3.3), so there is nothing to learn.
 * - NAMESPACE goes: RFC 2342 namespaces only prefix folder names the client builds, and the
 *   probe builds none (LIST "" "*", then INBOX, whose name is the same in every namespace, RFC
 *   9051 §5.1). imapflow sent it also to catch Exchange Online's "BAD User is authenticated but
 *   not connected.", which answers the first mailbox command after AUTHENTICATE
 *   (o365-facts.md §1.2): that is now the probe's LIST, coded the same way (mail-codes.ts).
 * The methods replaced are imapflow internals; if an upgrade renamed them, imapflow's own start
 * would run again (the probe still works, only slower) and test/probes/imap-round-trips.test.ts
 * fails on the count.
 */
class ProbeImapFlow extends ImapFlow {
  /** Replaces imapflow's session start (what `connect()` runs after the greeting). */
  async startSession(): Promise<void> {
    const self = this as unknown as ImapSessionInternals;
    await self.run('CAPABILITY');
    await self.authenticate();
    this.usable = true;
  }

  /** Replaces imapflow's, which would send CAPABILITY again after the login (see above). */
  setAuthenticationState(): Promise<void> {
    this.state = this.states.AUTHENTICATED;
    this.authenticated = true;
    return Promise.resolve();
  }
}

/** The largest literal the probe accepts (a mailbox name sent as a literal is far shorter). */
const MAX_LITERAL_BYTES = 1024 * 1024;

/** One IMAP command argument as imapflow's command compiler takes it. */
interface ImapArg {
  type: 'STRING' | 'ATOM';
  value: string;
}

/**
 * imapflow's command runner: send one command, route its untagged responses to `untagged`
 * handlers, resolve on the tagged OK (reject on NO/BAD), then `next()` lets the connection go on.
 * It is how imapflow's own commands are built, not part of its typed API (imapflow 2.x).
 */
interface ImapExec {
  exec(
    command: string,
    attributes: ImapArg[],
    options: { untagged: Record<string, (untagged: unknown) => Promise<void> | void> },
  ): Promise<{ next(): void }>;
}

/**
 * LIST "" "*" (RFC 9051 §6.3.9), counting the untagged LIST lines without keeping them. The
 * probe needs only the number; imapflow's list() keeps an object per folder (up to a million)
 * and a server can send 100,000 of them, solicited or not (RFC 9051 §7).
 */
async function countFolders(client: ImapFlow): Promise<number> {
  let folders = 0;
  const answer = await (client as unknown as ImapExec).exec(
    'LIST',
    [
      { type: 'STRING', value: '' },
      { type: 'STRING', value: '*' },
    ],
    { untagged: { LIST: () => void (folders += 1) } },
  );
  answer.next();
  return folders;
}

/**
 * EXAMINE `folder` (RFC 9051 §6.3.3: SELECT, read-only) and read its message count from the
 * untagged EXISTS. imapflow's mailboxOpen() would first run a full list() of the folder.
 */
async function examine(client: ImapFlow, folder: string): Promise<number | undefined> {
  let exists: number | undefined;
  const answer = await (client as unknown as ImapExec).exec(
    'EXAMINE',
    // An atom when it can be one (RFC 9051 §9 atom-specials), as Exchange and imapflow write it.
    [{ type: /^[A-Za-z0-9._/-]+$/.test(folder) ? 'ATOM' : 'STRING', value: folder }],
    {
      untagged: {
        EXISTS: (untagged: unknown) => {
          const n = Number((untagged as { command?: unknown }).command);
          if (Number.isInteger(n) && n >= 0) exists = n;
        },
      },
    },
  );
  answer.next();
  return exists;
}

/** What the conversation learned beside the steps. */
interface ImapFacts {
  folders?: number;
  messages?: number;
  oauthError?: Record<string, unknown>;
}

/** Record a library error on the open step, or as the failure when no step is open. */
function recordError(run: ProbeRun, transcript: ImapTranscript, err: unknown, stage: string): void {
  const fields = (err ?? {}) as ImapflowErrorFields;
  let code = imapflowErrorCode(fields);
  const caps = transcript.capabilities;
  if (!fields.code && !fields.response && caps && !caps.some(c => /^AUTH=XOAUTH2$/i.test(c))) {
    // imapflow gives up before sending AUTHENTICATE when XOAUTH2 is not advertised (RFC 4959
    // mechanisms are listed as AUTH=<name> in CAPABILITY, RFC 9051 §6.1.1).
    code = 'XOAUTH2_NOT_OFFERED';
    run.failWith({ code, stage: 'capability', server: `* CAPABILITY ${caps.join(' ')}` });
  }
  // Keep imapflow's enrichments beside our code (anchors.md C2): its message, the RFC 5530
  // response code and the server's text.
  const note = [
    fields.message,
    fields.serverResponseCode && `response code ${fields.serverResponseCode}`,
    fields.responseText && `server: ${fields.responseText}`,
  ]
    .filter(Boolean)
    .join('; ');
  // A LOGOUT that fails after the work was done decides nothing.
  const decisive = stage !== 'logout';
  const open = transcript.openStep;
  if (open) open.finish({ ok: false, code, note }, decisive);
  else if (decisive) {
    run.failWith({ code, stage, ...(fields.response ? { server: fields.response } : {}) });
  }
}

/** Log in to IMAP with XOAUTH2, list folders and open a folder read-only, step by step. */
export async function probeImap(
  ctx: ProbeContext,
  target: HostPort,
  opts: ImapProbeOptions,
): Promise<MailObservation> {
  const run = new ProbeRun(ctx, [opts.accessToken, xoauth2(opts.user, opts.accessToken)]);
  const transcript = new ImapTranscript(run);
  const facts: ImapFacts = {};
  await runGuarded(run, async () => {
    const resolution = await resolveStep(run, target.host);
    if (!resolution) return;
    const address = resolution.addresses[0]!;
    const plain = await connectStep(run, address, target.port);
    if (!plain) return;
    const { socket } = await tlsStep(run, plain, target.host);
    if (!socket) return;

    const { connectMs, tlsMs, greetingMs, commandMs } = ctx.deadlines;
    const client = new ProbeImapFlow({
      host: address,
      port: target.port,
      secure: true,
      servername: target.host,
      // The TLS session (and its trust) is ours already; imapflow only talks over it.
      transport: handOver(socket),
      auth: { user: opts.user, accessToken: opts.accessToken },
      logger: transcript.logger(),
      // ecebot owns every deadline (anchors.md "Style lessons" 4): never the library defaults.
      connectionTimeout: connectMs + tlsMs,
      greetingTimeout: greetingMs,
      socketTimeout: commandMs,
      // Bounds on what a server may make us buffer (imapflow's defaults are 1 GB and more):
      // the probe reads no message, so no answer it waits for is long.
      maxLineLength: MAX_LINE_BYTES,
      maxLiteralSize: MAX_LITERAL_BYTES,
      maxResponseSize: 2 * MAX_LITERAL_BYTES,
      disableCompression: true,
      disableAutoEnable: true,
      disableAutoIdle: true,
    });
    run.own(() => client.close());
    let stage = 'greeting';
    client.on('error', (err: unknown) => recordError(run, transcript, err, stage));
    transcript.start();

    try {
      await client.connect();
    } catch (err) {
      const e = err as ImapflowErrorFields;
      if (e.oauthError && typeof e.oauthError === 'object') {
        facts.oauthError = run.redactor.value(e.oauthError as Record<string, unknown>);
      }
      recordError(run, transcript, err, 'authenticate');
      return;
    }
    try {
      stage = 'list';
      facts.folders = await countFolders(client);
      stage = 'select';
      facts.messages = await examine(client, opts.select ?? 'INBOX');
    } catch (err) {
      recordError(run, transcript, err, stage);
    }
    const failed = run.failureCode();
    if (failed && ['TIMEOUT', 'CONNECT_RESET', 'TOKEN_EXPIRED_SESSION'].includes(failed)) return;
    stage = 'logout';
    await client.logout().catch(() => undefined);
  });

  const success: { stage: string; server?: string } = { stage: 'authenticate' };
  if (transcript.authLine !== undefined) success.server = transcript.authLine;
  const obs: MailObservation = {
    ...run.base('imap', hostPort(target), success),
    kind: 'imap',
    host: target.host,
    port: target.port,
    user: opts.user,
    mailbox: opts.user,
  };
  if (transcript.capabilities) obs.capabilities = transcript.capabilities;
  if (facts.folders !== undefined || facts.messages !== undefined) {
    obs.mailboxFacts = {};
    if (facts.folders !== undefined) obs.mailboxFacts.folders = facts.folders;
    if (facts.messages !== undefined) obs.mailboxFacts.messages = facts.messages;
  }
  if (facts.oauthError) obs.oauthError = facts.oauthError;
  return obs;
}
