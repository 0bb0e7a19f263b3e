/**
 * Observations: what a probe saw, with timings and the server's own words. Never a verdict:
 * the checklist rules (src/checklist) judge them. Every field here is safe to show a person:
 * probes redact secrets before they build an observation.
 */
import type { Code } from '../knowledge/codes';
import type { ReadName } from '../model/items';

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
  /** Which credentials: `ece-app` (the ECE app registration), `probe-app` (ecebot's own), or a mailbox. */
  purpose: 'ece-app' | 'probe-app' | 'mailbox';
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

export interface GraphObservation extends ObservationBase {
  kind: 'graph';
  /** Which read: application, servicePrincipal, grants, exchangeServicePrincipal, licenseDetails, signIns. */
  resource:
    | 'application'
    | 'servicePrincipal'
    | 'grants'
    | 'resourceServicePrincipal'
    | 'licenseDetails'
    | 'signIns';
  status?: number;
  /** The JSON body (or the relevant part) Graph returned; never contains secrets. */
  data?: unknown;
}

export interface ExoObservation extends ObservationBase {
  kind: 'exo';
  cmdlet: 'Get-CASMailbox' | 'Get-MailboxPermission' | 'Get-TransportConfig';
  identity?: string;
  status?: number;
  /** The `value` array InvokeCommand returned. */
  data?: Record<string, unknown>[];
}

export type Observation =
  | DnsObservation
  | TcpObservation
  | TlsObservation
  | HttpsObservation
  | MailObservation
  | EntraTokenObservation
  | GraphObservation
  | ExoObservation;
