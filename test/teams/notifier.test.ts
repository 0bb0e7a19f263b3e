/**
 * The Teams notifier behind the alert outbox: cards go to a conversation the bot has seen,
 * through botbuilder and the (fake) connector, and are updated in place; a conversation the
 * bot never saw is a SendError the outbox does not retry.
 */
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load';
import { retryable, SendError } from '../../src/notify/types';
import type { BotServer } from '../../src/teams/server';
import { message, post } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import type { FakeConnector } from './support/fake-connector';
import { cardOf } from './support/fake-connector';

const inv = loadInventory(join(__dirname, '..', '..', 'examples', 'inventory.yaml'));
let fake: FakeConnector;
let bot: BotServer;
let rig: BotRig;

beforeAll(async () => {
  rig = await startBotRig(() => inv);
  ({ fake, bot } = rig);
});

afterAll(async () => {
  await rig?.close();
});

const card = (text: string) => ({
  type: 'AdaptiveCard',
  version: '1.5',
  body: [{ type: 'TextBlock', text }],
});

test('sends a card to a conversation the bot has seen, then updates it in place', async () => {
  // Any message makes the bot keep the conversation reference.
  const res = await post(bot.url, message(fake.url, { conversationId: 'a:notify-1' }, 'help'));
  expect(res.status).toBeLessThan(300);

  const from = fake.requests.length;
  const sent = await bot.notifier.send('a:notify-1', { card: card('prod: network failing') });
  const posted = fake.requests
    .slice(from)
    .find(r => r.method === 'POST' && r.conversationId === 'a:notify-1')!;
  expect(sent.activityId).toBe(posted.answer);
  expect(JSON.stringify(cardOf(posted))).toContain('prod: network failing');

  await bot.notifier.update('a:notify-1', sent.activityId!, { card: card('prod: recovered') });
  const put = fake.requests.slice(from).find(r => r.method === 'PUT')!;
  expect(put.activityId).toBe(sent.activityId);
  expect(JSON.stringify(cardOf(put))).toContain('prod: recovered');
});

test('an unknown conversation is a SendError that is not retried', async () => {
  const err = await bot.notifier.send('a:never-seen', { text: 'hello' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SendError);
  expect((err as SendError).status).toBe(404);
  expect(retryable(err)).toBe(false);
});

test('a message whose card is not an Adaptive Card is a SendError that is not retried, and nothing is sent', async () => {
  await post(bot.url, message(fake.url, { conversationId: 'a:notify-2' }, 'help'));
  const from = fake.requests.length;
  const err = await bot.notifier
    .send('a:notify-2', { card: { type: 'MessageCard', text: 'old connector card' } })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SendError);
  expect((err as SendError).status).toBe(400);
  expect((err as SendError).message).toContain('not an Adaptive Card');
  expect(retryable(err)).toBe(false);
  expect(fake.requests.slice(from)).toEqual([]);
});
