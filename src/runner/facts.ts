/**
 * The inventory facts the checklist rules judge on (no secrets, no file paths).
 */
import type { EnvironmentFacts } from '../model';
import type { EnvironmentSecrets } from '../inventory/secrets';
import type { Environment } from '../inventory/types';

/** Default threshold above which a mail step counts as slow. */
export const DEFAULT_SLOW_MS = 2000;

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
    servers: env.servers.map(s => ({ name: s.name, role: s.role })),
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
    slowMs: env.budget?.slowMs ?? DEFAULT_SLOW_MS,
  };
}
