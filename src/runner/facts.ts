/**
 * The inventory facts the checklist rules judge on (no secrets, no file paths).
 */
import type { EnvironmentFacts } from '../model';
import type { EnvironmentSecrets } from '../inventory/secrets';
import type { Environment } from '../inventory/types';

/** Default threshold above which a mail step counts as slow. */
export const DEFAULT_SLOW_MS = 2000;

/**
 * Default longest gap between ECE's successful sign-ins: ECE redeems its refresh token whenever
 * its access token expires, and Entra's access tokens last 60–90 minutes by default
 * (access-tokens#token-lifetime, o365-facts.md §2.6), so three hours is two missed redemptions.
 */
export const DEFAULT_MAX_SIGN_IN_GAP_MS = 3 * 3_600_000;

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The environment's `ece.maxSignInGap` in ms (validated by the inventory schema), or the default. */
export function maxSignInGapMs(env: Pick<Environment, 'ece'>): number {
  const m = /^(\d+)([mhd])$/.exec(env.ece.maxSignInGap ?? '');
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : DEFAULT_MAX_SIGN_IN_GAP_MS;
}

export function factsOf(
  env: Environment,
  secrets: Pick<EnvironmentSecrets, 'refreshTokens'>,
): EnvironmentFacts {
  return {
    name: env.name,
    ece: {
      version: env.ece.version,
      es: env.ece.es,
      ...(env.ece.et !== undefined ? { et: env.ece.et } : {}),
      ...(env.ece.externalUrl ? { externalUrl: env.ece.externalUrl } : {}),
      ...(env.ece.adminUrl ? { adminUrl: env.ece.adminUrl } : {}),
    },
    servers: env.servers.map(s => ({
      name: s.name,
      role: s.role,
      ...(s.addresses ? { addresses: [...s.addresses] } : {}),
    })),
    tenantId: env.tenant.id,
    app: { clientId: env.app.clientId },
    mailboxes: env.mailboxes.map(m => ({
      address: m.address,
      access: m.access,
      ...(m.account ? { account: m.account } : {}),
      retrieve: m.retrieve,
      hasToken: secrets.refreshTokens.has(m.address.toLowerCase()),
      ...(m.sendTest !== undefined ? { sendTest: m.sendTest } : {}),
    })),
    probeConfigured: !!env.probe,
    endpointHosts: endpointHostsOf(env),
    slowMs: env.budget?.slowMs ?? DEFAULT_SLOW_MS,
    maxSignInGapMs: maxSignInGapMs(env),
  };
}

/** Every endpoint host the inventory configures, with the field that sets it. */
function endpointHostsOf(env: Environment): { field: string; host: string }[] {
  const out: { field: string; host: string }[] = [];
  const add = (prefix: string, eps: Record<string, unknown> | undefined): void => {
    for (const [k, v] of Object.entries(eps ?? {})) {
      const host = (v as { host?: unknown } | undefined)?.host;
      if (typeof host === 'string') out.push({ field: `${prefix}.${k}`, host });
    }
  };
  add('endpoints', env.endpoints);
  for (const s of env.servers) add(`servers.${s.name}.endpoints`, s.endpoints);
  return out;
}
