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
import { resolveSecret } from '../inventory/secrets';
import type { Environment } from '../inventory/types';
import {
  DEFAULT_DEADLINES,
  type Deadlines,
  type ProbeContext,
  type ProxyConfig,
} from '../probes/context';
import { parseNoProxy, parseProxyUrl, proxySecrets, ProxyUrlError } from '../probes/proxy';
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

/**
 * The HTTP proxy for HTTPS: the inventory's `endpoints.proxy` (credentials by reference in
 * `endpoints.proxyCredentials`, `user:password`), else the standard HTTPS_PROXY / https_proxy
 * variable (which may carry `user:password@`); NO_PROXY / no_proxy exempts hosts either way.
 * A malformed value is an InputError naming where it came from, never repeating the value (it
 * may hold a password).
 */
export function proxyOf(
  env: Environment,
  inv: Inventory | undefined,
  vars: NodeJS.ProcessEnv,
): ProxyConfig | undefined {
  const noProxy = parseNoProxy(vars.NO_PROXY ?? vars.no_proxy);
  const configured = env.endpoints?.proxy;
  if (configured) {
    const field = (f: string) =>
      [
        env.file,
        inv?.lineOf(env.name, ['endpoints', f]),
        `environments.${env.name}.endpoints.${f}`,
      ] as const;
    let proxy: ProxyConfig;
    try {
      proxy = parseProxyUrl(configured, 'inventory', noProxy);
    } catch (err) {
      const why = err instanceof ProxyUrlError ? err.message : 'is not a proxy URL';
      throw new InputError(
        `endpoints.proxy ${why}`,
        'write the proxy as http://proxy.example.com:3128',
        ...field('proxy'),
      );
    }
    const ref = env.endpoints?.proxyCredentials;
    if (ref) {
      const value = resolveSecret(ref, env, inv, ['endpoints', 'proxyCredentials'], vars);
      const colon = value.indexOf(':');
      if (colon <= 0) {
        throw new InputError(
          `the proxy credentials from ${ref} are not of the form user:password`,
          'store them as user:password (the value is never printed)',
          ...field('proxyCredentials'),
        );
      }
      proxy.credentials = { user: value.slice(0, colon), password: value.slice(colon + 1) };
    }
    return proxy;
  }
  const name = vars.HTTPS_PROXY !== undefined ? 'HTTPS_PROXY' : 'https_proxy';
  const fromEnv = vars[name]?.trim();
  if (!fromEnv) return undefined;
  try {
    return parseProxyUrl(fromEnv, 'environment', noProxy);
  } catch (err) {
    const why = err instanceof ProxyUrlError ? err.message : 'is not a proxy URL';
    throw new InputError(
      `the ${name} environment variable ${why}`,
      `set ${name} to http://[user:password@]proxy.example.com:3128, or unset it`,
    );
  }
}

/** What every context of one environment shares. */
export interface ContextBasis {
  env: Environment;
  deadlines: Deadlines;
  /** Extra CA certificates (PEM), trusted besides Node's own. */
  ca?: string;
  /** HTTP proxy for HTTPS (proxyOf). */
  proxy?: ProxyConfig;
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
    ...(b.proxy ? { proxy: b.proxy } : {}),
    // Proxy credentials are masked wherever this context writes, whoever made the redactor.
    redactor: b.proxy?.credentials ? b.redactor.with(proxySecrets(b.proxy)) : b.redactor,
  };
}
