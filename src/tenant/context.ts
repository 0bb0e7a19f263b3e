/**
 * What a tenant's probes run with: the environment's deadlines, its extra CA and its hosts map,
 * read from the inventory. Anything the input can get wrong (an unreadable CA file) fails here,
 * with where and how to fix it, before any request goes out.
 */
import type { Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../inventory/errors';
import type { Inventory } from '../inventory/load';
import type { Environment } from '../inventory/types';
import { DEFAULT_DEADLINES, type Deadlines, type ProbeContext } from '../probes/context';
import type { Redactor } from '../util/redact';

/** The environment's per-phase deadlines: its `budget`, else the defaults. */
export function deadlinesOf(env: Environment): Deadlines {
  const b = env.budget ?? {};
  return {
    dnsMs: b.dnsMs ?? DEFAULT_DEADLINES.dnsMs,
    connectMs: b.connectMs ?? DEFAULT_DEADLINES.connectMs,
    tlsMs: b.tlsMs ?? DEFAULT_DEADLINES.tlsMs,
    greetingMs: b.greetingMs ?? DEFAULT_DEADLINES.greetingMs,
    commandMs: b.commandMs ?? DEFAULT_DEADLINES.commandMs,
    totalMs: b.totalMs ?? DEFAULT_DEADLINES.totalMs,
  };
}

/** The extra CA (PEM) of `endpoints.caFile`, or undefined when none is set. */
export function readCaFile(env: Environment, inv: Inventory | undefined): string | undefined {
  if (!env.endpoints?.caFile) return undefined;
  const path = resolve(dirname(env.file), env.endpoints.caFile);
  const where = [
    env.file,
    inv?.lineOf(env.name, ['endpoints', 'caFile']),
    `environments.${env.name}.endpoints.caFile`,
  ] as const;
  let ca: string;
  try {
    ca = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(
      `CA file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${path})`,
      'fix endpoints.caFile (relative paths start at the inventory file)',
      ...where,
    );
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InputError(
      `CA file ${path} holds no PEM certificate`,
      'point endpoints.caFile at a PEM file',
      ...where,
    );
  }
  return ca;
}

/** What every context of one environment shares. */
export interface ContextBasis {
  env: Environment;
  deadlines: Deadlines;
  /** Extra CA certificates (PEM), trusted besides Node's own. */
  ca?: string;
  redactor: Redactor;
}

/** The probe context of one vantage point (`agent`: see ProbeContext.agent). */
export function probeContext(b: ContextBasis, vantage: string, agent?: Agent): ProbeContext {
  return {
    ...(agent ? { agent } : {}),
    vantage,
    deadlines: b.deadlines,
    ...(b.ca ? { ca: b.ca } : {}),
    hosts: Object.fromEntries(
      Object.entries(b.env.endpoints?.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    ),
    ...(b.env.endpoints?.dnsServers ? { dnsServers: b.env.endpoints.dnsServers } : {}),
    redactor: b.redactor,
  };
}
