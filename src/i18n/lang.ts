/**
 * The languages ecebot's cards speak. The language follows the activity's locale (`nl-*` →
 * Dutch, anything else → English): Teams sends the client's UI locale on every activity
 * (Bot Framework Activity schema, `locale`). ecebot's own words, the findings' summaries and
 * their remediation are translated (./findings.ts); evidence lines stay as recorded, because
 * they quote the servers' and the probes' own words.
 */

import type { Lang } from '../model/items';

export type { Lang, Text } from '../model/items';

/** Pick the language from an activity locale such as `nl-NL`, `nl-BE`, `en-US` or undefined. */
export function langOf(locale: string | undefined): Lang {
  return /^nl(?:[-_]|$)/i.test(locale ?? '') ? 'nl' : 'en';
}
