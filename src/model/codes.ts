/**
 * The names of every code ecebot emits, and the `Code` type they make. This file imports nothing
 * so that every layer (probes, rules, cards, the lab) can share it; what each code means and what
 * to do about it is in ../knowledge/codes.ts (`CODE_TABLE`), which the compiler holds to exactly
 * these names.
 *
 * The names are keys of an interface so that a new item can declare its own codes where it is
 * declared (TypeScript declaration merging: `declare module '../model/codes' { interface Codes
 * { SPF_MISSING: true } }`); the code table then refuses to compile until each has an entry.
 */

/** Every code, in the order the code table lists them. */
export interface Codes {
  OK: true;
  DNS_NOT_FOUND: true;
  DNS_TIMEOUT: true;
  DNS_SERVER_FAILURE: true;
  CONNECT_REFUSED: true;
  CONNECT_TIMEOUT: true;
  CONNECT_RESET: true;
  TLS_CERT_INVALID: true;
  TLS_CERT_EXPIRED: true;
  TLS_HANDSHAKE_FAILED: true;
  STARTTLS_UNAVAILABLE: true;
  GREETING_TIMEOUT: true;
  TIMEOUT: true;
  PROTOCOL_ERROR: true;
  REPLY_TOO_LONG: true;
  HTTP_ERROR: true;
  // Network item: TLS versions, legacy endpoints, HTTP(S) proxies; external URL: enterprise CA.
  TLS_VERSION_REFUSED: true;
  TLS_LEGACY_ENDPOINT: true;
  PROXY_UNREACHABLE: true;
  PROXY_AUTH_REQUIRED: true;
  PROXY_REFUSED: true;
  ECE_EXTERNAL_URL_CA_UNKNOWN: true;
  AUTH_FAILED: true;
  AUTHENTICATED_NOT_CONNECTED: true;
  SMTP_AUTH_DISABLED: true;
  SMTP_BASIC_AUTH_DISABLED: true;
  SMTP_BLOCKED_BY_POLICY: true;
  SEND_AS_DENIED: true;
  TOKEN_EXPIRED_SESSION: true;
  XOAUTH2_NOT_OFFERED: true;
  SEND_REJECTED: true;
  // Mail replies read by reply code, enhanced status and response code (RFC 3463, RFC 5248,
  // RFC 5321 §4.2, RFC 5530, RFC 2449/3206): what is not a token verdict.
  MAIL_TLS_VERSION_REFUSED: true;
  MAIL_TLS_REQUIRED: true;
  MAIL_TEMPORARY: true;
  MAIL_SERVER_FAILURE: true;
  MAILBOX_IN_USE: true;
  MAILBOX_ACCESS_DENIED: true;
  MAIL_CONTACT_ADMIN: true;
  SMTP_AUTH_DISABLED_TENANT: true;
  SMTP_SECURITY_DEFAULTS: true;
  SMTP_NOT_AUTHENTICATED: true;
  AADSTS50011: true;
  AADSTS90002: true;
  AADSTS700016: true;
  AADSTS50194: true;
  AADSTS7000215: true;
  AADSTS7000222: true;
  AADSTS7000218: true;
  AADSTS700025: true;
  AADSTS700024: true;
  AADSTS700027: true;
  AADSTS50012: true;
  AADSTS65001: true;
  AADSTS90094: true;
  AADSTS90095: true;
  AADSTS65005: true;
  AADSTS650056: true;
  AADSTS650057: true;
  AADSTS650052: true;
  AADSTS500011: true;
  AADSTS70011: true;
  AADSTS28002: true;
  AADSTS700022: true;
  AADSTS54005: true;
  AADSTS70008: true;
  AADSTS700082: true;
  AADSTS50173: true;
  AADSTS70043: true;
  AADSTS50089: true;
  AADSTS50126: true;
  AADSTS50034: true;
  AADSTS50020: true;
  AADSTS50057: true;
  AADSTS50053: true;
  AADSTS50055: true;
  AADSTS50076: true;
  AADSTS50079: true;
  AADSTS50074: true;
  AADSTS53003: true;
  AADSTS530035: true;
  AADSTS53000: true;
  AADSTS53001: true;
  AADSTS50105: true;
  AADSTS81012: true;
  AADSTS50058: true;
  AADSTS9002313: true;
  AADSTS900144: true;
  AADSTS90014: true;
  AADSTS70016: true;
  AADSTS70000: true;
  AADSTS70003: true;
  AADSTS70019: true;
  AADSTS50059: true;
  AADSTS900561: true;
  AADSTS1002012: true;
  // Entra: codes seen in real mail-client reports (test/signatures/entra.json).
  AADSTS700084: true;
  AADSTS7000112: true;
  AADSTS50078: true;
  AADSTS900023: true;
  ENTRA_ERROR: true;
  ENTRA_UNREACHABLE: true;
  DEVICE_CODE_DECLINED: true;
  DEVICE_CODE_EXPIRED: true;
  GRAPH_FORBIDDEN: true;
  GRAPH_NO_PREMIUM: true;
  GRAPH_NOT_FOUND: true;
  GRAPH_UNEXPECTED_REPLY: true;
  GRAPH_THROTTLED: true;
  SIGN_IN_LOG_FORBIDDEN: true;
  EXO_UNAUTHORIZED: true;
  EXO_FORBIDDEN: true;
  EXO_THROTTLED: true;
  EXO_UNEXPECTED_REPLY: true;
  ECE_VERSION_UNSUPPORTED: true;
  ECE_ES_TOO_OLD: true;
  ECE_VERSION_UNKNOWN: true;
  ECE_ES_NOT_LATEST: true;
  ECE_EXTERNAL_URL_MISSING: true;
  ECE_EXTERNAL_URL_NOT_HTTPS: true;
  ECE_EXTERNAL_URL_NOT_FQDN: true;
  ECE_EXTERNAL_URL_ADMIN_MISMATCH: true;
  ECE_EXTERNAL_URL_UNREACHABLE: true;
  ECE_EXTERNAL_URL_CERT: true;
  ENTRA_APP_NOT_FOUND: true;
  ENTRA_REDIRECT_MISMATCH: true;
  ENTRA_SECRET_EXPIRED: true;
  ENTRA_SECRET_EXPIRING: true;
  ENTRA_PERMISSION_MISSING: true;
  ENTRA_CONSENT_MISSING: true;
  ENTRA_TOKEN_LIFETIME_SHORT: true;
  ECE_TOKEN_MISSING: true;
  ECE_TOKEN_WRONG_USER: true;
  ECE_TOKEN_WRONG_AUDIENCE: true;
  ECE_TOKEN_SCOPE_MISSING: true;
  ECE_SIGNS_IN_AS_OTHER_USER: true;
  ECE_NOT_SIGNING_IN: true;
  EXO_SMTP_AUTH_DISABLED: true;
  EXO_SMTP_AUTH_DISABLED_TENANT: true;
  EXO_IMAP_DISABLED: true;
  EXO_POP_DISABLED: true;
  EXO_LICENSE_MISSING: true;
  EXO_LICENSE_BELOW_E3: true;
  EXO_FULL_ACCESS_MISSING: true;
  EXO_SEND_AS_MISSING: true;
  NO_WORKER: true;
  CHECK_CRASHED: true;
  SLOW_RESPONSE: true;
  PROBE_UNAVAILABLE: true;
  DEVICE_CODE_CANCELLED: true;
  SIGNIN_TOKEN_EXPIRED: true;
  SIGNIN_APP_REFUSED: true;
}

/** A stable code: what rules match on, never message text. */
export type Code = keyof Codes & string;
