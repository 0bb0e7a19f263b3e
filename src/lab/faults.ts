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
