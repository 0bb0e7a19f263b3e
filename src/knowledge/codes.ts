/**
 * The one error-code registry. Probes put a code on every observation and step; checklist
 * rules match on codes, never on message text (the server's words travel beside the code as
 * evidence). Remediation per code lives in ./remediation.ts.
 *
 * Sources for the wire texts: o365-facts.md §1 (Exchange Online IMAP, POP3, SMTP) and §2.3
 * (AADSTS codes from Microsoft's reference-error-codes page).
 */
import type { ItemId } from '../checklist/types';

/** Meaning of one code and the checklist item it points to (null: transport-level, any item). */
export interface CodeInfo {
  meaning: string;
  item: ItemId | null;
}

const c = (meaning: string, item: ItemId | null): CodeInfo => ({ meaning, item });

/** Every code ecebot emits. Keys are the codes. */
export const CODES = {
  OK: c('Worked as expected.', null),

  // Transport (any probe).
  DNS_NOT_FOUND: c('The host name does not resolve (NXDOMAIN or no address).', 'network'),
  DNS_TIMEOUT: c('The DNS lookup did not answer within its deadline.', 'network'),
  DNS_SERVER_FAILURE: c(
    'The DNS server answered with a failure (SERVFAIL or REFUSED, RFC 1035 §4.1.1) instead of an address.',
    'network',
  ),
  CONNECT_REFUSED: c(
    'The TCP connection was refused (nothing listens, or a firewall rejects).',
    'network',
  ),
  CONNECT_TIMEOUT: c(
    'The TCP connection did not complete within its deadline (a firewall drops packets).',
    'network',
  ),
  CONNECT_RESET: c('The connection was reset by the peer or a middlebox.', 'network'),
  TLS_CERT_INVALID: c(
    'The server certificate is not trusted or does not name the host.',
    'network',
  ),
  TLS_CERT_EXPIRED: c('The server certificate has expired (or is not yet valid).', 'network'),
  TLS_HANDSHAKE_FAILED: c(
    'The TLS handshake failed (the peer does not speak TLS, or an interception device broke it).',
    'network',
  ),
  STARTTLS_UNAVAILABLE: c(
    'The SMTP server did not offer or accept STARTTLS (RFC 3207).',
    'network',
  ),
  GREETING_TIMEOUT: c(
    'The server accepted the connection but sent no greeting within its deadline.',
    'network',
  ),
  TIMEOUT: c('The server stopped answering within the step deadline.', 'network'),
  PROTOCOL_ERROR: c('The server answered something the protocol does not allow here.', null),
  REPLY_TOO_LONG: c(
    'The server sent a reply far longer than the protocol allows (an SMTP reply line is at most 512 octets, RFC 5321 §4.5.3.1.5); ecebot stopped reading it.',
    null,
  ),
  HTTP_ERROR: c('The HTTPS server answered with an error status.', null),

  // Mail protocol authentication (Exchange Online wire responses, o365-facts.md §1).
  AUTH_FAILED: c(
    'The server rejected the XOAUTH2 token (IMAP "NO AUTHENTICATE failed.", POP3 "-ERR Authentication failure", SMTP "535 5.7.3").',
    'connectivity',
  ),
  AUTHENTICATED_NOT_CONNECTED: c(
    'IMAP accepted the token but the token\'s user cannot open the mailbox named in user= ("BAD User is authenticated but not connected.").',
    'connectivity',
  ),
  SMTP_AUTH_DISABLED: c(
    'SMTP AUTH is disabled for the mailbox or the tenant ("535 5.7.139 … SmtpClientAuthentication is disabled").',
    'mailbox-protocols',
  ),
  SMTP_BASIC_AUTH_DISABLED: c(
    'The client sent a password; Exchange Online accepts only OAuth ("535 5.7.139 … basic authentication is disabled").',
    'connectivity',
  ),
  SMTP_BLOCKED_BY_POLICY: c(
    'Conditional Access or security defaults blocked SMTP AUTH ("535 5.7.139 … did not meet the criteria" / "security defaults policy").',
    'token',
  ),
  SEND_AS_DENIED: c(
    'The authenticated account may not send as this address ("554 5.2.252 SendAsDenied").',
    'mailbox-rights',
  ),
  TOKEN_EXPIRED_SESSION: c(
    'The access token expired during the session ("* BYE Session invalidated - AccessTokenExpired").',
    'token',
  ),
  XOAUTH2_NOT_OFFERED: c('The server does not advertise the XOAUTH2 mechanism.', 'connectivity'),
  SEND_REJECTED: c(
    'The SMTP server refused the test message at MAIL FROM, RCPT TO or DATA (4xx/5xx reply).',
    'connectivity',
  ),

  // Entra ID (AADSTS codes, o365-facts.md §2.3).
  AADSTS50011: c(
    'Redirect URI does not match the ones registered for the application.',
    'app-registration',
  ),
  AADSTS90002: c('Tenant not found.', 'app-registration'),
  AADSTS700016: c('Application not found in the directory.', 'app-registration'),
  AADSTS50194: c('Application is not multi-tenant; /common is not allowed.', 'app-registration'),
  AADSTS7000215: c(
    'Invalid client secret (often the secret ID pasted instead of its value).',
    'app-registration',
  ),
  AADSTS7000222: c('The client secret has expired.', 'app-registration'),
  AADSTS7000218: c(
    'The request must contain client_assertion or client_secret.',
    'app-registration',
  ),
  AADSTS700025: c('A public client must not send a secret.', 'app-registration'),
  AADSTS700024: c(
    'Client assertion is not within its valid time range (clock skew).',
    'app-registration',
  ),
  AADSTS65001: c('No user or admin consent for the application and scopes.', 'app-registration'),
  AADSTS90094: c('Admin consent is required.', 'app-registration'),
  AADSTS90095: c('Admin consent is required.', 'app-registration'),
  AADSTS65005: c(
    'The application is misconfigured: the resource is not among its required permissions.',
    'app-registration',
  ),
  AADSTS650056: c(
    'Misconfigured application: permissions to the resource are missing.',
    'app-registration',
  ),
  AADSTS650057: c(
    "Invalid resource: the resource is not in the application's required permissions.",
    'app-registration',
  ),
  AADSTS650052: c(
    'The organisation has not subscribed to the service (Exchange Online service principal missing).',
    'license',
  ),
  AADSTS500011: c(
    'The resource principal (Exchange Online) was not found in the tenant.',
    'license',
  ),
  AADSTS70011: c('Invalid scope.', 'token'),
  AADSTS28002: c('Invalid scope (more than one resource).', 'token'),
  AADSTS700022: c('Invalid scope (more than one resource).', 'token'),
  AADSTS54005: c('The authorization code was already redeemed.', 'token'),
  AADSTS70008: c('The authorization code or refresh token has expired or been revoked.', 'token'),
  AADSTS700082: c('The refresh token expired after 90 days of inactivity.', 'token'),
  AADSTS50173: c('The grant was revoked (password change or admin revoke).', 'token'),
  AADSTS70043: c(
    'The refresh token is invalid under a Conditional Access sign-in frequency policy.',
    'token',
  ),
  AADSTS50089: c('The sign-in flow token expired (the sign-in took too long).', 'token'),
  AADSTS50126: c('Invalid username or password.', 'token'),
  AADSTS50034: c('The user account does not exist in the directory.', 'token'),
  AADSTS50020: c(
    'The user from the identity provider does not exist in the tenant (guest or personal account).',
    'token',
  ),
  AADSTS50057: c('The user account is disabled.', 'token'),
  AADSTS50053: c('The account is locked, or sign-in came from a malicious IP.', 'token'),
  AADSTS50055: c('The password has expired.', 'token'),
  AADSTS50076: c('Multi-factor authentication is required.', 'token'),
  AADSTS50079: c('Multi-factor authentication enrolment is required.', 'token'),
  AADSTS50074: c('Multi-factor authentication was not passed.', 'token'),
  AADSTS53003: c('Blocked by Conditional Access.', 'token'),
  AADSTS530035: c('Blocked by security defaults.', 'token'),
  AADSTS53000: c('The device is not compliant (Conditional Access).', 'token'),
  AADSTS53001: c('The device is not domain joined (Conditional Access).', 'token'),
  AADSTS50105: c('The user is not assigned to the application (assignment required).', 'token'),
  AADSTS81012: c(
    'The user signing in is not the user signed in to the device (Seamless SSO / Kerberos).',
    'token',
  ),
  AADSTS50058: c('Session information is not sufficient for single sign-on.', 'token'),
  AADSTS9002313: c('Malformed request.', null),
  AADSTS900144: c('A required parameter is missing.', null),
  AADSTS90014: c('A required field is missing from the request.', null),
  AADSTS70016: c('Device-code sign-in is still pending.', 'token'),
  ENTRA_ERROR: c(
    'Entra ID refused the request with an error ecebot has no specific entry for.',
    null,
  ),
  ENTRA_UNREACHABLE: c(
    'Entra ID could not be reached (network or TLS failure before any answer).',
    'network',
  ),
  DEVICE_CODE_DECLINED: c('The person signing in declined the device-code sign-in.', 'token'),
  DEVICE_CODE_EXPIRED: c('The device code expired before anyone signed in.', 'token'),

  // Graph and the Exchange admin API.
  GRAPH_FORBIDDEN: c("Graph refused the read: ecebot's own app lacks the permission.", null),
  GRAPH_NO_PREMIUM: c(
    'The tenant has no Entra ID P1/P2 licence, so sign-in logs cannot be read.',
    null,
  ),
  GRAPH_NOT_FOUND: c('Graph has no such object.', null),
  GRAPH_UNEXPECTED_REPLY: c(
    'Graph answered 200 with a reply ecebot does not understand (not JSON, or a field of another type than Microsoft documents); its shape is in the evidence.',
    null,
  ),
  EXO_UNAUTHORIZED: c(
    "The Exchange admin API refused ecebot's token (Exchange.ManageAsApp missing).",
    null,
  ),
  EXO_FORBIDDEN: c(
    'The Exchange admin API refused the cmdlet (no Exchange or Global Reader role).',
    null,
  ),
  EXO_THROTTLED: c('The Exchange admin API throttled the request.', null),
  EXO_UNEXPECTED_REPLY: c(
    'The Exchange admin API answered 200 with rows ecebot does not understand (not JSON, no `value` rows, or a property of another type); their shape is in the evidence.',
    null,
  ),

  // Checklist-level findings.
  ECE_VERSION_UNSUPPORTED: c('The ECE release predates OAuth support for Office 365.', 'version'),
  ECE_ES_TOO_OLD: c(
    'The Engineering Special installed is below the OAuth minimum for this release.',
    'version',
  ),
  ECE_VERSION_UNKNOWN: c('The ECE release is not one ecebot knows.', 'version'),
  ECE_ES_NOT_LATEST: c(
    'The release meets the minimum, but Cisco recommends the newest Engineering Special.',
    'version',
  ),
  ECE_EXTERNAL_URL_MISSING: c('"External URL of the application" is not set.', 'external-url'),
  ECE_EXTERNAL_URL_NOT_HTTPS: c('The external URL does not use https.', 'external-url'),
  ECE_EXTERNAL_URL_NOT_FQDN: c(
    'The external URL is not a fully qualified domain name.',
    'external-url',
  ),
  ECE_EXTERNAL_URL_ADMIN_MISMATCH: c(
    "The external URL's host differs from the one admins log in with.",
    'external-url',
  ),
  ECE_EXTERNAL_URL_UNREACHABLE: c(
    'The external URL cannot be opened from an ECE server.',
    'external-url',
  ),
  ECE_EXTERNAL_URL_CERT: c("The external URL's certificate is not valid.", 'external-url'),
  ENTRA_APP_NOT_FOUND: c('The ECE application registration was not found.', 'app-registration'),
  ENTRA_REDIRECT_MISMATCH: c(
    "No redirect URI of the application is on the ECE external URL's host.",
    'app-registration',
  ),
  ENTRA_SECRET_EXPIRED: c(
    'Every client secret and certificate of the application has expired.',
    'app-registration',
  ),
  ENTRA_SECRET_EXPIRING: c("The application's credential expires soon.", 'app-registration'),
  ENTRA_PERMISSION_MISSING: c(
    'A delegated permission (IMAP, POP, SMTP, offline_access) is not configured.',
    'app-registration',
  ),
  ENTRA_CONSENT_MISSING: c('The delegated permissions are not consented.', 'app-registration'),
  ENTRA_TOKEN_LIFETIME_SHORT: c('Access tokens last less than 60 minutes.', 'app-registration'),
  ECE_TOKEN_MISSING: c(
    'No token for this mailbox was given to ecebot (sign in, or configure refreshToken).',
    'token',
  ),
  ECE_TOKEN_WRONG_USER: c(
    'The token was issued to a different user than the mailbox (or its shared account).',
    'token',
  ),
  ECE_TOKEN_WRONG_AUDIENCE: c(
    'The token is not for Exchange Online (e.g. a Graph token).',
    'token',
  ),
  ECE_TOKEN_SCOPE_MISSING: c(
    'The token lacks the scope for the protocol the mailbox uses.',
    'token',
  ),
  EXO_SMTP_AUTH_DISABLED: c('Authenticated SMTP is disabled for the mailbox.', 'mailbox-protocols'),
  EXO_SMTP_AUTH_DISABLED_TENANT: c(
    'Authenticated SMTP is disabled for the tenant and the mailbox does not override it.',
    'mailbox-protocols',
  ),
  EXO_IMAP_DISABLED: c('IMAP is disabled for the mailbox.', 'mailbox-protocols'),
  EXO_POP_DISABLED: c('POP3 is disabled for the mailbox.', 'mailbox-protocols'),
  EXO_LICENSE_MISSING: c('The mailbox user has no Exchange Online plan.', 'license'),
  EXO_LICENSE_BELOW_E3: c(
    'The mailbox has Exchange Online Plan 1 only; Cisco asks for E3 or above.',
    'license',
  ),
  EXO_FULL_ACCESS_MISSING: c(
    'The shared account lacks Full Access to the mailbox.',
    'mailbox-rights',
  ),
  NO_WORKER: c('No worker served this vantage point in time.', null),
  CHECK_CRASHED: c('The check itself failed (a bug or an unexpected answer).', null),
  SLOW_RESPONSE: c(
    "A mail protocol step took longer than the environment's slow threshold (budget.slowMs).",
    'connectivity',
  ),
  PROBE_UNAVAILABLE: c(
    "ecebot's own Graph/Exchange read credentials (inventory `probe`) are not configured or were refused, so tenant settings could not be read.",
    null,
  ),
  DEVICE_CODE_CANCELLED: c(
    'ecebot stopped waiting for a device-code sign-in because it was cancelled (not an Entra answer).',
    null,
  ),
} as const satisfies Record<string, CodeInfo>;

/** A stable code. */
export type Code = keyof typeof CODES;

/** Whether a string is a known code (for reading codes back from JSON). */
export function isCode(value: string): value is Code {
  return Object.prototype.hasOwnProperty.call(CODES, value);
}

/** The registry code for an AADSTS number, or ENTRA_ERROR when ecebot has no entry for it. */
export function aadstsCode(n: number): Code {
  const key = `AADSTS${n}`;
  return isCode(key) ? key : 'ENTRA_ERROR';
}
