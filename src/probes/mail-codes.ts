/**
 * The one place where what a mail server or the network said becomes a registry code.
 * Probes record the server's words beside the code; checklist rules only ever see the code.
 *
 * Wire facts come from o365-facts.md §1 (Exchange Online IMAP §1.2, POP3 §1.3, SMTP §1.4).
 * Status words, tags, reply codes and enhanced status codes are matched structurally. Text is
 * matched only where Exchange Online distinguishes outcomes by text alone (IMAP "not connected",
 * the BYE for an expired token, the 5.7.139 variants), and each such match says why.
 */
import type { Code } from '../model';

// ---------------------------------------------------------------------------------------------
// Transport: sockets, TLS, deadlines
// ---------------------------------------------------------------------------------------------

/** Certificate verification failures that mean "expired or not yet valid". */
const CERT_EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * OpenSSL verification results Node reports as the error code (X509_V_ERR_* names without
 * the prefix) plus Node's own name check: the chain or the name is wrong, the TLS itself worked.
 */
const CERT_INVALID = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_SIGNATURE_ALGORITHM_UNSUPPORTED',
]);

/**
 * OpenSSL's words for "no TLS version in common" as Node reports them, when our client offers
 * TLS 1.2 and 1.3 only (Node's default minimum since v12):
 * - ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: the peer answered our ClientHello with the fatal
 *   protocol_version alert (RFC 8446 §6.2, RFC 5246 §7.2.2; alert 70) — a server capped at
 *   TLS 1.0/1.1 (seen: nodejs/node#49210, "tlsv1 alert protocol version … SSL alert number 70");
 * - ERR_SSL_UNSUPPORTED_PROTOCOL: the peer chose a version below our minimum in its
 *   ServerHello ("ssl_choose_client_version:unsupported protocol", nodejs/help#1936).
 * Either way only TLS below 1.2 would get through.
 */
const TLS_VERSION = new Set([
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
]);

/** Whether a Node error code says the peer refused every TLS version we offer (1.2+). */
export function isTlsVersionCode(sysCode: string | undefined): boolean {
  return !!sysCode && TLS_VERSION.has(sysCode);
}

/** Whether a Node error code is a certificate verification result (not a handshake failure). */
export function isCertVerifyCode(sysCode: string | undefined): boolean {
  return !!sysCode && (CERT_EXPIRED.has(sysCode) || CERT_INVALID.has(sysCode));
}

/** Map a Node socket/TLS error code to a registry code. */
export function networkCode(sysCode: string | undefined): Code {
  switch (sysCode) {
    case 'ECONNREFUSED':
      return 'CONNECT_REFUSED';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'CONNECT_RESET';
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return 'DNS_NOT_FOUND';
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return 'TLS_CERT_EXPIRED';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'CERT_UNTRUSTED':
      return 'TLS_CERT_INVALID';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return 'TLS_HANDSHAKE_FAILED';
    default:
      return 'CONNECT_RESET';
  }
}

/** A failed connect: refused, reset, unreachable (Node's socket error code). */
export function socketCode(sysCode: string | undefined): Code {
  switch (sysCode) {
    case 'ETIMEDOUT':
      // The operating system gave up on the SYN: packets are dropped on the way.
      return 'CONNECT_TIMEOUT';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      // An ICMP unreachable is a router or firewall rejecting the path.
      return 'CONNECT_REFUSED';
    default:
      return networkCode(sysCode);
  }
}

/**
 * A failed TLS handshake. Verification results keep their meaning (expired, invalid); anything
 * else while negotiating — a peer that answers plain text, a reset, an alert — is a handshake
 * failure, which is how a port that does not speak TLS or an interception device shows up.
 */
export function tlsFailureCode(sysCode: string | undefined): Code {
  if (sysCode && CERT_EXPIRED.has(sysCode)) return 'TLS_CERT_EXPIRED';
  if (sysCode && CERT_INVALID.has(sysCode)) return 'TLS_CERT_INVALID';
  if (isTlsVersionCode(sysCode)) return 'TLS_VERSION_REFUSED';
  return 'TLS_HANDSHAKE_FAILED';
}

// ---------------------------------------------------------------------------------------------
// Shared by the three mail protocols
// ---------------------------------------------------------------------------------------------

/**
 * Exchange Online's refusal of a TLS 1.0/1.1 session. SMTP carries it as `421 4.7.66`; for POP3
 * and IMAP4 Microsoft published only the text ("TLS 1.0 and 1.1 are not supported. Please
 * upgrade/update your client to support TLS 1.2. Visit https://aka.ms/popimap_tls.", Exchange
 * Team blog 3710395), so the text is what tells it from any other refusal there.
 */
const TLS_VERSION_TEXT = /TLS 1\.0 and 1\.1 are not supported/i;

// ---------------------------------------------------------------------------------------------
// IMAP (RFC 9051 / RFC 3501 status responses; Exchange Online texts from o365-facts.md §1.2)
// ---------------------------------------------------------------------------------------------

/** An IMAP status response split into its parts. */
export interface ImapStatus {
  /** The tag, or `*` for an untagged response, `+` for a continuation. */
  tag: string;
  /** OK, NO, BAD, BYE or PREAUTH (upper-case). */
  status: string;
  /** The bracketed response code (RFC 5530), e.g. `AUTHENTICATIONFAILED`, without arguments. */
  responseCode?: string;
  /** The human-readable text after status and response code. */
  text: string;
}

/** Parse `A01 NO [CODE args] text` or `* BYE text`; undefined for data responses. */
export function parseImapStatus(line: string): ImapStatus | undefined {
  const m = /^(\S+) (OK|NO|BAD|BYE|PREAUTH)(?: \[([^\]\s]+)[^\]]*\])? ?(.*)$/i.exec(line.trim());
  if (!m) return undefined;
  const status: ImapStatus = { tag: m[1]!, status: m[2]!.toUpperCase(), text: m[4] ?? '' };
  if (m[3]) status.responseCode = m[3].toUpperCase();
  return status;
}

/**
 * RFC 5530 response codes (and RFC 9051 §7.1's) that decide a NO, BAD or BYE by themselves,
 * whatever command it answered: only AUTHENTICATIONFAILED and EXPIRED say the credentials (the
 * token) were not accepted. A code not listed here falls back to the command and status.
 */
const IMAP_RESPONSE_CODES: Record<string, Code> = {
  // "Authentication failed for some reason on which the server is unwilling to elaborate."
  AUTHENTICATIONFAILED: 'AUTH_FAILED',
  // "Either authentication succeeded or the server no longer had the necessary data; either
  // way, access is no longer permitted using that passphrase."
  EXPIRED: 'AUTH_FAILED',
  // "Authentication succeeded in using the authentication identity, but the server cannot or
  // will not allow the authentication identity to act as the requested authorization identity":
  // the token's user may not open the mailbox named in user=.
  AUTHORIZATIONFAILED: 'MAILBOX_ACCESS_DENIED',
  // "The access control system (e.g., ACL) for the mailbox does not permit the user".
  NOPERM: 'MAILBOX_ACCESS_DENIED',
  // "Temporary failure because a subsystem is down."
  UNAVAILABLE: 'MAIL_TEMPORARY',
  // "The operation is ignored because it exceeds some limit on the server" (e.g. connections).
  LIMIT: 'MAIL_TEMPORARY',
  // "An operation has not been carried out because it involves … someone else" (locked).
  INUSE: 'MAILBOX_IN_USE',
  // "The server encountered a bug in itself or violated one of its own invariants."
  SERVERBUG: 'MAIL_SERVER_FAILURE',
  // "The operation is not permitted due to a lack of privacy" (no TLS).
  PRIVACYREQUIRED: 'MAIL_TLS_REQUIRED',
  // "The user should contact the system administrator or support desk."
  CONTACTADMIN: 'MAIL_CONTACT_ADMIN',
  // Codes about the command itself, never the credentials: a client or server fault.
  CLIENTBUG: 'PROTOCOL_ERROR',
  CANNOT: 'PROTOCOL_ERROR',
  NONEXISTENT: 'PROTOCOL_ERROR',
  ALREADYEXISTS: 'PROTOCOL_ERROR',
  OVERQUOTA: 'PROTOCOL_ERROR',
  // RFC 9051 §7.1: TRYCREATE, and RFC 5530's EXPUNGEISSUED / CORRUPTION, neither.
  TRYCREATE: 'PROTOCOL_ERROR',
  EXPUNGEISSUED: 'PROTOCOL_ERROR',
  CORRUPTION: 'MAIL_SERVER_FAILURE',
};

/**
 * The code for an IMAP response line to `command` (the verb we sent: AUTHENTICATE, LIST…, or
 * `GREETING`). Data responses and OK are `OK`.
 */
export function imapCode(command: string, line: string): Code {
  const s = parseImapStatus(line);
  if (!s) return 'OK';
  const verb = command.toUpperCase();
  if (s.status === 'OK' || s.status === 'PREAUTH') return 'OK';
  if (TLS_VERSION_TEXT.test(s.text)) return 'MAIL_TLS_VERSION_REFUSED';
  // A response code decides first (RFC 5530 §3: the code is for the client to act on).
  const byCode = s.responseCode ? IMAP_RESPONSE_CODES[s.responseCode] : undefined;
  if (byCode) return byCode;
  if (s.status === 'BYE') {
    // Exchange Online ends a session whose token expired with an untagged BYE that carries no
    // response code; only the text tells this BYE from a normal one (§1.2, imapsync #250).
    if (/AccessTokenExpired/i.test(s.text)) return 'TOKEN_EXPIRED_SESSION';
    return verb === 'LOGOUT' ? 'OK' : 'PROTOCOL_ERROR';
  }
  // "BAD User is authenticated but not connected." answers the first mailbox command after a
  // successful AUTHENTICATE when the token's user cannot open the mailbox in user= (§1.2).
  // BAD otherwise means a malformed command, so only the text separates the two.
  if (s.status === 'BAD' && /User is authenticated but not connected/i.test(s.text)) {
    return 'AUTHENTICATED_NOT_CONNECTED';
  }
  // RFC 9051 §6.2.2: NO to AUTHENTICATE means the authentication failed, whatever the text
  // (Exchange Online says "NO AUTHENTICATE failed."), unless a response code said otherwise.
  if (s.status === 'NO' && (verb === 'AUTHENTICATE' || verb === 'LOGIN')) return 'AUTH_FAILED';
  return 'PROTOCOL_ERROR';
}

/** The fields imapflow adds to the errors it throws (anchors.md C2, teams-bot-notes.md §8). */
export interface ImapflowErrorFields {
  code?: string;
  authenticationFailed?: boolean;
  serverResponseCode?: string;
  responseText?: string;
  responseStatus?: string;
  response?: string;
  executedCommand?: string;
  reason?: string;
  tlsFailed?: boolean;
  oauthError?: unknown;
  message?: string;
}

/**
 * The code for an error thrown by imapflow when no wire line decided it already (the probe
 * prefers the code of the step whose response failed).
 */
export function imapflowErrorCode(err: ImapflowErrorFields): Code {
  switch (err.code) {
    case 'CONNECT_TIMEOUT':
      return 'CONNECT_TIMEOUT';
    case 'GREETING_TIMEOUT':
      return 'GREETING_TIMEOUT';
    case 'ETIMEOUT':
    case 'UPGRADE_TIMEOUT':
      return 'TIMEOUT';
    case 'NoConnection':
      // The server closed the session; its BYE text, if any, is in `reason`.
      return err.reason && /AccessTokenExpired/i.test(err.reason)
        ? 'TOKEN_EXPIRED_SESSION'
        : 'CONNECT_RESET';
  }
  if (err.response && err.executedCommand) {
    const verb = err.executedCommand.split(' ')[1] ?? '';
    const code = imapCode(verb, err.response);
    if (code !== 'OK') return code;
  }
  if (err.authenticationFailed) return 'AUTH_FAILED';
  if (err.response && /User is authenticated but not connected/i.test(err.response)) {
    // imapflow turns the NAMESPACE "BAD User is authenticated but not connected." into an
    // AuthenticationFailure whose `response` is the text without tag and status (§1.2).
    return 'AUTHENTICATED_NOT_CONNECTED';
  }
  if (err.code && /^E[A-Z]+$/.test(err.code)) return socketCode(err.code);
  if (err.tlsFailed) return 'TLS_HANDSHAKE_FAILED';
  // imapflow's size limits (maxLineLength, maxLiteralSize, maxResponseSize): it stopped reading
  // a response that passed the cap the IMAP probe sets.
  if (err.code && ['LineTooLarge', 'LiteralTooLarge', 'ResponseTooLarge'].includes(err.code)) {
    return 'REPLY_TOO_LONG';
  }
  return 'PROTOCOL_ERROR';
}

// ---------------------------------------------------------------------------------------------
// POP3 (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH; Exchange Online texts from o365-facts.md §1.3)
// ---------------------------------------------------------------------------------------------

/** Where in the POP3 conversation a reply came. */
export type Pop3Phase = 'greeting' | 'capa' | 'auth-start' | 'auth' | 'stat' | 'quit';

/**
 * POP3 extended response codes (RFC 2449 §8, RFC 3206), by their first one or two levels (the
 * codes are hierarchical: `SYS/TEMP/…` is still SYS/TEMP).
 */
const POP3_RESPONSE_CODES: Record<string, Code> = {
  // RFC 3206 §4: "a problem with the user's credentials" (or authorization).
  AUTH: 'AUTH_FAILED',
  // RFC 3206 §4: "a system error … likely transient", "the client … should try again later".
  'SYS/TEMP': 'MAIL_TEMPORARY',
  // RFC 3206 §4: "a system error … unlikely to be resolved without intervention".
  'SYS/PERM': 'MAIL_SERVER_FAILURE',
  // RFC 2449 §8.1.2: "the authentication was successful, but the user's maildrop is currently
  // locked (probably by another POP3 session)".
  'IN-USE': 'MAILBOX_IN_USE',
  // RFC 2449 §8.1.1: "the user is logging in too frequently": try later.
  'LOGIN-DELAY': 'MAIL_TEMPORARY',
};

/** The registry code for a POP3 `-ERR [CODE] …` response code, if it decides the reply. */
function pop3ResponseCode(line: string): Code | undefined {
  const m = /^-ERR \[([^\]\s]+)\]/i.exec(line);
  if (!m) return undefined;
  const levels = m[1]!.toUpperCase().split('/');
  return POP3_RESPONSE_CODES[levels.slice(0, 2).join('/')] ?? POP3_RESPONSE_CODES[levels[0]!];
}

/**
 * The code for a POP3 reply line in `phase`. `auth-start` is the reply to the `AUTH XOAUTH2`
 * line itself (a `+` continuation is expected), `auth` the reply to the XOAUTH2 blob.
 */
export function pop3Code(phase: Pop3Phase, line: string): Code {
  if (/^\+OK\b/i.test(line)) return 'OK';
  if (/^\+( |$)/.test(line)) return phase === 'auth-start' ? 'OK' : 'PROTOCOL_ERROR';
  if (!/^-ERR\b/i.test(line)) return 'PROTOCOL_ERROR';
  if (TLS_VERSION_TEXT.test(line)) return 'MAIL_TLS_VERSION_REFUSED';
  // An extended response code decides whatever the phase (RFC 2449 §8: the client acts on it).
  const byCode = pop3ResponseCode(line);
  if (byCode) return byCode;
  switch (phase) {
    case 'auth-start':
      // RFC 5034 §4: -ERR instead of a continuation means the server will not run the
      // mechanism at all (Exchange Online: "-ERR Protocol error. 14").
      return 'XOAUTH2_NOT_OFFERED';
    case 'auth':
      // -ERR after the blob: the token was rejected ("-ERR Authentication failure: unknown
      // user name or bad password.").
      return 'AUTH_FAILED';
    default:
      return 'PROTOCOL_ERROR';
  }
}

// ---------------------------------------------------------------------------------------------
// SMTP (RFC 5321 reply codes, RFC 3463 enhanced status codes; texts from o365-facts.md §1.4)
// ---------------------------------------------------------------------------------------------

/** An SMTP reply split into its parts (first line for the codes, every line for the text). */
export interface SmtpReply {
  /** Three-digit reply code, 0 when the line does not start with one. */
  status: number;
  /** RFC 3463 enhanced status code, e.g. `5.7.139`, when present. */
  enhanced?: string;
  /** The reply text without codes, lines joined by a space. */
  text: string;
}

/** Parse a (possibly multi-line, `\n`-joined) SMTP reply. */
export function parseSmtpReply(reply: string): SmtpReply {
  const lines = reply.split(/\r?\n/).filter(l => l.length);
  const first = /^(\d{3})(?:[ -](\d\.\d{1,3}\.\d{1,3})(?= |$))?/.exec(lines[0] ?? '');
  const text = lines
    .map(l => l.replace(/^\d{3}[ -]?(?:\d\.\d{1,3}\.\d{1,3} ?)?/, ''))
    .join(' ')
    .trim();
  const parsed: SmtpReply = { status: first ? Number(first[1]) : 0, text };
  if (first?.[2]) parsed.enhanced = first[2];
  return parsed;
}

/** Which SMTP command a reply answers (the greeting is `CONNECT`). */
export type SmtpCommand =
  'CONNECT' | 'EHLO' | 'STARTTLS' | 'AUTH' | 'MAIL' | 'RCPT' | 'DATA' | 'QUIT';

/**
 * The code for the reply to `command`. 2xx and 3xx are `OK` (334 is handled by the caller).
 *
 * The order matters: first what Exchange Online says in one status for several causes and only
 * the text separates (the TLS-version refusal, STOREDRV logon failures, the 5.7.139 variants,
 * SendAsDenied), then the enhanced status code (RFC 3463 class and subject, RFC 5248 registry),
 * then the reply code's class (RFC 5321 §4.2.1: 4yz is transient, try again later) and the
 * command it answered.
 */
export function smtpCode(command: SmtpCommand, reply: string): Code {
  const r = parseSmtpReply(reply);
  if (r.status >= 200 && r.status < 400) return 'OK';
  if (r.status === 0) return 'PROTOCOL_ERROR';
  // 421 4.7.66 "TLS 1.0 and 1.1 are not supported…" (o365-facts.md §8, zehm/sendEmail #1): a
  // 421 closes the session, but retrying over the same TLS version never helps.
  if (r.enhanced === '4.7.66' || TLS_VERSION_TEXT.test(r.text)) return 'MAIL_TLS_VERSION_REFUSED';
  // "430 4.2.0 STOREDRV; mailbox logon failure; …MapiExceptionLogonFailed" (email-oauth2-proxy
  // #271): Exchange calls it transient, but the signed-in account cannot log on to the mailbox
  // and retrying never helps; 4.2.0 alone says nothing more, so the text decides.
  if (/MapiExceptionLogonFailed|mailbox logon failure/i.test(r.text)) {
    return 'MAILBOX_ACCESS_DENIED';
  }
  if (command === 'STARTTLS') return 'STARTTLS_UNAVAILABLE';
  if (r.enhanced === '5.7.139') {
    // Exchange Online uses one status (535 5.7.139) for several refusals and tells them apart
    // only in the text (§1.4), so the text is matched here and nowhere else.
    if (/SmtpClientAuthentication is disabled for the Tenant/i.test(r.text)) {
      return 'SMTP_AUTH_DISABLED_TENANT';
    }
    if (/SmtpClientAuthentication is disabled/i.test(r.text)) return 'SMTP_AUTH_DISABLED';
    if (/basic authentication is disabled/i.test(r.text)) return 'SMTP_BASIC_AUTH_DISABLED';
    if (/security defaults/i.test(r.text)) return 'SMTP_SECURITY_DEFAULTS';
    if (/did not meet the criteria/i.test(r.text)) return 'SMTP_BLOCKED_BY_POLICY';
    return 'AUTH_FAILED';
  }
  // 550 5.7.30: basic authentication is no longer accepted for client submission (§1.7).
  if (r.enhanced === '5.7.30') return 'SMTP_BASIC_AUTH_DISABLED';
  // 554 5.2.252 SendAsDenied (and its older 5.2.0 STOREDRV form, which only the text marks),
  // 5.7.60 "Client does not have permissions to send as this sender" (§1.4).
  if (r.enhanced === '5.2.252' || r.enhanced === '5.7.60') return 'SEND_AS_DENIED';
  if (r.enhanced === '5.2.0' && /SendAsDenied/i.test(r.text)) return 'SEND_AS_DENIED';
  // 530 5.7.57 "Client not authenticated to send mail" (Exchange Online, §1.4) and RFC 4954 §6
  // "530 5.7.0 Authentication required": MAIL FROM without a successful AUTH. RFC 3207 §4 gives
  // 530 to a command that needs STARTTLS first ("530 Must issue a STARTTLS command first"), and
  // RFC 4954 §6 "538 5.7.11 Encryption required for requested authentication mechanism".
  if (r.enhanced === '5.7.57') return 'SMTP_NOT_AUTHENTICATED';
  if (r.enhanced === '5.7.11' || r.status === 538) return 'MAIL_TLS_REQUIRED';
  if (r.status === 530) {
    return /STARTTLS/i.test(r.text) ? 'MAIL_TLS_REQUIRED' : 'SMTP_NOT_AUTHENTICATED';
  }
  // RFC 5321 §4.2.1 (4yz) and RFC 3463 §3.1 (class 4): transient, "the action may be requested
  // again". Not a verdict on the token even when it answers AUTH (RFC 4954 §6 "454 4.7.0
  // Temporary authentication failure"): 421 4.3.2 service not available, 451 4.7.0, 452 …
  if ((r.status >= 400 && r.status < 500) || r.enhanced?.startsWith('4.')) return 'MAIL_TEMPORARY';
  if (command === 'AUTH') {
    // RFC 4954 §6: 504 = mechanism not supported ("504 5.7.4 Unrecognized authentication type").
    if (r.status === 504) return 'XOAUTH2_NOT_OFFERED';
    // 535 5.7.3 / 535 5.7.8 and any other permanent refusal of AUTH: the token was not accepted.
    return 'AUTH_FAILED';
  }
  if (command === 'MAIL' || command === 'RCPT' || command === 'DATA') return 'SEND_REJECTED';
  return 'PROTOCOL_ERROR';
}

/** The fields nodemailer adds to its errors (anchors.md C3, teams-bot-notes.md §8). */
export interface NodemailerErrorFields {
  code?: string;
  /** The Node code nodemailer replaced with its own (`ECONNREFUSED`, `CERT_HAS_EXPIRED`…). */
  originalCode?: string;
  /** Which deadline fired: CONNECT_TIMEOUT, GREETING_TIMEOUT, UPGRADE_TIMEOUT, SOCKET_TIMEOUT. */
  timeoutType?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  message?: string;
}

/** The SMTP command a nodemailer `command` field names (`AUTH XOAUTH2`, `MAIL FROM`, `CONN`). */
function commandOf(command: string | undefined): SmtpCommand | undefined {
  const verb = (command ?? '').split(' ')[0]?.toUpperCase() ?? '';
  if (verb === 'CONN') return 'CONNECT';
  if (verb === 'HELO' || verb === 'LHLO') return 'EHLO';
  const known: SmtpCommand[] = ['EHLO', 'STARTTLS', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'QUIT'];
  return known.find(k => k === verb);
}

/**
 * The code for an error from nodemailer's SMTP connection when no wire line decided it already.
 * `tlsStarted` says whether the STARTTLS handshake had begun, so that a socket failure then is
 * read as a TLS failure.
 */
export function nodemailerErrorCode(err: NodemailerErrorFields, tlsStarted: boolean): Code {
  if (err.code === 'ETIMEDOUT') {
    switch (err.timeoutType) {
      case 'CONNECT_TIMEOUT':
        return 'CONNECT_TIMEOUT';
      case 'GREETING_TIMEOUT':
        return 'GREETING_TIMEOUT';
      default:
        return 'TIMEOUT';
    }
  }
  // nodemailer drops a reply longer than its maxResponseSize and fails with EPROTOCOL and this
  // message (it keeps no other field for it); after STARTTLS that cap is the only one.
  if (
    err.code === 'EPROTOCOL' &&
    /response exceeds maximum allowed size/i.test(err.message ?? '')
  ) {
    return 'REPLY_TOO_LONG';
  }
  const command = commandOf(err.command);
  if (err.response && command) return smtpCode(command, err.response);
  if (isCertVerifyCode(err.originalCode)) return tlsFailureCode(err.originalCode);
  if (tlsStarted && (err.code === 'ETLS' || err.code === 'ESOCKET')) {
    return tlsFailureCode(err.originalCode);
  }
  switch (err.code) {
    case 'ESOCKET':
      return socketCode(err.originalCode);
    case 'ECONNECTION':
      return 'CONNECT_RESET';
    case 'ETLS':
      return 'STARTTLS_UNAVAILABLE';
    case 'EDNS':
      return 'DNS_NOT_FOUND';
    default:
      return 'PROTOCOL_ERROR';
  }
}
