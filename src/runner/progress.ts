/**
 * Which items can be judged once some vantage points have reported, so a card can show items
 * as done while others are still running. An item is ready when every vantage it draws on has
 * reported; its finding is then final, because rules judge only their own observations.
 */
import type { ItemId } from '../checklist/types';
import type { Environment } from '../inventory/types';
import { CENTRAL } from '../probes/types';

/** The vantage points each item's observations come from. */
export function vantagesForItem(env: Environment, item: ItemId): string[] {
  const servers = env.servers.map(s => s.name);
  const services = env.servers.filter(s => s.role === 'services').map(s => s.name);
  switch (item) {
    case 'version':
      return [];
    case 'external-url':
    case 'network':
      return servers;
    case 'token':
    case 'connectivity':
      return services;
    case 'license':
      return [CENTRAL];
    case 'app-registration':
    case 'mailbox-protocols':
    case 'mailbox-rights':
      // Tenant reads, plus token lifetimes and end-to-end fallbacks from the services servers.
      return [CENTRAL, ...services];
  }
}

/** Items whose vantage points have all reported. */
export function readyItems(
  env: Environment,
  items: readonly ItemId[],
  reported: ReadonlySet<string>,
): ItemId[] {
  return items.filter(i => vantagesForItem(env, i).every(v => reported.has(v)));
}
