/**
 * Observations: what a probe saw, with timings and the server's own words. Never a verdict:
 * the checklist rules (src/checklist) judge them. Every field here is safe to show a person:
 * probes redact secrets before they build an observation.
 */
import type { Code } from './codes';
import type { ReadName } from './items';

/** A vantage point: the inventory name of an ECE server, or `central` for tenant reads. */
export type Vantage = string;

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
  protocol?: string;
  cipher?: string;
  cert?: CertFacts;
}

export interface HttpsObservation extends ObservationBase {
  kind: 'https';
  url: string;
  status?: number;
  /** Final URL after redirects, if any were followed. */
  location?: string;
  cert?: CertFacts;
}

/** IMAP, POP3 or SMTP login conversation with XOAUTH2. */
export interface MailObservation extends ObservationBase {
  kind: 'imap' | 'pop3' | 'smtp';
  host: string;
  port: number;
  /** The SASL `user=` value (the mailbox). */
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

/** One sign-in to the ECE app (Graph `signIn`, §3.4). */
export interface GraphSignIn {
  createdDateTime: string;
  userPrincipalName?: string | null;
  appId?: string | null;
  /** `errorCode` is the AADSTS number, 0 for success. */
  status?: { errorCode: number; failureReason?: string | null } | null;
}

/** What each Graph read yields once its reply is understood. */
export interface GraphFacts {
  application: GraphApplication;
  servicePrincipal: GraphServicePrincipal;
  resourceServicePrincipal: GraphResourceServicePrincipal;
  grants: GraphPermissionGrant[];
  licenseDetails: GraphLicenseDetail[];
  signIns: GraphSignIn[];
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

/** The Get-TransportConfig row: the organisation-wide SMTP AUTH switch (§3.5). */
export interface TransportConfigRow {
  SmtpClientAuthenticationDisabled?: boolean | null;
}

/** The rows each cmdlet yields once its reply is understood. */
export interface ExoFacts {
  'Get-CASMailbox': CasMailboxRow[];
  'Get-MailboxPermission': MailboxPermissionRow[];
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
