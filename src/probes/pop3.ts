/**
 * The POP3 probe: a small POP3 client on node:tls for outlook.office365.com:995 (checklist
 * items `connectivity` and `network`). One function per protocol step:
 * greeting (RFC 1939 §4), CAPA (RFC 2449), AUTH XOAUTH2 (RFC 5034 framing), STAT, QUIT.
 *
 * Exchange Online needs XOAUTH2 in two steps — `AUTH XOAUTH2`, wait for `+`, then the blob —
 * and fails the one-line form (o365-facts.md §1.3, Microsoft's OAuth doc, GeneXus PR #625).
 */
import type { HostPort, ProbeContext } from './context';
import { pop3Code } from './mail-codes';
import {
  LineReader,
  ProbeRun,
  connectStep,
  hostPort,
  lineErrorCode,
  recordLineHead,
  resolveStep,
  runGuarded,
} from './tcp';
import { tlsStep } from './tls';
import type { MailObservation } from '../model';
import { decodeOauthChallenge, xoauth2 } from './xoauth2';

/** Options for probePop3. */
export interface Pop3ProbeOptions {
  /** The mailbox (the SASL `user=`). */
  user: string;
  accessToken: string;
}

/** What the conversation learned, beside the steps. */
interface Pop3Facts {
  capabilities?: string[];
  messages?: number;
  oauthError?: Record<string, unknown>;
  authLine?: string;
}

/** Read one single-line reply within `ms`; records it on `step`. Undefined after a failure. */
async function reply(
  reader: LineReader,
  step: ReturnType<ProbeRun['open']>,
  ms: number,
  waitingFor: 'greeting' | 'answer' = 'answer',
): Promise<string | undefined> {
  try {
    const line = await reader.line(ms);
    step.received.push(line);
    return line;
  } catch (err) {
    recordLineHead(step, err);
    step.finish({
      ok: false,
      code: lineErrorCode(err, waitingFor),
      note: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
}

/** RFC 1939 §4: the server opens with `+OK`. */
async function greeting(run: ProbeRun, reader: LineReader): Promise<boolean> {
  const step = run.open('greeting');
  const line = await reply(reader, step, run.ctx.deadlines.greetingMs, 'greeting');
  if (line === undefined) return false;
  const code = pop3Code('greeting', line);
  step.finish({ ok: code === 'OK', code });
  return code === 'OK';
}

/** RFC 2449 CAPA: a multi-line list ending with `.`; XOAUTH2 must be on the SASL line. */
async function capa(run: ProbeRun, reader: LineReader, facts: Pop3Facts): Promise<boolean> {
  const step = run.open('capability', 'CAPA');
  reader.write('CAPA');
  const end = Date.now() + run.ctx.deadlines.commandMs;
  const first = await reply(reader, step, run.ctx.deadlines.commandMs);
  if (first === undefined) return false;
  const code = pop3Code('capa', first);
  if (code !== 'OK') {
    step.finish({ ok: false, code });
    return false;
  }
  const caps: string[] = [];
  for (;;) {
    const line = await reply(reader, step, Math.max(end - Date.now(), 1));
    if (line === undefined) return false;
    if (line === '.') break;
    // RFC 1939 §3: a leading dot of a data line is doubled on the wire.
    caps.push(line.startsWith('..') ? line.slice(1) : line);
  }
  facts.capabilities = caps;
  const sasl = caps.find(c => /^SASL\b/i.test(c));
  if (!sasl || !/\bXOAUTH2\b/i.test(sasl)) {
    step.finish({
      ok: false,
      code: 'XOAUTH2_NOT_OFFERED',
      note: sasl ? `SASL mechanisms: ${sasl.slice(5)}` : 'CAPA lists no SASL line',
    });
    return false;
  }
  step.finish({ ok: true });
  return true;
}

/**
 * AUTH XOAUTH2 in two steps (o365-facts.md §1.3): the command, the `+` continuation, the blob.
 * A `+ <base64 JSON>` after the blob is the server's error challenge (the XOAUTH2 error
 * response): it is decoded, answered with an empty line, and the final `-ERR` read.
 */
async function authXoauth2(
  run: ProbeRun,
  reader: LineReader,
  user: string,
  token: string,
  facts: Pop3Facts,
): Promise<boolean> {
  const ms = run.ctx.deadlines.commandMs;
  const step = run.open('authenticate', 'AUTH XOAUTH2');
  reader.write('AUTH XOAUTH2');
  const go = await reply(reader, step, ms);
  if (go === undefined) return false;
  const startCode = pop3Code('auth-start', go);
  if (startCode !== 'OK' || !go.startsWith('+')) {
    step.finish({ ok: false, code: startCode === 'OK' ? 'PROTOCOL_ERROR' : startCode });
    return false;
  }
  step.sent.push('<redacted>');
  reader.write(xoauth2(user, token));
  let answer = await reply(reader, step, ms);
  if (answer === undefined) return false;
  if (/^\+( |$)/.test(answer)) {
    const challenge = decodeOauthChallenge(answer.slice(1));
    if (challenge) facts.oauthError = run.redactor.value(challenge);
    step.sent.push('');
    reader.write('');
    answer = await reply(reader, step, ms);
    if (answer === undefined) return false;
  }
  facts.authLine = answer;
  const code = pop3Code('auth', answer);
  step.finish({ ok: code === 'OK', code });
  return code === 'OK';
}

/** RFC 1939 §5 STAT: `+OK <messages> <octets>`. */
async function stat(run: ProbeRun, reader: LineReader, facts: Pop3Facts): Promise<boolean> {
  const step = run.open('stat', 'STAT');
  reader.write('STAT');
  const line = await reply(reader, step, run.ctx.deadlines.commandMs);
  if (line === undefined) return false;
  const code = pop3Code('stat', line);
  const m = /^\+OK (\d+) \d+/i.exec(line);
  if (code !== 'OK' || !m) {
    step.finish({ ok: false, code: code === 'OK' ? 'PROTOCOL_ERROR' : code });
    return false;
  }
  facts.messages = Number(m[1]);
  step.finish({ ok: true, note: `${facts.messages} messages` });
  return true;
}

/** RFC 1939 §6 QUIT. Its failure decides nothing: the login already worked or failed. */
async function quit(run: ProbeRun, reader: LineReader): Promise<void> {
  const step = run.open('quit', 'QUIT');
  reader.write('QUIT');
  try {
    const line = await reader.line(run.ctx.deadlines.commandMs);
    step.received.push(line);
    const code = pop3Code('quit', line);
    step.finish({ ok: code === 'OK', code }, false);
  } catch (err) {
    step.finish({ ok: false, code: lineErrorCode(err, 'answer') }, false);
  }
}

/** Log in to POP3 with XOAUTH2 and count the messages, step by step. */
export async function probePop3(
  ctx: ProbeContext,
  target: HostPort,
  opts: Pop3ProbeOptions,
): Promise<MailObservation> {
  const run = new ProbeRun(ctx, [opts.accessToken, xoauth2(opts.user, opts.accessToken)]);
  const facts: Pop3Facts = {};
  await runGuarded(run, async () => {
    const resolution = await resolveStep(run, target.host);
    if (!resolution) return;
    const plain = await connectStep(run, resolution.addresses[0]!, target.port);
    if (!plain) return;
    const { socket } = await tlsStep(run, plain, target.host);
    if (!socket) return;
    const reader = new LineReader(socket);
    if (!(await greeting(run, reader))) return;
    if (!(await capa(run, reader, facts))) return;
    const authed = await authXoauth2(run, reader, opts.user, opts.accessToken, facts);
    if (authed) await stat(run, reader, facts);
    // After a refusal the server still talks and takes QUIT; after silence or a close, not.
    const failed = run.failureCode();
    if (!failed || !['TIMEOUT', 'CONNECT_RESET'].includes(failed)) await quit(run, reader);
  });
  const success: { stage: string; server?: string } = { stage: 'authenticate' };
  if (facts.authLine !== undefined) success.server = facts.authLine;
  const obs: MailObservation = {
    ...run.base('pop3', hostPort(target), success),
    kind: 'pop3',
    host: target.host,
    port: target.port,
    user: opts.user,
    mailbox: opts.user,
  };
  if (facts.capabilities) obs.capabilities = facts.capabilities;
  if (facts.messages !== undefined) obs.mailboxFacts = { messages: facts.messages };
  if (facts.oauthError) obs.oauthError = facts.oauthError;
  return obs;
}
