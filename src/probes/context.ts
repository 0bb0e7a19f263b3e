/**
 * What every probe gets: where it runs from, its deadlines, which CAs to trust and how to
 * resolve names. ecebot owns every timeout: the library defaults (imapflow 90 s connect,
 * nodemailer 2 min) are far above the Teams reply budget (anchors.md B), so each phase gets
 * its own deadline from the run budget.
 */
import { rootCertificates } from 'node:tls';
import type { Redactor } from '../util/redact';
import type { Vantage } from './types';

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
}

/**
 * The `ca` option for a TLS connection: Node's bundled roots plus the context's extra CA.
 * (Node's `ca` replaces the defaults, so they are added back explicitly.)
 */
export function caOption(ctx: ProbeContext): { ca?: string[] } {
  return ctx.ca ? { ca: [...rootCertificates, ctx.ca] } : {};
}
