/**
 * Gathering observations from one vantage point: the reads the run's items declare for this
 * vantage point's kind (src/runner/reads), all at once, each probe under its own deadline. Every
 * observation is tagged with the read that made it, so each rule is given only its own reads.
 * A server vantage is an ECE server (its role decides its kind); `central` reads the tenant
 * through Entra, Graph and the Exchange admin API.
 */
import type { Agent } from 'node:https';
import { kindOf } from '../checklist/catalogue';
import type { VantageKind } from '../model/items';
import type { ProbeContext } from '../probes/context';
import { ResumingAgent } from '../probes/tls-sessions';
import type { Observation } from '../model';
import { endpointsFor } from '../tenant/endpoints';
import type { PreparedRun } from './prepare';
import { readsFor } from './reads';
import type { ReadContext } from './reads/read';
import { sessionOfRun } from '../tenant/session';
import { EXO_SCOPE, GRAPH_SCOPE } from './reads/tenant';

export { mailboxScopes } from './reads/mailbox';
export { EXO_SCOPE, GRAPH_SCOPE };

/** The probe context of one vantage point of a run (`agent`: see ProbeContext.agent). */
export function contextFor(run: PreparedRun, vantage: string, agent?: Agent): ProbeContext {
  return sessionOfRun(run).context(vantage, agent);
}

/** Observations from one vantage point (a server name or `central`). */
export async function observeFrom(run: PreparedRun, vantage: string): Promise<Observation[]> {
  const kind: VantageKind | undefined = kindOf(run.env, vantage);
  if (!kind) throw new Error(`unknown vantage ${vantage}`);
  // One keep-alive agent per part of a run, never shared between runs: every run still makes
  // its own connections and handshakes, and nothing stays open once the part is done. Its
  // handshakes resume TLS sessions of earlier parts (src/probes/tls-sessions.ts): these reads
  // observe HTTP answers; the network item's own TLS probes make full handshakes.
  const agent = new ResumingAgent();
  const shared = new Map<string, Promise<unknown>>();
  const rc: ReadContext = {
    run,
    vantage,
    kind,
    ctx: contextFor(run, vantage, agent),
    endpoints: endpointsFor(run.env, vantage),
    shared: <T>(key: string, make: () => Promise<T>): Promise<T> => {
      let p = shared.get(key) as Promise<T> | undefined;
      if (!p) shared.set(key, (p = make()));
      return p;
    },
  };
  try {
    const made = await Promise.all(
      readsFor(run.items, kind).map(async read => {
        // Each probe inside a read is guarded; a read that still throws is a bug and fails
        // this part, which the run reports for the vantage point.
        const seen = await read.observe(rc);
        return seen.map(o => ({ ...o, read: read.name }));
      }),
    );
    return made.flat();
  } finally {
    agent.destroy();
  }
}
