/**
 * Checklist item titles: the section names of Cisco's troubleshooting technote (checklist.md),
 * in every language. This is the one table of them; the cards, the CLI's card and the alerts
 * read it through `itemTitle`, never a copy.
 *
 * The English column is each rule's own `TITLE` (src/checklist/<id>.ts), so a finding's
 * `title` and the card's row always agree. The item declarations (`item.title`) will take this
 * table over; until then it stays in this one file.
 */
import { TITLE as APP_REGISTRATION } from '../checklist/app-registration';
import { TITLE as CONNECTIVITY } from '../checklist/connectivity';
import { TITLE as EXTERNAL_URL } from '../checklist/external-url';
import { TITLE as LICENSE } from '../checklist/license';
import { TITLE as MAILBOX_PROTOCOLS } from '../checklist/mailbox-protocols';
import { TITLE as MAILBOX_RIGHTS } from '../checklist/mailbox-rights';
import { TITLE as NETWORK } from '../checklist/network';
import { TITLE as TOKEN } from '../checklist/token';
import type { ItemId } from '../checklist/types';
import { TITLE as VERSION } from '../checklist/version';
import type { Lang, Text } from './lang';

const ITEM_TITLES: Record<ItemId, Text> = {
  version: { en: VERSION, nl: 'Minimale versie' },
  'external-url': { en: EXTERNAL_URL, nl: 'Externe URL' },
  'app-registration': { en: APP_REGISTRATION, nl: 'Azure AD-applicatie' },
  token: { en: TOKEN, nl: 'Tokens' },
  'mailbox-protocols': { en: MAILBOX_PROTOCOLS, nl: 'Mailboxprotocollen' },
  license: { en: LICENSE, nl: 'Exchange-licentie' },
  'mailbox-rights': { en: MAILBOX_RIGHTS, nl: 'Mailboxrechten' },
  network: { en: NETWORK, nl: 'Netwerk, URL’s en poorten' },
  connectivity: { en: CONNECTIVITY, nl: 'Verbindingstest' },
};

/** The item's title in the language (the checklist's section name). */
export function itemTitle(item: ItemId, lang: Lang): string {
  return ITEM_TITLES[item][lang];
}
