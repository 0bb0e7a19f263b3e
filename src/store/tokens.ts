/**
 * Refresh tokens ecebot keeps itself (from a Teams device-code sign-in), per environment and
 * mailbox. The bot writes them; the process that redeems them (the bot in-process, or the
 * services server's worker) reads them, so the key scheme lives here, beside the store.
 */
import type { Environment } from '../inventory/types';
import type { Store } from './types';

/** The store key of a refresh token kept from a Teams sign-in. */
export function refreshTokenKey(environment: string, mailbox: string): string {
  return `rt:${environment}:${mailbox.toLowerCase()}`;
}

/** The refresh tokens the store keeps for an environment's mailboxes, by lowercased address. */
export async function storedRefreshTokens(
  store: Pick<Store, 'getSecret'>,
  env: Environment,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of env.mailboxes) {
    const rt = await store.getSecret(refreshTokenKey(env.name, m.address));
    if (rt) out.set(m.address.toLowerCase(), rt);
  }
  return out;
}
