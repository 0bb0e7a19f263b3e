/**
 * Observations: what a probe saw, with timings and the server's own words. Never a verdict:
 * the checklist rules (src/checklist) judge them. Every field here is safe to show a person:
 * probes redact secrets before they build an observation.
 */
import type { Code } from './codes';
import type { ReadName } from './items';

/** A vantage point: the inventory name of an ECE server, or `central` for tenant reads. */
export type Vantage = string;

/**
 * The User-Agent of every HTTPS request ecebot makes to Entra, Graph and Exchange. Entra's sign-in
 * log records it with each sign-in, which is how ecebot's own token redemptions (made with ECE's
 * client id when it tests ECE's refresh token) are told apart from ECE's in that log.
 */
export const ECEBOT_USER_AGENT = 'ecebot (ECE OAuth2 troubleshooting)';

/** The vantage used for Entra, Graph and Exchange admin reads, which need no ECE server. */
export const CENTRAL: Vantage = 'central';

/** One protocol step (connect, greeting, STARTTLS, AUTHENTICATE…), timed, with the wire text. */
export interface Step {
  /** Short step name, e.g. `connect`, `greeting`, `starttls`, `authenticate`, `list`. */
  name: string;
  /** Whether the step achieved what it was for. */
  ok: boolean;
  /** Milliseconds since the probe started when the step started. */
  atMs: number;
  /** How long the step took in milliseconds. */
  durationMs: number;
  /** What we sent, redacted (`AUTHENTICATE XOAUTH2 <redacted 1234 bytes>`). */
  sent?: string;
  /** What the server answered, line by line, as received (secrets redacted). */
  received?: string[];
  /** The stable code when the step failed. */
  code?: Code;
  /** A one-line note for a person (`certificate valid until 2027-01-01`). */
  note?: string;
}

/** Facts about one certificate as presented by a server. */
export interface CertFacts {
  subject: string;
  issuer: string;
  /** DNS names and IP addresses from subjectAltName. */
  altNames: string[];
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  /** Whether Node's verification (chain and name) accepted it. */
  trusted: boolean;
  /** Node's verification error code when not trusted, e.g. `CERT_HAS_EXPIRED`. */
  verifyError?: string;
}

/** Fields every observation carries. */
export interface ObservationBase {
  /** Which probe made it. */
  kind: ObservationKind;
  /** Where it was observed from. */
  vantage: Vantage;
  /** What it talked to, e.g. `outlook.office365.com:993` or a mailbox address. */
  target: string;
  /** For per-mailbox observations, the mailbox address. */
  mailbox?: string;
  /**
   * The read that made it (set by the runner): rules are given only the observations of the
   * reads their item declares (src/checklist/item.ts).
   */
  read?: ReadName;
  /** Whether the conversation achieved its purpose. */
  ok: boolean;
  /** `OK` or the stable code of the first failure. */
  code: Code;
  /** The server's own words for the outcome (last relevant response line), redacted. */
  server?: string;
  /** Which step the outcome belongs to (`connect`, `tls`, `authenticate`…). */
  stage: string;
  startedAt: string;
  durationMs: number;
  steps: Step[];
}

export type ObservationKind =
  'dns' | 'tcp' | 'tls' | 'https' | 'imap' | 'pop3' | 'smtp' | 'entra-token' | 'graph' | 'exo';

export interface DnsObservation extends ObservationBase {
  kind: 'dns';
  host: string;
  addresses: string[];
  /** `inventory` when the address came from the inventory's `hosts` map, `literal` for IPs. */
  source: 'dns' | 'inventory' | 'literal';
}

export interface TcpObservation extends ObservationBase {
  kind: 'tcp';
  host: string;
  address?: string;
  port: number;
}

export interface TlsObservation extends ObservationBase {
  kind: 'tls';
  host: string;
  port: number;
  /** SMTP submission upgrades with STARTTLS (RFC 3207); IMAP/POP3/HTTPS use implicit TLS. */
  starttls: boolean;
  /** The negotiated TLS version (`TLSv1.3`), as Node's getProtocol() names it. */
  protocol?: string;
  /** The negotiated cipher suite, IANA name (getCipher().standardName). */
  cipher?: string;
  cert?: CertFacts;
  /** The HTTP proxy the connection was tunnelled through (`http://host:port`, no credentials). */
  proxy?: string;
  /** The Microsoft 365 service this connection stands for (its port is the service's). */
  service?: 'https' | 'smtp' | 'imap' | 'pop3';
}

export interface HttpsObservation extends ObservationBase {
  kind: 'https';
  url: string;
  status?: number;
  /** Final URL after redirects, if any were followed. */
  location?: string;
  cert?: CertFacts;
  /** The HTTP proxy the connection was tunnelled through (`http://host:port`, no credentials). */
  proxy?: string;
}

/** IMAP, POP3 or SMTP login conversation with XOAUTH2. */
export interface MailObservation extends ObservationBase {
  kind: 'imap' | 'pop3' | 'smtp';
  host: string;
  port: number;
  /**
   * The SASL `user=` value. IMAP and POP3: the mailbox opened (a shared mailbox's own address
   * when the account's token opens it). SMTP: the signed-in account itself, which is all
   * Exchange Online accepts there (o365-facts.md §1.5); `mailbox` is then the address it sends as.
   */
  user: string;
  /** Capabilities the server advertised (after TLS for SMTP). */
  capabilities?: string[];
  /** IMAP: folders listed; POP3: messages in STAT; SMTP: whether a test message was accepted. */
  mailboxFacts?: { folders?: number; messages?: number; sent?: boolean };
  /** XOAUTH2 error challenge decoded from base64 JSON, when the server sent one. */
  oauthError?: Record<string, unknown>;
}

/** Decoded access-token claims we judge on (no signature check: we are the client). */
export interface TokenClaims {
  aud?: string;
  iss?: string;
  scp?: string;
  roles?: string[];
  upn?: string;
  unique_name?: string;
  preferred_username?: string;
  oid?: string;
  tid?: string;
  appid?: string;
  azp?: string;
  amr?: string[];
  idtyp?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
  ver?: string;
}

export interface EntraTokenObservation extends ObservationBase {
  kind: 'entra-token';
  flow: 'client-credentials' | 'refresh-token' | 'device-code';
  /**
   * Which credentials: `ece-app` (the ECE app registration), `probe-app` (ecebot's own read app),
   * `mailbox` (a mailbox's grant to ECE's app: ECE's own token, copied into the inventory), or
   * `signin` (a mailbox's grant to ecebot's own public-client sign-in app, from `signin ENV
   * MAILBOX`: ecebot's test token, never ECE's).
   */
  purpose: 'ece-app' | 'probe-app' | 'mailbox' | 'signin';
  clientId: string;
  scopes: string[];
  /** AADSTS number when Entra returned one. */
  aadsts?: number;
  /** The OAuth `error` string (`invalid_grant`…). */
  oauthError?: string;
  claims?: TokenClaims;
  /** `exp - iat` in minutes, when known. */
  lifetimeMinutes?: number;
}

/**
 * Why a Graph or Exchange admin reply was not understood: what did not fit the schema and the
 * outline of what came instead. Never a value from the reply: paths, expected types and key
 * names only, so it can be shown and reported as it is.
 */
export interface UnexpectedReply {
  /** One line per schema issue: `value[0].passwordCredentials[0].endDateTime: expected string, got number`. */
  issues: string[];
  /** Keys and JSON types of the reply, without values (`{ value: [ { endDateTime: number } ] }`). */
  shape: string;
}

/** A client secret (passwordCredential) or certificate (keyCredential) of an app registration. */
export interface GraphCredential {
  displayName?: string | null;
  keyId?: string | null;
  /** ISO 8601 with a zone (Graph writes UTC, `2014-01-01T00:00:00Z`). */
  startDateTime?: string | null;
  /** ISO 8601 with a zone; absent or null when Graph gives no end. */
  endDateTime?: string | null;
}

/** Redirect URIs of one platform (web, spa, publicClient) of an app registration. */
export interface GraphRedirects {
  redirectUris?: string[];
}

/** The app registration fields ecebot judges (Graph `application`, o365-facts.md §3.1). */
export interface GraphApplication {
  id?: string;
  appId?: string;
  web?: GraphRedirects | null;
  spa?: GraphRedirects | null;
  publicClient?: GraphRedirects | null;
  passwordCredentials?: GraphCredential[];
  keyCredentials?: GraphCredential[];
  requiredResourceAccess?: {
    resourceAppId: string;
    resourceAccess: { id: string; type: string }[];
  }[];
}

/** The ECE app's service principal: its object id is what consent grants name (§3.2). */
export interface GraphServicePrincipal {
  id: string;
  appId?: string;
}

/** A resource's service principal (Exchange Online, Graph) with its delegated permissions. */
export interface GraphResourceServicePrincipal {
  appId?: string;
  oauth2PermissionScopes?: { id: string; value?: string | null }[];
}

/** One delegated consent grant (Graph `oAuth2PermissionGrant`, §3.2). */
export interface GraphPermissionGrant {
  /** `AllPrincipals` (admin consent) or `Principal` (one user's own consent). */
  consentType: string;
  /** Space-separated scope names. */
  scope?: string | null;
  principalId?: string | null;
}

/** One assigned licence with its service plans (Graph `licenseDetails`, §3.3). */
export interface GraphLicenseDetail {
  skuId?: string | null;
  skuPartNumber?: string | null;
  servicePlans: {
    servicePlanId?: string | null;
    servicePlanName?: string | null;
    provisioningStatus?: string | null;
  }[];
}

/**
 * One sign-in to the ECE app (Graph beta `signIn`, o365-facts.md §3.4). The beta resource is
 * read because only it lists non-interactive user sign-ins (ECE's refresh-token redemptions);
 * field names and types follow learn.microsoft.com/graph/api/resources/signin?view=graph-rest-beta.
 */
export interface GraphSignIn {
  createdDateTime: string;
  userPrincipalName?: string | null;
  appId?: string | null;
  /** `errorCode` is the AADSTS number, 0 for success. */
  status?: { errorCode: number; failureReason?: string | null } | null;
  /** Whether a person was at a prompt (true) or a client redeemed a token (false). */
  isInteractive?: boolean | null;
  /** `interactiveUser`, `nonInteractiveUser`, `servicePrincipal`, `managedIdentity`, … */
  signInEventTypes?: string[] | null;
  /** The client's address as Entra saw it (IPv4 or IPv6). */
  ipAddress?: string | null;
  /** The client's User-Agent as Entra recorded it (beta signIn `userAgent`). */
  userAgent?: string | null;
  /** The steps that authenticated the sign-in (`authenticationMethod`: "Password", …). */
  authenticationDetails?:
    { authenticationMethod?: string | null; succeeded?: boolean | null }[] | null;
}

/** How far a sign-in log read reached (the read is bounded by a window and a page cap). */
export interface SignInLogWindow {
  /** The oldest time asked for (`createdDateTime ge`), ISO 8601. */
  since: string;
  /** Pages read (each one request, newest first). */
  pages: number;
  /**
   * Why the read stopped before the log's end: `pages` (the page cap) or `throttled` (Graph
   * answered 429 for a later page). The rows then reach back only to the oldest one read.
   */
  truncated?: 'pages' | 'throttled';
}

/**
 * One of ECE's sign-ins as the token rule reads it (src/checklist/ece-sign-ins.ts): who, when,
 * how, from where, and Entra's answer.
 */
export interface EceSignIn {
  at: string;
  /** The user ECE's token is for (the log's userPrincipalName). */
  user: string;
  /** A person at a prompt (token generation) rather than ECE redeeming its refresh token. */
  interactive: boolean;
  /** 0 for success, else the AADSTS number. */
  errorCode: number;
  failureReason?: string;
  ipAddress?: string;
  /** The ECE server with that address (inventory `servers[].addresses`), when one has it. */
  server?: string;
  /** The first authentication method the log names, when it names one. */
  method?: string;
}

/** What the sign-in log shows of ECE for one token account (a mailbox, or the shared account). */
export interface EceAccountSignIns {
  /** The account ECE's token for these mailboxes should be issued to. */
  account: string;
  /** The mailboxes whose token is this account's. */
  mailboxes: string[];
  /** ECE's newest successful non-interactive sign-in (a refresh-token redemption). */
  lastSuccess?: EceSignIn;
  /** ECE's failed sign-ins as this account, newest first. */
  failures: EceSignIn[];
}

/**
 * A directory user as Graph's user resource names it: every name Exchange and Entra know the
 * person by, so a token's `upn` can be matched to a mailbox address whatever the spelling
 * (userPrincipalName need not equal the primary SMTP address; proxyAddresses holds
 * `SMTP:primary` and `smtp:alias` entries).
 */
export interface GraphDirectoryUser {
  id?: string | null;
  userPrincipalName?: string | null;
  mail?: string | null;
  proxyAddresses?: string[];
}

/** What each Graph read yields once its reply is understood. */
export interface GraphFacts {
  application: GraphApplication;
  servicePrincipal: GraphServicePrincipal;
  resourceServicePrincipal: GraphResourceServicePrincipal;
  grants: GraphPermissionGrant[];
  licenseDetails: GraphLicenseDetail[];
  signIns: GraphSignIn[];
  /** The directory users found for one address (by UPN or any SMTP proxy address). */
  directoryUsers: GraphDirectoryUser[];
}

/** Which Graph read an observation is of. */
export type GraphResource = keyof GraphFacts;

/** One Graph read, with the facts of its own resource. */
export interface GraphReadObservation<R extends GraphResource> extends ObservationBase {
  kind: 'graph';
  /**
   * The read. Absent only on a read the runner's guard turned into `CHECK_CRASHED` before the
   * probe could say which it was (its `target` names the read then).
   */
  resource?: R;
  status?: number;
  /** The facts read, parsed at the probe; only when `ok`. Never contains secrets. */
  data?: GraphFacts[R];
  /** Why a 200 reply was not understood (code `GRAPH_UNEXPECTED_REPLY`). */
  unexpected?: UnexpectedReply;
  /** Sign-in log reads only: the window and pages read. */
  window?: SignInLogWindow;
}

/** A Graph read: application, service principals, grants, licenses or sign-ins. */
export type GraphObservation = { [R in GraphResource]: GraphReadObservation<R> }[GraphResource];

/** A Get-CASMailbox row: the protocol switches (o365-facts.md §3.5). */
export interface CasMailboxRow {
  ImapEnabled?: boolean;
  PopEnabled?: boolean;
  /** true disables, false enables, null follows Get-TransportConfig. */
  SmtpClientAuthenticationDisabled?: boolean | null;
}

/** A Get-MailboxPermission row (§3.5). */
export interface MailboxPermissionRow {
  /** The trustee: a UPN, an alias or `NT AUTHORITY\SELF`. */
  User: string;
  /** One right per element (`FullAccess`, `ReadPermission`), whichever way Exchange listed them. */
  AccessRights: string[];
  Deny?: boolean;
}

/**
 * A Get-RecipientPermission row: who may send as the recipient (Exchange Online only). Fields
 * as Exchange serialises them: Identity, Trustee, AccessControlType (Allow/Deny), AccessRights
 * (SendAs), IsInherited, InheritanceType (learn.microsoft.com Get-RecipientPermission; the
 * field list as a REST model lists it, documentation.voss-solutions.com RecipientPermission).
 */
export interface RecipientPermissionRow {
  /** The trustee: a UPN, an alias or `NT AUTHORITY\SELF`. */
  Trustee: string;
  /** One right per element (`SendAs`). */
  AccessRights: string[];
  /** `Allow` or `Deny`. */
  AccessControlType?: string;
}

/** The Get-TransportConfig row: the organisation-wide SMTP AUTH switch (§3.5). */
export interface TransportConfigRow {
  SmtpClientAuthenticationDisabled?: boolean | null;
}

/** The rows each cmdlet yields once its reply is understood. */
export interface ExoFacts {
  'Get-CASMailbox': CasMailboxRow[];
  'Get-MailboxPermission': MailboxPermissionRow[];
  'Get-RecipientPermission': RecipientPermissionRow[];
  'Get-TransportConfig': TransportConfigRow[];
}

/** Which cmdlet an observation is of. */
export type ExoCmdletName = keyof ExoFacts;

/** One Exchange admin cmdlet run, with the rows of its own cmdlet. */
export interface ExoReadObservation<C extends ExoCmdletName> extends ObservationBase {
  kind: 'exo';
  /** The cmdlet. Absent only on a read the runner's guard turned into `CHECK_CRASHED`. */
  cmdlet?: C;
  identity?: string;
  status?: number;
  /** The rows InvokeCommand returned, parsed at the probe; only when `ok`. */
  data?: ExoFacts[C];
  /** Why a 200 reply was not understood (code `EXO_UNEXPECTED_REPLY`). */
  unexpected?: UnexpectedReply;
}

/** An Exchange admin read: Get-CASMailbox, Get-MailboxPermission or Get-TransportConfig. */
export type ExoObservation = { [C in ExoCmdletName]: ExoReadObservation<C> }[ExoCmdletName];

export type Observation =
  | DnsObservation
  | TcpObservation
  | TlsObservation
  | HttpsObservation
  | MailObservation
  | EntraTokenObservation
  | GraphObservation
  | ExoObservation;
