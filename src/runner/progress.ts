/**
 * Which vantage points each item draws on, derived from its declaration (src/checklist/item.ts),
 * and which items can be judged once some vantage points have reported, so a card can show items
 * as done while others are still running. An item is ready when every vantage point it draws on
 * has reported; its finding is then final, because rules judge only their declared reads.
 */
import { declarationOf } from '../checklist/items';
import type { Environment } from '../inventory/types';
import type { ItemId } from '../model/items';
import { CENTRAL } from '../model';

/** The vantage points an item's observations come from: servers of the kinds it names, `central`. */
export function vantagesForItem(env: Pick<Environment, 'servers'>, item: ItemId): string[] {
  const kinds = new Set(declarationOf(item)?.reads.flatMap(u => u.on) ?? []);
  const servers = env.servers.filter(s => kinds.has(s.role)).map(s => s.name);
  return kinds.has('central') ? [...servers, CENTRAL] : servers;
}

/** The vantage points a run of these items needs: servers in inventory order, then `central`. */
export function vantagesForItems(
  env: Pick<Environment, 'servers'>,
  items: readonly ItemId[],
): string[] {
  const wanted = new Set(items.flatMap(i => vantagesForItem(env, i)));
  return [...env.servers.map(s => s.name), CENTRAL].filter(v => wanted.has(v));
}

/** Items whose vantage points have all reported. */
export function readyItems(
  env: Pick<Environment, 'servers'>,
  items: readonly ItemId[],
  reported: ReadonlySet<string>,
): ItemId[] {
  return items.filter(i => vantagesForItem(env, i).every(v => reported.has(v)));
}
