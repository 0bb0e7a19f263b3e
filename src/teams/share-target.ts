/**
 * Where a run can be shared to, and the one codec between that and the value a share picker's
 * choice carries (an `Input.ChoiceSet` value is a string; Teams sends the chosen one back as
 * the `target` of the `shareTo` action). The picker encodes (./cards.ts), the `shareTo` action
 * schema decodes (./card-actions.ts); nothing else reads or writes the string.
 *
 * The string is `c:` (a stored conversation) or `t:` (a channel of this team), the id, `|`, and
 * the title: the form of cards posted before this codec, so their buttons still work. The id
 * escapes `%` and `|` (`%25`, `%7C`), so the first `|` always ends it and the title may hold
 * anything, `|` and `:` included. A decoded title is what the card said, not what the bot
 * trusts: the bot matches the target by kind and id against the places it offers, and speaks
 * the offered title.
 */

/** A stored conversation subscribed to the run's environment; the snapshot goes there. */
export interface ConversationShareTarget {
  kind: 'conversation';
  /** The conversation's store key (./conversations.ts placeKey). */
  id: string;
  title: string;
}

/** A channel of the team the picker was opened in; the snapshot starts a new post there. */
export interface ChannelShareTarget {
  kind: 'channel';
  /** The Teams channel id (`19:…@thread.tacv2`). */
  id: string;
  title: string;
}

/** A place a run can be shared to. */
export type ShareTarget = ConversationShareTarget | ChannelShareTarget;

const PREFIX: Record<ShareTarget['kind'], string> = { conversation: 'c', channel: 't' };

/** The choice value of a share target. */
export function encodeShareTarget(t: ShareTarget): string {
  const id = t.id.replace(/%/g, '%25').replace(/\|/g, '%7C');
  return `${PREFIX[t.kind]}:${id}|${t.title}`;
}

/** Kind, id made of unescaped characters and the two escapes, then `|title` (optional). */
const ENCODED = /^([ct]):((?:[^%|]|%25|%7C)+)(?:\|([\s\S]*))?$/;

/**
 * The share target a choice value names, or undefined when the value is not one. A value
 * without `|title` (a conversation in cards posted before titles were carried) decodes with an
 * empty title.
 */
export function decodeShareTarget(value: string): ShareTarget | undefined {
  const m = ENCODED.exec(value);
  if (!m) return undefined;
  const id = m[2]!.replace(/%(25|7C)/g, (_, hex: string) => (hex === '25' ? '%' : '|'));
  const title = m[3] ?? '';
  return m[1] === 'c' ? { kind: 'conversation', id, title } : { kind: 'channel', id, title };
}

/** The same place (titles do not count: they are for people). */
export function sameShareTarget(a: ShareTarget, b: ShareTarget): boolean {
  return a.kind === b.kind && a.id === b.id;
}
