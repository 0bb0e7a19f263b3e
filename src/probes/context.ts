/**
 * What every probe gets: where it runs from, its deadlines, which CAs to trust and how to
 * resolve names. ecebot owns every timeout: the library defaults (imapflow 90 s connect,
 * nodemailer 2 min) are far above the Teams reply budget (anchors.md B), so each phase gets
 * its own deadline from the run budget.
 */
import type { Agent } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { Redactor } from '../util/redact';
import type { Vantage } from '../model';

/** Per-phase deadlines in milliseconds. */
export interface Deadlines {
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
  greetingMs: number;
  /** One command/response exchange (EHLO, AUTHENTICATE, LIST, an HTTP request…). */
  commandMs: number;
  /** The whole probe, whatever its steps. */
  totalMs: number;
}

/** Defaults sized so a full run answers well inside Teams' 15 s budget (anchors.md B). */
export const DEFAULT_DEADLINES: Deadlines = {
  dnsMs: 2000,
  connectMs: 3000,
  tlsMs: 3000,
  greetingMs: 3000,
  commandMs: 4000,
  totalMs: 10000,
};

/** A host and port to talk to. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * The HTTP proxy HTTPS requests go through (an HTTP CONNECT tunnel, RFC 9110 §9.3.6), from the
 * inventory's `endpoints.proxy` or the HTTPS_PROXY/NO_PROXY environment (src/probes/proxy.ts).
 * Mail ports (587/993/995) never use it: an HTTP proxy carries HTTPS only.
 */
export interface ProxyConfig {
  /** `http://host:port`, without credentials: what evidence shows. */
  origin: string;
  host: string;
  port: number;
  /** Basic credentials (RFC 7617) for Proxy-Authorization; secrets, never shown. */
  credentials?: { user: string; password: string };
  /** NO_PROXY entries: hosts (and their subdomains) reached directly. */
  noProxy: string[];
  /** Where the setting came from, for evidence. */
  source: 'inventory' | 'environment';
}

/** Context shared by all probes of one vantage point in one run. */
export interface ProbeContext {
  vantage: Vantage;
  deadlines: Deadlines;
  /** Extra CA certificates (PEM) trusted for these connections only, added to Node's defaults. */
  ca?: string;
  /**
   * Static name → address map, like a hosts file or curl's --resolve. The lab uses it to send
   * the real Microsoft host names to 127.0.0.1, so certificates are checked against real names.
   */
  hosts: Record<string, string>;
  /**
   * DNS servers to ask instead of the system resolver (`ip` or `ip:port`), e.g. the customer's
   * internal DNS as the ECE server sees it. Unset: the operating system's resolver (getaddrinfo).
   */
  dnsServers?: string[];
  redactor: Redactor;
  /** HTTP proxy for HTTPS (login, Graph, Exchange admin API, the ECE external URL). */
  proxy?: ProxyConfig;
  /**
   * Keep-alive HTTPS agent for the Entra, Graph and Exchange admin requests of one vantage
   * point's part of a run (runner/observe.ts makes one per part and destroys it at the end).
   * msal's discovery GET and token POST then share one connection, as do reads that follow
   * each other: one TLS handshake and round trip fewer each. Without it every request opens
   * its own connection. The TLS, HTTPS and mail probes never use it: they observe their own
   * connection, certificate included.
   */
  agent?: Agent;
}

/**
 * The `ca` option for a TLS connection: Node's bundled roots plus the context's extra CA.
 * (Node's `ca` replaces the defaults, so they are added back explicitly.)
 */
function caOption(ctx: ProbeContext): { ca?: string[] } {
  return ctx.ca ? { ca: [...rootCertificates, ctx.ca] } : {};
}

/** Secure contexts already built, per extra CA (a handful per process: one per inventory CA). */
const TRUST_CONTEXTS = new Map<string, SecureContext>();
const MAX_TRUST_CONTEXTS = 16;

/**
 * The trust for a TLS connection of `ctx`: Node's roots plus the context's extra CA
 * (caOption), as a secure context built once per CA and reused. Building it parses Node's
 * ~140 root certificates, about 40 ms of blocked event loop per connection, which under many
 * parallel probes showed up as slow steps; verification itself is unchanged.
 */
export function trustOptions(ctx: ProbeContext): { secureContext?: SecureContext } {
  if (!ctx.ca) return {};
  let secureContext = TRUST_CONTEXTS.get(ctx.ca);
  if (!secureContext) {
    secureContext = createSecureContext(caOption(ctx));
    if (TRUST_CONTEXTS.size >= MAX_TRUST_CONTEXTS) {
      TRUST_CONTEXTS.delete(TRUST_CONTEXTS.keys().next().value!);
    }
    TRUST_CONTEXTS.set(ctx.ca, secureContext);
  }
  return { secureContext };
}
