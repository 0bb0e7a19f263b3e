/**
 * Network faults per (vantage, endpoint). A vantage point is the ECE server a probe runs for;
 * the lab gives each faulty pair its own port, and the inventory it writes points that
 * server's endpoint there (servers[].endpoints), so the same probe code sees a different
 * network from services-1 than from app-1, as a firewall between them would make it.
 */

/** The lab endpoints a fault can apply to. */
export type LabEndpoint = 'login' | 'graph' | 'exo' | 'imap' | 'pop3' | 'smtp' | 'ece';

/**
 * - `refuse`: nothing listens (ECONNREFUSED), like a firewall that rejects;
 * - `blackhole`: accepts the connection and never says a byte;
 * - `slow`: relays to the real service, delaying every chunk from the server by `delayMs`;
 * - `wrong-cert`: TLS with a certificate for another name (then relays);
 * - `expired-cert`: TLS with an expired certificate (then relays).
 */
export type FaultKind = 'refuse' | 'blackhole' | 'slow' | 'wrong-cert' | 'expired-cert';

export interface Fault {
  vantage: string;
  endpoint: LabEndpoint;
  kind: FaultKind;
  /** For `slow`: delay per server chunk. */
  delayMs?: number;
}

const ENDPOINTS: readonly LabEndpoint[] = ['login', 'graph', 'exo', 'imap', 'pop3', 'smtp', 'ece'];
const KINDS: readonly FaultKind[] = ['refuse', 'blackhole', 'slow', 'wrong-cert', 'expired-cert'];

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
  const fault: Fault = { vantage, endpoint: endpoint as LabEndpoint, kind: kind as FaultKind };
  if (delay !== undefined) {
    const ms = Number(delay);
    if (kind !== 'slow' || !Number.isInteger(ms) || ms < 1 || ms > 60000) {
      throw new Error(
        `bad fault ${JSON.stringify(spec)}: a delay (1-60000 ms) goes only with kind slow`,
      );
    }
    fault.delayMs = ms;
  }
  return fault;
}
