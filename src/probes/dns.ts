/**
 * The DNS probe: does a name resolve, from this vantage point, within the DNS deadline, and to
 * what (checklist item `network`). The hosts map and `dnsServers` of the context apply, as for
 * every probe (src/probes/net.ts).
 */
import type { ProbeContext } from './context';
import type { Resolution } from './net';
import { ProbeRun, resolveStep, runGuarded } from './tcp';
import type { DnsObservation } from '../model';

/** Resolve `host` and report the addresses and where they came from. */
export async function probeDns(ctx: ProbeContext, host: string): Promise<DnsObservation> {
  const run = new ProbeRun(ctx);
  let resolution: Resolution | undefined;
  await runGuarded(run, async () => {
    resolution = await resolveStep(run, host);
  });
  return {
    ...run.base('dns', host, { stage: 'dns' }),
    kind: 'dns',
    host,
    addresses: resolution?.addresses ?? [],
    source: resolution?.source ?? 'dns',
  };
}
