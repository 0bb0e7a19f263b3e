/**
 * Where each vantage point reaches each service: the real Microsoft endpoints, overridden by the
 * environment's `endpoints`, overridden again per server (the lab uses this to give one server a
 * different network from another).
 */
import type { HostPort } from '../probes/context';
import { DEFAULT_ENDPOINTS, type EndpointName, type Environment } from '../inventory/types';
import { CENTRAL } from '../model';

/** Where one vantage point reaches each service. */
export type VantageEndpoints = Record<EndpointName, HostPort> & {
  /** Where this server reaches the ECE external URL, when overridden. */
  ece?: HostPort;
};

/** Endpoints as seen from one vantage point (`central` uses the environment-level ones). */
export function endpointsFor(env: Environment, vantage: string): VantageEndpoints {
  const base: VantageEndpoints = { ...DEFAULT_ENDPOINTS };
  for (const k of Object.keys(DEFAULT_ENDPOINTS) as EndpointName[]) {
    const o = env.endpoints?.[k];
    if (o) base[k] = o;
  }
  if (vantage === CENTRAL) return base;
  const server = env.servers.find(s => s.name === vantage);
  const overrides = server?.endpoints ?? {};
  for (const [k, v] of Object.entries(overrides)) {
    if (v) (base as Record<string, HostPort>)[k] = v;
  }
  return base;
}

/** `host:port` for evidence. */
export function hostPort(hp: HostPort): string {
  return `${hp.host}:${hp.port}`;
}
