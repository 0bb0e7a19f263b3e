/**
 * Network faults per (vantage, endpoint). A vantage point is the ECE server a probe runs for;
 * the lab gives each faulty pair its own port, and the inventory it writes points that
 * server's endpoint there (servers[].endpoints), so the same probe code sees a different
 * network from services-1 than from app-1, as a firewall between them would make it.
 */

/** The endpoint names `--fault` accepts (LAB_HOSTS in index.ts maps each to its host). */
const ENDPOINTS = ['login', 'graph', 'exo', 'imap', 'pop3', 'smtp', 'ece'] as const;

/** The lab endpoints a fault can apply to. */
export type LabEndpoint = (typeof ENDPOINTS)[number];

/** The fault kinds `--fault` accepts, in the order its error message lists them (see FaultKind). */
const KINDS = [
  'refuse',
  'blackhole',
  'slow',
  'wrong-cert',
  'expired-cert',
  'trickle',
  'garbage',
  'huge-list',
  'huge-greeting',
] as const;

/**
 * - `refuse`: nothing listens (ECONNREFUSED), like a firewall that rejects;
 * - `blackhole`: accepts the connection and never says a byte;
 * - `slow`: relays to the real service, delaying every chunk from the server by `delayMs`;
 * - `wrong-cert`: TLS with a certificate for another name (then relays);
 * - `expired-cert`: TLS with an expired certificate (then relays);
 * - `trickle`: relays to the real service, passing the server's bytes on one at a time, one
 *   per `delayMs` (a second by default), so an idle timeout never fires;
 * - `garbage`: answers random bytes that are not TLS (nor any mail protocol) as soon as a
 *   client connects and whenever it sends;
 * - `huge-list` (imap only): relays to the real IMAP service and answers every LIST with
 *   100,000 extra `* LIST` lines first (hostile-servers.ts);
 * - `huge-greeting` (smtp only): a 220 greeting line of 10 MB (hostile-servers.ts).
 */
export type FaultKind = (typeof KINDS)[number];

export interface Fault {
  vantage: string;
  endpoint: LabEndpoint;
  kind: FaultKind;
  /** For `slow`: delay per server chunk; for `trickle`: delay per byte. */
  delayMs?: number;
}

/** Kinds that speak one protocol, and so fit one endpoint only. */
const ONLY_ON: Partial<Record<FaultKind, LabEndpoint>> = {
  'huge-list': 'imap',
  'huge-greeting': 'smtp',
};

/** Kinds that take a delay. */
const DELAYED: readonly FaultKind[] = ['slow', 'trickle'];

/**
 * Parse `VANTAGE:ENDPOINT:KIND[:DELAYMS]` (e.g. `app-1:smtp:expired-cert`, `services-1:imap:slow:1500`).
 * Throws an Error whose message says what is wrong and what is allowed.
 */
export function parseFault(spec: string, vantages: readonly string[]): Fault {
  const [vantage, endpoint, kind, delay, ...rest] = spec.split(':');
  const form = 'use VANTAGE:ENDPOINT:KIND[:DELAYMS], e.g. app-1:smtp:expired-cert';
  if (!vantage || !endpoint || !kind || rest.length)
    throw new Error(`bad fault ${JSON.stringify(spec)}: ${form}`);
  if (!vantages.includes(vantage))
    throw new Error(
      `bad fault ${JSON.stringify(spec)}: vantage must be one of ${vantages.join(', ')}`,
    );
  if (!(ENDPOINTS as readonly string[]).includes(endpoint))
    throw new Error(
      `bad fault ${JSON.stringify(spec)}: endpoint must be one of ${ENDPOINTS.join(', ')}`,
    );
  if (!(KINDS as readonly string[]).includes(kind))
    throw new Error(`bad fault ${JSON.stringify(spec)}: kind must be one of ${KINDS.join(', ')}`);
  const only = ONLY_ON[kind as FaultKind];
  if (only && endpoint !== only)
    throw new Error(
      `bad fault ${JSON.stringify(spec)}: kind ${kind} goes only with endpoint ${only}`,
    );
  const fault: Fault = { vantage, endpoint: endpoint as LabEndpoint, kind: kind as FaultKind };
  if (delay !== undefined) {
    const ms = Number(delay);
    if (!DELAYED.includes(kind as FaultKind) || !Number.isInteger(ms) || ms < 1 || ms > 60000) {
      throw new Error(
        `bad fault ${JSON.stringify(spec)}: a delay (1-60000 ms) goes only with kind slow or trickle`,
      );
    }
    fault.delayMs = ms;
  }
  return fault;
}
