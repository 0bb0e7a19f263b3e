/**
 * Posting Bot Framework activities to the bot's /api/messages as Teams would: messages with
 * the bot's mention, `adaptiveCard/action` invokes, `composeExtension/query` invokes. The
 * serviceUrl points at a fake connector, so every reply the bot sends is recorded there.
 */
import { randomUUID } from 'node:crypto';

export const BOT = { id: '28:ecebot-app', name: 'ecebot' };
export const TENANT = '72f988bf-0000-4000-8000-000000000001';

/** A person in the tests. */
export interface User {
  id: string;
  name: string;
  aadObjectId: string;
}

export const ALEX: User = {
  id: '29:alex',
  name: 'Alex Wilber',
  aadObjectId: '00000000-0000-4000-8000-0000000000a1',
};
export const MEGAN: User = {
  id: '29:megan',
  name: 'Megan Bowen',
  aadObjectId: '00000000-0000-4000-8000-0000000000b2',
};

/** Where an activity comes from. */
export interface Where {
  conversationId: string;
  /** A team channel (else a personal chat). */
  team?: { id: string; name: string; channelId: string; channelName?: string };
  locale?: string;
  user?: User;
}

function base(serviceUrl: string, w: Where) {
  const user = w.user ?? ALEX;
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl,
    from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
    recipient: BOT,
    conversation: {
      id: w.conversationId,
      conversationType: w.team ? 'channel' : 'personal',
      tenantId: TENANT,
      ...(w.team ? { isGroup: true } : {}),
    },
    locale: w.locale ?? 'en-US',
    channelData: {
      tenant: { id: TENANT },
      ...(w.team
        ? {
            team: { id: w.team.id, name: w.team.name },
            channel: {
              id: w.team.channelId,
              ...(w.team.channelName ? { name: w.team.channelName } : {}),
            },
          }
        : {}),
    },
  };
}

/** A message as Teams sends it in a channel: the bot's mention in text and entities. */
export function message(serviceUrl: string, w: Where, text: string) {
  const mention = `<at>${BOT.name}</at>`;
  return {
    ...base(serviceUrl, w),
    type: 'message',
    text: `${mention} ${text}`,
    textFormat: 'plain',
    entities: [{ type: 'mention', mentioned: BOT, text: mention }],
  };
}

/** A card button press (Universal Actions: Action.Execute → adaptiveCard/action). */
export function execute(
  serviceUrl: string,
  w: Where,
  replyToId: string,
  verb: string,
  data: Record<string, unknown>,
) {
  return {
    ...base(serviceUrl, w),
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId,
    value: { action: { type: 'Action.Execute', id: randomUUID(), verb, data }, trigger: 'manual' },
  };
}

/** A search message extension query. */
export function search(serviceUrl: string, w: Where, query: string) {
  return {
    ...base(serviceUrl, w),
    type: 'invoke',
    name: 'composeExtension/query',
    value: {
      commandId: 'searchRuns',
      parameters: [{ name: 'query', value: query }],
      queryOptions: { skip: 0, count: 10 },
    },
  };
}

/** POST an activity; resolves with the HTTP status and the JSON body (invokes) or null. */
export async function post(
  botUrl: string,
  activity: object,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(botUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(activity),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}
