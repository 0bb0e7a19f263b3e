/**
 * Drives one published mail-server text through the real probe and the real rules: a local
 * server answers like Exchange Online (o365-facts.md §1.2–§1.4) at every step but the one the
 * text answers, where it says the text; the probe's observation then goes into a fixture run of
 * the item's rule, and the code's remediation is held to the fix the source gives.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { evaluate } from '../../../src/checklist/catalogue';
import { CODES } from '../../../src/knowledge/codes';
import { remediationFor } from '../../../src/knowledge/remediation';
import type {
  EnvironmentFacts,
  Finding,
  ItemId,
  MailObservation,
  Observation,
} from '../../../src/model';
import { probeImap } from '../../../src/probes/imap';
import { probePop3 } from '../../../src/probes/pop3';
import { probeSmtp } from '../../../src/probes/smtp';
import { facts, healthy, NOW, SALES, SUPPORT, SVC } from '../../checklist/fixtures';
import { createCa, labContext, tlsOf } from '../../probes/support/context';
import { startLineServer, type LineConn } from '../../probes/support/line-server';
import { fixMatches, type Signature } from '../corpus';

const ca = createCa();
const outlook = ca.issue({ names: ['outlook.office365.com'] });
const smtpLeaf = ca.issue({ names: ['smtp.office365.com'] });
const TOKEN = 'corpus-token-4b1d';

const closers: (() => Promise<void>)[] = [];
/** Close every server the replays started (call from afterAll). */
export async function closeReplays(): Promise<void> {
  await Promise.all(closers.splice(0).map(c => c()));
}

/** A string field of a signature's context, or a clear failure naming the signature. */
function ctxString(sig: Signature, key: string): string {
  const v = sig.context?.[key];
  if (typeof v !== 'string') throw new Error(`${sig.id}: context.${key} (a string) is required`);
  return v;
}

// ------------------------------------------------------------------------------------- SMTP

/** The reply as the wire carries it: the text, with the context's reply code when the source
 * quoted it without one (MailKit and .NET print the code apart). */
function smtpWire(sig: Signature): { status: number; message: string } {
  const m = /^(\d{3})[ -](.*)$/s.exec(sig.text);
  if (m) return { status: Number(m[1]), message: m[2]! };
  const status = sig.context?.status;
  if (typeof status !== 'number') throw new Error(`${sig.id}: context.status is required`);
  return { status, message: sig.text };
}

/**
 * nodemailer's smtp-server with STARTTLS on a lab certificate, accepting the token, except at
 * the command the signature answers (context.command: CONNECT, AUTH, MAIL, RCPT or DATA).
 */
export async function replaySmtp(sig: Signature): Promise<MailObservation> {
  const command = ctxString(sig, 'command');
  const { status, message } = smtpWire(sig);
  const refuse = (): Error => Object.assign(new Error(message), { responseCode: status });
  const options: Partial<SMTPServerOptions> = {
    onAuth: (_auth, _session, cb) =>
      command === 'AUTH' ? cb(refuse()) : cb(null, { user: SUPPORT }),
    onMailFrom: (_a, _s, cb) => (command === 'MAIL' ? cb(refuse()) : cb()),
    onRcptTo: (_a, _s, cb) => (command === 'RCPT' ? cb(refuse()) : cb()),
    onData: (stream, _s, cb) => {
      stream.resume();
      stream.on('end', () => (command === 'DATA' ? cb(refuse()) : cb(null, '2.6.0 Queued')));
    },
  };
  if (command === 'CONNECT') options.onConnect = (_s, cb) => cb(refuse());
  const server = new SMTPServer({
    ...tlsOf(smtpLeaf),
    authMethods: ['XOAUTH2'],
    logger: false,
    disableReverseLookup: true,
    // The replies go out exactly as published: smtp-server adds no enhanced status code.
    hideENHANCEDSTATUSCODES: true,
    name: 'SN4PR0201CA0068.outlook.office365.com',
    banner: 'Microsoft ESMTP MAIL Service ready',
    ...options,
  });
  server.on('error', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  const port = (server.server.address() as AddressInfo).port;
  return probeSmtp(
    labContext(ca),
    { host: 'smtp.office365.com', port },
    {
      user: SUPPORT,
      accessToken: TOKEN,
      ...(['MAIL', 'RCPT', 'DATA'].includes(command) ? { sendTo: 'probe-sink@example.com' } : {}),
    },
  );
}

// ------------------------------------------------------------------------------------- IMAP

/**
 * The text as a whole protocol line: where the source published the words without their
 * status (Microsoft's POP3/IMAP4 TLS refusal), context.frame is the status put before them.
 */
function framed(sig: Signature): string {
  const frame = sig.context?.frame;
  return typeof frame === 'string' ? `${frame}${sig.text}` : sig.text;
}

/** The text as an answer to the command tagged `tag` (a tagged line takes the real tag). */
function imapLine(text: string, tag: string): string {
  if (text.startsWith('* ')) return text;
  if (/^(OK|NO|BAD)\b/i.test(text)) return `${tag} ${text}`;
  return text.replace(/^\S+ /, `${tag} `);
}

async function imapSession(conn: LineConn, sig: Signature, at: string): Promise<void> {
  if (at === 'GREETING') {
    conn.write(framed(sig));
    conn.end();
    return;
  }
  conn.write('* OK The Microsoft Exchange IMAP4 service is ready. []');
  // Exchange answers "BAD User is authenticated but not connected." to whichever mailbox
  // command comes first after AUTHENTICATE (o365-facts.md §1.2): the sources saw it on the
  // command their client sent first (NAMESPACE, SELECT), the probe's first is LIST.
  const firstAfterLogin = /User is authenticated but not connected/i.test(sig.text);
  let loggedIn = false;
  for (;;) {
    const line = await conn.next();
    if (line === null) return;
    const [tag = '*', verbRaw = '', mech, initial] = line.split(' ');
    const verb = verbRaw.toUpperCase();
    if (verb === 'AUTHENTICATE' && initial === undefined && mech) {
      conn.write('+ ');
      await conn.next();
    }
    const mailboxCommand = loggedIn && !['CAPABILITY', 'ID', 'NOOP', 'LOGOUT'].includes(verb);
    if (verb === 'AUTHENTICATE') loggedIn = true;
    if (
      (firstAfterLogin ? mailboxCommand : verb === at) ||
      (at === 'EXAMINE' && verb === 'SELECT')
    ) {
      conn.write(imapLine(sig.text, tag));
      if (/^\* BYE\b/i.test(sig.text)) {
        conn.end();
        return;
      }
      continue;
    }
    switch (verb) {
      case 'CAPABILITY':
        conn.write(
          '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
        );
        conn.write(`${tag} OK CAPABILITY completed.`);
        break;
      case 'AUTHENTICATE':
        conn.write(`${tag} OK AUTHENTICATE completed.`);
        break;
      case 'NAMESPACE':
        conn.write('* NAMESPACE (("" "/")) NIL NIL');
        conn.write(`${tag} OK NAMESPACE completed.`);
        break;
      case 'LIST':
        conn.write('* LIST (\\HasNoChildren) "/" INBOX');
        conn.write(`${tag} OK LIST completed.`);
        break;
      case 'SELECT':
      case 'EXAMINE':
        conn.write('* 3 EXISTS');
        conn.write(`${tag} OK [READ-ONLY] ${verb} completed.`);
        break;
      case 'LOGOUT':
        conn.write('* BYE Microsoft Exchange Server 2016 IMAP4 server signing off.');
        conn.write(`${tag} OK LOGOUT completed.`);
        conn.end();
        return;
      default:
        conn.write(`${tag} OK ${verb} completed.`);
    }
  }
}

/** An implicit-TLS IMAP server answering the signature at context.command. */
export async function replayImap(sig: Signature): Promise<MailObservation> {
  const at = ctxString(sig, 'command').toUpperCase();
  const server = await startLineServer({ tls: tlsOf(outlook) }, conn => imapSession(conn, sig, at));
  closers.push(() => server.close());
  return probeImap(
    labContext(ca),
    { host: 'outlook.office365.com', port: server.port },
    { user: SUPPORT, accessToken: TOKEN },
  );
}

// ------------------------------------------------------------------------------------- POP3

async function pop3Session(conn: LineConn, sig: Signature, at: string): Promise<void> {
  if (at === 'greeting') {
    conn.write(framed(sig));
    conn.end();
    return;
  }
  conn.write('+OK The Microsoft Exchange POP3 service is ready. []');
  for (;;) {
    const line = await conn.next();
    if (line === null) return;
    const verb = (line.split(' ')[0] ?? '').toUpperCase();
    switch (verb) {
      case 'CAPA':
        for (const l of ['+OK', 'TOP', 'UIDL', 'SASL PLAIN XOAUTH2', 'USER', '.']) conn.write(l);
        break;
      case 'AUTH':
        if (at === 'auth-start') {
          conn.write(sig.text);
          break;
        }
        conn.write('+ ');
        await conn.next();
        conn.write(at === 'auth' ? sig.text : '+OK User successfully authenticated.');
        break;
      case 'STAT':
        conn.write(at === 'stat' ? sig.text : '+OK 3 6144');
        break;
      case 'QUIT':
        conn.write('+OK Microsoft Exchange Server 2016 POP3 server signing off.');
        conn.end();
        return;
      default:
        conn.write('-ERR Protocol error. 14');
    }
  }
}

/** An implicit-TLS POP3 server answering the signature at context.phase. */
export async function replayPop3(sig: Signature): Promise<MailObservation> {
  const at = ctxString(sig, 'phase');
  const server = await startLineServer({ tls: tlsOf(outlook) }, conn => pop3Session(conn, sig, at));
  closers.push(() => server.close());
  return probePop3(
    labContext(ca),
    { host: 'outlook.office365.com', port: server.port },
    { user: SALES, accessToken: TOKEN },
  );
}

// ------------------------------------------------------------------------------- judging

/**
 * The mail observation as the run would record it from services-1 for the fixture's mailbox:
 * support@ (its own token, IMAP) for SMTP and IMAP, sales@ (shared account, POP3) for POP3.
 */
function asRun(obs: MailObservation): MailObservation {
  const mailbox = obs.kind === 'pop3' ? SALES : SUPPORT;
  return {
    ...obs,
    // The runner marks each observation with the read that made it; rules see only theirs.
    read: 'mailbox-login',
    vantage: 'services-1',
    mailbox,
    user: obs.kind === 'smtp' ? SUPPORT : obs.kind === 'pop3' ? SALES : SUPPORT,
  };
}

/**
 * A run where everything else is healthy and Exchange's settings were not read (no probe
 * credentials): the conversation is the only evidence, as on a tenant that gives ecebot none.
 */
function fixture(obs: MailObservation): { env: EnvironmentFacts; observations: Observation[] } {
  const env = facts({ probeConfigured: false });
  const run = asRun(obs);
  const observations = healthy(env).filter(
    o =>
      !(
        o.kind === run.kind &&
        o.vantage === run.vantage &&
        (o as MailObservation).mailbox === run.mailbox
      ),
  );
  observations.push(run);
  return { env, observations };
}

function findingOf(item: ItemId, env: EnvironmentFacts, observations: Observation[]): Finding {
  const [finding] = evaluate({ env, observations, now: NOW }, [item]);
  if (!finding) throw new Error(`no finding for ${item}`);
  return finding;
}

/** All the words of a remediation a person reads. */
function words(r: { text: string; fix?: string }): string {
  return [r.text, r.fix ?? ''].join('\n');
}

/** What the signature's check found, for one assertion that shows everything on failure. */
export interface Verdict {
  code: string;
  item: ItemId | null;
  status: string;
  findingCodes: string[];
  missing: string[];
  forbidden: string[];
  tokenStatus?: string;
}

/**
 * The code the probe gave, the item the registry sends it to, the status of that item's rule on
 * the fixture, and the fix words missing or forbidden in the code's remediation and in the
 * item's advice for its main code.
 */
export function judgeSignature(sig: Signature, obs: MailObservation): Verdict {
  const run = asRun(obs);
  const { env, observations } = fixture(obs);
  const item = CODES[obs.code].item;
  const ctx = {
    env,
    mailbox: run.mailbox!,
    vantage: run.vantage,
    host: run.host!,
    port: run.port!,
    ...(run.mailbox === SALES ? { account: SVC } : {}),
  };
  const own = words(remediationFor(obs.code, ctx));
  // A code for no item (a temporary refusal) is judged where conversations are: connectivity.
  const finding = findingOf(item ?? 'connectivity', env, observations);
  const advice = finding.remediation.find(r => r.code === finding.code);
  const hay = [own, advice ? words(advice) : ''].join('\n');
  const { missing, forbidden } = fixMatches(hay, sig.expect);
  const verdict: Verdict = {
    code: obs.code,
    item,
    status: finding.status,
    findingCodes: finding.codes,
    missing,
    forbidden,
  };
  // A refusal that is not about the token must leave the token item alone.
  if (sig.expect.item !== 'token') {
    verdict.tokenStatus = findingOf('token', env, observations).status;
  }
  return verdict;
}

/** What a signature's verdict must be, from its expectation. */
export function expectedVerdict(sig: Signature): Partial<Verdict> {
  const out: Partial<Verdict> = {
    item: sig.expect.item as ItemId | null,
    missing: [],
    forbidden: [],
  };
  if (sig.expect.code) out.code = sig.expect.code;
  if (sig.expect.item !== 'token') out.tokenStatus = 'pass';
  // A source that says "try again later" (context.retry) is a warning that judged nothing;
  // every other refusal fails its item.
  out.status = sig.context?.retry === true ? 'warn' : 'fail';
  return out;
}

/** Whether the probe recorded the published text among the server's words of some step. */
export function heard(sig: Signature, obs: MailObservation): boolean {
  const untag = (l: string): string => l.replace(/^(?!\* |[-+])\S+ /, '').trim();
  const want = untag(sig.text).slice(0, 40);
  return obs.steps.some(s => (s.received ?? []).some(l => untag(l).includes(want)));
}
