/**
 * Which queue a worker pulls: `--vantage ENV/SERVER` for an ECE server, `--vantage central` for
 * the central vantage. A bare `--vantage SERVER` is still accepted while exactly one environment
 * has a server of that name (deployments from before per-environment queues), and refused as
 * ambiguous as soon as two have one: guessing would let the worker probe one customer's tenant
 * from another customer's network.
 */
import { InputError } from '../inventory/errors';
import { suggest, type Inventory } from '../inventory/load';
import { CENTRAL } from '../model';
import { parseVantageId, vantageId } from '../queue/names';

/** The vantage a worker serves, resolved against the inventory. */
export interface WorkerVantage {
  /** Queue identity: `ENV/SERVER` or `central`. */
  id: string;
  /** The environment it serves; undefined for `central`, which serves every environment. */
  environment?: string;
  /** The server name within its environment, or `central`. */
  vantage: string;
}

/** Resolve `--vantage` against the inventory; InputError (what, how to write it) otherwise. */
export function resolveWorkerVantage(inv: Inventory, raw: string, file?: string): WorkerVantage {
  const given = raw.trim();
  if (given === CENTRAL) return { id: CENTRAL, vantage: CENTRAL };
  const all = [...inv.environments.values()].flatMap(e =>
    e.servers.map(s => ({ environment: e.name, vantage: s.name, id: vantageId(e.name, s.name) })),
  );
  const known = [CENTRAL, ...all.map(a => a.id)];
  const named = parseVantageId(given);
  if (named.environment !== undefined) {
    const hit = all.find(a => a.id === given);
    if (hit) return hit;
    const close = suggest(given, known);
    throw new InputError(
      `no server ${JSON.stringify(named.vantage)} in environment ${JSON.stringify(named.environment)} of the inventory`,
      `${close ? `did you mean ${close}? ` : ''}vantage points: ${known.join(', ')}`,
      file,
    );
  }
  const same = all.filter(a => a.vantage === given);
  if (same.length === 1) return same[0]!;
  if (same.length > 1)
    throw new InputError(
      `--vantage ${given} is ambiguous: environments ${same.map(a => a.environment).join(', ')} each have a server named ${given}`,
      `name the environment too, as ENV/SERVER: ${same.map(a => `--vantage ${a.id}`).join(' or ')}`,
      file,
    );
  const close = suggest(given, known);
  throw new InputError(
    `no server named ${JSON.stringify(given)} in the inventory`,
    `${close ? `did you mean ${close}? ` : ''}vantage points: ${known.join(', ')}`,
    file,
  );
}
