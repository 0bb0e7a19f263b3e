/**
 * Checklist item titles in every language: each item's declaration holds them
 * (src/checklist/<id>.ts, `item.title`, the section names of Cisco's technote in English), and
 * the cards, the CLI's card and the alerts read them through `itemTitle`, never a copy.
 */
import { declarationOf } from '../checklist/items';
import type { ItemId } from '../model/items';
import type { Lang } from './lang';

/**
 * The item's title in the language. An id with no declaration (a stored run from a version that
 * had an item this one has not) is shown as its id rather than failing the card.
 */
export function itemTitle(item: ItemId, lang: Lang): string {
  return declarationOf(item)?.title[lang] ?? item;
}
