/**
 * Conversation references, kept in the store so cards can be updated and snapshots posted
 * after the turn that created them, by any bot process (teams-bot-notes.md §2: keep the
 * reference, always reuse its regional serviceUrl). Durable state, never module-level objects
 * (anchors.md C, lesson 10).
 */
import { TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { z } from 'zod';
import type { Store } from '../store/types';

/** What ecebot keeps about a conversation. */
export interface ConversationRecord {
  reference: Partial<ConversationReference>;
  /** Locale of the last activity seen there; cards updated later are written in it. */
  locale?: string;
  kind: 'personal' | 'groupChat' | 'channel';
  /** A name people recognise in a picker: `Team › Channel`, the chat's name. */
  name?: string;
  teamId?: string;
  /** The team's Entra group id, when Teams sends it (`channelData.team.aadGroupId`). */
  aadGroupId?: string;
  channelId?: string;
  tenantId?: string;
}

/** The part of a Teams activity's `channelData` ecebot reads (Teams activity schema). */
export interface TeamsChannelData {
  team?: { id?: string; name?: string; aadGroupId?: string };
  channel?: { id?: string; name?: string };
  tenant?: { id?: string };
}

/** The key of the conversation an activity came from (a channel *thread* has its own). */
export function conversationKey(activity: Partial<Activity>): string {
  return activity.conversation?.id ?? '';
}

/**
 * The key of the place itself: a channel without the `;messageid=` of the thread, so a
 * subscription or a shared snapshot goes to the channel as a new post, not into one thread.
 */
export function placeKey(activity: Partial<Activity>): string {
  return conversationKey(activity).replace(/;messageid=.*$/, '');
}

/** The records to keep for an activity: its conversation, and its channel when in a thread. */
function recordsOf(activity: Activity): [string, ConversationRecord][] {
  const cd = (activity.channelData ?? {}) as TeamsChannelData;
  const reference = TurnContext.getConversationReference(activity);
  const convType = activity.conversation?.conversationType;
  const kind: ConversationRecord['kind'] =
    convType === 'channel' || cd.channel?.id
      ? 'channel'
      : convType === 'groupChat' || activity.conversation?.isGroup
        ? 'groupChat'
        : 'personal';
  const channelName =
    cd.channel?.name ?? (cd.channel?.id && cd.channel.id === cd.team?.id ? 'General' : undefined);
  const name =
    kind === 'channel'
      ? [cd.team?.name, channelName].filter(Boolean).join(' › ') || undefined
      : activity.conversation?.name || (kind === 'personal' ? activity.from?.name : undefined);
  const base: Omit<ConversationRecord, 'reference'> = {
    ...(activity.locale ? { locale: activity.locale } : {}),
    kind,
    ...(name ? { name } : {}),
    ...(cd.team?.id ? { teamId: cd.team.id } : {}),
    ...(cd.team?.aadGroupId ? { aadGroupId: cd.team.aadGroupId } : {}),
    ...(cd.channel?.id ? { channelId: cd.channel.id } : {}),
    ...((cd.tenant?.id ?? activity.conversation?.tenantId)
      ? { tenantId: cd.tenant?.id ?? activity.conversation?.tenantId }
      : {}),
  };
  const key = conversationKey(activity);
  const out: [string, ConversationRecord][] = [[key, { ...base, reference }]];
  const place = placeKey(activity);
  if (place && place !== key) {
    const conversation = { ...reference.conversation!, id: place };
    out.push([place, { ...base, reference: { ...reference, conversation } }]);
  }
  return out;
}

/** Save the records of an activity (every incoming activity refreshes them). */
export async function saveConversation(store: Store, activity: Activity): Promise<void> {
  if (!activity.conversation?.id || !activity.serviceUrl) return;
  for (const [key, rec] of recordsOf(activity)) await store.saveConversation(key, rec);
}

/**
 * A Teams/Bot Framework id as stored: bounded, printable. Redis is a trust boundary, so a record
 * read back is checked before anything follows it (Bot Framework Activity schema: ids are
 * strings; the bounds are ours, far above what Teams sends).
 */
const id = z
  .string()
  .min(1)
  .max(1024)
  .refine(s => ![...s].some(c => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: 'control characters',
  });
const account = z.looseObject({ id, name: z.string().max(1024).optional() });

/** The stored conversation reference: the fields botbuilder follows, typed; others kept. */
const referenceSchema = z.looseObject({
  serviceUrl: z.string().min(1).max(2048),
  channelId: z.string().max(64).optional(),
  conversation: z.looseObject({
    id,
    isGroup: z.boolean().optional(),
    conversationType: z.string().max(64).optional(),
    tenantId: z.string().max(128).optional(),
  }),
  bot: account.optional(),
  user: account.optional(),
  activityId: z.string().max(1024).optional(),
  locale: z.string().max(64).optional(),
});

/** A whole ConversationRecord as saved by saveConversation. */
const recordSchema = z.object({
  reference: referenceSchema,
  locale: z.string().max(64).optional(),
  kind: z.enum(['personal', 'groupChat', 'channel']),
  name: z.string().max(1024).optional(),
  teamId: id.optional(),
  aadGroupId: z.string().max(128).optional(),
  channelId: id.optional(),
  tenantId: z.string().max(128).optional(),
});

/** What a stored record read back is: absent, malformed (with the failing field paths), or ok. */
export type StoredConversation =
  | { state: 'absent' }
  | { state: 'malformed'; fields: string[] }
  | { state: 'ok'; record: ConversationRecord };

/**
 * Read and check a stored record. The failing field *paths* are kept for the log, never the
 * values (they could hold anything someone wrote into Redis).
 */
export async function readConversation(store: Store, key: string): Promise<StoredConversation> {
  const raw = await store.getConversation(key);
  if (raw === undefined || raw === null) return { state: 'absent' };
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success)
    return {
      state: 'malformed',
      fields: [...new Set(parsed.error.issues.map(i => i.path.join('.') || '(record)'))],
    };
  // botbuilder's ConversationAccount types `name` as required; Teams omits it in personal chats.
  return { state: 'ok', record: parsed.data as unknown as ConversationRecord };
}

/**
 * A stored record, checked field by field, or undefined when unknown or malformed (a record
 * that does not match what saveConversation writes was not written by ecebot). The serviceUrl's
 * host is checked where the reference is followed (./proactive.ts), not here: reading a record's
 * locale or tenant sends nothing.
 */
export async function loadConversation(
  store: Store,
  key: string,
): Promise<ConversationRecord | undefined> {
  const r = await readConversation(store, key);
  return r.state === 'ok' ? r.record : undefined;
}
