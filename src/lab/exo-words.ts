/**
 * Exchange Online's exact wire texts for IMAP, POP3 and SMTP submission, in one place, so the
 * lab servers say what outlook.office365.com and smtp.office365.com say and the probes' tests
 * meet the words they will meet in production. Sources are o365-facts.md §1.2–§1.4 and §5;
 * texts no public trace shows are marked "lab's choice" and kept plausible and RFC-shaped.
 */
import { randomBytes, randomInt } from 'node:crypto';

/* ------------------------------------------------------------------ names and ids */

/** Region labels seen in Exchange Online front-end names (o365-facts.md §1.2). */
const REGIONS = ['APCPRD01', 'DEUP281', 'NAMPRD04', 'EURPRD04', 'CANPRD01', 'GBRP265'];

/**
 * A front-end FQDN in Exchange Online's shape, e.g. `SI2PR01CA0042.APCPRD01.PROD.OUTLOOK.COM`
 * (two letters, a digit, `PR`, two digits, `CA`, four digits; o365-facts.md §1.2).
 */
export function frontEndName(): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const l = () => letters[randomInt(letters.length)];
  const d = (n: number) => String(randomInt(10 ** n)).padStart(n, '0');
  const region = REGIONS[randomInt(REGIONS.length)];
  return `${l()}${l()}${d(1)}PR${d(2)}CA${d(4)}.${region}.PROD.OUTLOOK.COM`;
}

/** The build/process id EXO prints in SMTP banners and diagnostics, e.g. `08DBB276B7E699C4`. */
export function exoBuildId(): string {
  return `08D${randomBytes(7).toString('hex').toUpperCase().slice(0, 13)}`;
}

/**
 * The bracketed front-end tag of the IMAP and POP3 greetings: base64 of the front-end FQDN in
 * UTF-16LE (verified by decoding two real greetings, o365-facts.md §1.2).
 */
export function frontEndTag(frontEnd: string): string {
  return Buffer.from(frontEnd, 'utf16le').toString('base64');
}

/**
 * The diagnostic suffix EXO appends to SMTP errors:
 * `[<FRONT-END> <ISO time> <build id>]` (o365-facts.md §1.4).
 */
export function smtpDiag(frontEnd: string, buildId: string, now: Date = new Date()): string {
  return `[${frontEnd} ${now.toISOString()} ${buildId}]`;
}

/** RFC 5322 §3.3 date as EXO prints it in the banner: `Tue, 12 Sep 2023 20:59:57 +0000`. */
export function rfc1123(now: Date = new Date()): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${days[now.getUTCDay()]}, ${now.getUTCDate()} ${months[now.getUTCMonth()]} ` +
    `${now.getUTCFullYear()} ${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:` +
    `${p(now.getUTCSeconds())} +0000`
  );
}

/** The SMTP host name in banners: the front-end's first label under outlook.office365.com. */
export function smtpHostName(frontEnd: string): string {
  return `${frontEnd.split('.')[0]}.outlook.office365.com`;
}

/* ------------------------------------------------------------------ IMAP (§1.2) */

export const IMAP = {
  greeting: (frontEnd: string) =>
    `* OK The Microsoft Exchange IMAP4 service is ready. [${frontEndTag(frontEnd)}]`,
  /** Before authentication (2016→2025 logs). */
  capabilityPreAuth:
    'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
  /** After authentication: adds MOVE and the server-internal tokens (MailKit #1494, #1496). */
  capabilityPostAuth:
    'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+',
  authOk: 'OK AUTHENTICATE completed.',
  authFailed: 'NO AUTHENTICATE failed.',
  /** Token valid for an identity that cannot open the `user=` mailbox (o365-facts.md §5 row 1). */
  notConnected: 'BAD User is authenticated but not connected.',
  byeNotConnected: '* BYE Connection closed. 14',
  /** Access token expired during the session (imapsync #250). */
  byeTokenExpired: '* BYE Session invalidated - AccessTokenExpired',
  loginFailed: 'NO LOGIN failed.',
  badCommand: 'BAD Command Error. 10',
  /** Malformed command (Pester tests against outlook.office365.com). */
  badArgument: 'BAD Command Argument Error. 12',
  /** Command in the wrong state (imapsync #250). */
  badState: 'BAD Command received in Invalid state.',
  byeLogout: '* BYE Microsoft Exchange Server 2016 IMAP4 server signing off.',
  completed: (command: string) => `OK ${command} completed.`,
  /** Lab's choice: continuation for a synchronising literal (RFC 3501 §7.5 allows any text). */
  literalContinue: '+ Ready for additional command text.',
  /** Lab's choice (RFC 2177 §3 allows any text after `+`). */
  idleContinue: '+ IDLE accepted, awaiting DONE command.',
  /** Lab's choice: the client cancelled the SASL exchange with `*` (RFC 3501 §6.2.2 wants BAD). */
  authCanceled: 'BAD AUTHENTICATE aborted.',
  /** Lab's choice for a SELECT/EXAMINE/STATUS of a folder the mailbox does not have. */
  noSuchFolder: 'NO [NONEXISTENT] The folder does not exist.',
  /** Lab's choice: a line or literal above the lab's limit closes the connection. */
  byeTooLong: '* BYE Command line too long.',
} as const;

/* ------------------------------------------------------------------ POP3 (§1.3) */

export const POP3 = {
  greeting: (frontEnd: string) =>
    `+OK The Microsoft Exchange POP3 service is ready. [${frontEndTag(frontEnd)}]`,
  capa: ['TOP', 'UIDL', 'SASL PLAIN XOAUTH2', 'USER'],
  /** RFC 5034 continuation; observed as `+ ` with a trailing space. */
  authContinue: '+ ',
  authOk: '+OK User successfully authenticated.',
  authFailed: '-ERR Authentication failure: unknown user name or bad password.',
  /** USER/PASS: basic auth is off (Remote Connectivity Analyzer trace). */
  logonFailed: '-ERR Logon failure: unknown user name or bad password.',
  /**
   * `AUTH XOAUTH2 <base64>` on one line: EXO answers this and closes the connection
   * (getmail6 #256, 2025; o365-facts.md §5 row 6). Only the two-step form works.
   */
  protocolErrorClosed: '-ERR Protocol error. Connection is closed. 10',
  /** Unsupported mechanism (SPA) — reused for unknown commands (lab's choice). */
  protocolError: '-ERR Protocol error. 14',
  signOff: '+OK Microsoft Exchange Server 2016 POP3 server signing off.',
  ok: '+OK',
  /** Lab's choice for the texts below (no public trace). */
  badState: '-ERR Command is not valid in this state.',
  noSuchMessage: '-ERR The specified message is out of range.',
  deleted: '-ERR The specified message has been deleted.',
  tooLong: '-ERR Command line too long.',
} as const;

/* ------------------------------------------------------------------ SMTP (§1.4) */

export const SMTP = {
  banner: (host: string, date: string, buildId: string) =>
    `220 ${host} Microsoft ESMTP MAIL Service ready at ${date} [${buildId}]`,
  hello: (host: string, ip: string) => `${host} Hello [${ip}]`,
  /** EHLO keywords before TLS: STARTTLS offered, no AUTH. */
  ehloPlain: [
    'SIZE 157286400',
    'PIPELINING',
    'DSN',
    'ENHANCEDSTATUSCODES',
    'STARTTLS',
    '8BITMIME',
    'BINARYMIME',
    'CHUNKING',
    'SMTPUTF8',
  ],
  /** EHLO keywords after TLS: AUTH LOGIN XOAUTH2 in place of STARTTLS. */
  ehloTls: [
    'SIZE 157286400',
    'PIPELINING',
    'DSN',
    'ENHANCEDSTATUSCODES',
    'AUTH LOGIN XOAUTH2',
    '8BITMIME',
    'BINARYMIME',
    'CHUNKING',
    'SMTPUTF8',
  ],
  maxSize: 157286400,
  startTls: '220 2.0.0 SMTP server ready',
  /** RFC 4954 §4: an empty challenge (`334 ` — EXO sends the space). */
  authContinue: '334 ',
  /** AUTH LOGIN prompts: base64 of "Username:" and "Password:". */
  loginUser: '334 VXNlcm5hbWU6',
  loginPass: '334 UGFzc3dvcmQ6',
  authOk: '235 2.7.0 Authentication successful',
  authFailed: (diag: string) => `535 5.7.3 Authentication unsuccessful ${diag}`,
  authDisabledTenant: (diag: string) =>
    '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. ' +
    `Visit https://aka.ms/smtp_auth_disabled for more information. ${diag}`,
  authDisabledMailbox: (diag: string) =>
    '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. ' +
    `Visit https://aka.ms/smtp_auth_disabled for more information. ${diag}`,
  basicDisabled: (diag: string) =>
    `535 5.7.139 Authentication unsuccessful, basic authentication is disabled. ${diag}`,
  /**
   * AUTH PLAIN, an unknown mechanism, and — the lab's reading — any AUTH before STARTTLS, where
   * EHLO offers no AUTH at all. Newer EXO appends the diagnostic (maxisam/mgob #52, 2023).
   */
  unrecognizedAuth: (diag: string) => `504 5.7.4 Unrecognized authentication type ${diag}`,
  notAuthenticated: (diag: string) => `530 5.7.57 Client not authenticated to send mail. ${diag}`,
  senderOk: '250 2.1.0 Sender OK',
  recipientOk: '250 2.1.5 Recipient OK',
  dataGo: '354 Start mail input; end with <CRLF>.<CRLF>',
  queued: (messageId: string, frontEnd: string) =>
    `250 2.0.0 OK ${messageId} [Hostname=${frontEnd}]`,
  /** From ≠ authenticated mailbox, answered at the end of DATA (gophish #2900). */
  sendAsDenied: (auth: string, from: string, frontEnd: string) =>
    `554 5.2.252 SendAsDenied; ${auth} not allowed to send as ${from}; ` +
    'STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; ' +
    'Failed to process message due to a permanent exception with message ' +
    `[BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=${frontEnd}]`,
  reset: '250 2.0.0 Resetting',
  noop: '250 2.0.0 OK',
  quit: '221 2.0.0 Service closing transmission channel',
  unrecognized: (verb: string) => `500 5.3.3 Unrecognized command '${verb}'`,
  /** Exchange's sequence texts (lab's choice where no EXO trace exists). */
  sendHelloFirst: '503 5.5.2 Send hello first',
  needMail: '503 5.5.2 Need mail command',
  needRcpt: '503 5.5.2 Need rcpt command',
  senderAlready: '503 5.5.2 Sender already specified',
  alreadyAuthenticated: '503 5.5.2 Already authenticated',
  invalidArguments: '501 5.5.4 Invalid arguments',
  authCanceled: '501 5.7.0 Authentication canceled',
  tooBig: '552 5.3.4 Message size exceeds fixed maximum message size',
  /** RFC 5321 §4.2.2 "Line too long"; the lab then closes the connection. */
  lineTooLong: '500 5.3.3 Line too long',
  bdatOk: (n: number) => `250 2.0.0 ${n} bytes received`,
} as const;
