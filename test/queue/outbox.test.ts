/**
 * The outbox against the real Redis and a fake Bot Framework connector: every notification
 * arrives, in order per conversation, through 429s with Retry-After and 502s; at most 7 per
 * second per conversation; nothing queued is lost when the sender restarts; an id queued twice
 * is sent once; a message that can never be delivered does not hold up the others.
 */
import type { QueueConfig } from '../../src/redis/connection';
import { ConnectorNotifier, retryAfterMs } from '../../src/notify/connector';
import { serviceUrlPolicyFrom } from '../../src/notify/service-url';
import { Outbox } from '../../src/notify/outbox';
import { MemoryStore } from '../../src/store/memory';
import { cleanup, freshQueue, until } from './support';
import { startFakeConnector, type FakeConnector } from './support-connector';

let cfg: QueueConfig;
let connector: FakeConnector;
let store: MemoryStore;
const boxes: Outbox[] = [];

beforeEach(async () => {
  cfg = freshQueue();
  connector = await startFakeConnector();
  store = new MemoryStore();
  for (const c of ['a', 'b'])
    await store.saveConversation(`conv-${c}`, {
      serviceUrl: connector.url,
      conversation: { id: `19:${c}@thread.tacv2` },
      bot: { id: '28:bot', name: 'ecebot' },
    });
});
afterEach(async () => {
  await Promise.all(boxes.splice(0).map(b => b.close()));
  await connector.close();
  await cleanup(cfg);
});

const outbox = (send = true) => {
  const b = new Outbox({
    queue: cfg,
    ...(send
      ? { notifier: new ConnectorNotifier({ store, serviceUrls: serviceUrlPolicyFrom({}) }) }
      : {}),
  });
  boxes.push(b);
  return b;
};

const textsOf = (conversation: string) =>
  connector.received.filter(r => r.conversation === conversation).map(r => r.activity.text);

test('429 with Retry-After and 502: every notification arrives, in order per conversation, 7/s at most', async () => {
  connector.script('19:a@thread.tacv2', [{ status: 429, retryAfter: '1' }, { status: 502 }]);
  connector.script('19:b@thread.tacv2', [{ status: 429, retryAfter: '1' }]);
  const box = outbox();
  const want = Array.from({ length: 12 }, (_, i) => `message ${i}`);
  for (const t of want) {
    await box.enqueue({ conversation: 'conv-a', message: { text: `a ${t}` } });
    await box.enqueue({
      conversation: 'conv-b',
      message: { text: `b ${t}`, card: { type: 'AdaptiveCard' } },
    });
  }
  await box.start();
  await until(async () => connector.received.length === 24);

  expect(connector.refused.map(r => r.status).sort()).toEqual([429, 429, 502]);
  expect(textsOf('19:a@thread.tacv2')).toEqual(want.map(t => `a ${t}`));
  expect(textsOf('19:b@thread.tacv2')).toEqual(want.map(t => `b ${t}`));
  expect(connector.received[1]!.activity.attachments?.[0]?.content).toEqual({
    type: 'AdaptiveCard',
  });
  // No second holds more than 7 accepted sends of one conversation.
  for (const c of ['19:a@thread.tacv2', '19:b@thread.tacv2']) {
    const at = connector.received.filter(r => r.conversation === c).map(r => r.at);
    for (let i = 7; i < at.length; i++) expect(at[i]! - at[i - 7]!).toBeGreaterThanOrEqual(1000);
  }
  expect(await box.pending()).toBe(0);
});

test('nothing queued is lost across a restart of the sender; an id queued twice is sent once', async () => {
  const producer = outbox(false);
  for (let i = 0; i < 5; i++)
    await producer.enqueue(
      { conversation: 'conv-a', message: { text: `alert ${i}` } },
      `alert-run1-${i}`,
    );
  await producer.enqueue({ conversation: 'conv-a', message: { text: 'alert 0' } }, 'alert-run1-0');
  await producer.close();
  boxes.splice(boxes.indexOf(producer), 1);

  // A sender that starts later (a restarted bot) delivers what was queued before it existed.
  const sender = outbox();
  await sender.start();
  await until(async () => connector.received.length >= 5);
  await until(async () => (await sender.pending()) === 0);
  expect(textsOf('19:a@thread.tacv2')).toEqual([0, 1, 2, 3, 4].map(i => `alert ${i}`));
});

test('an undeliverable message fails alone; updates go to the activity in place', async () => {
  const box = outbox();
  await box.enqueue({ conversation: 'conv-unknown', message: { text: 'lost' } });
  await box.enqueue({ conversation: 'conv-a', message: { text: 'v2' }, activityId: 'act-7' });
  await box.start();
  await until(async () => connector.received.length === 1);
  expect(connector.received[0]).toMatchObject({
    method: 'PUT',
    activityId: 'act-7',
    activity: { text: 'v2' },
  });
  await until(async () => (await box.pending()) === 0);
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  expect(retryAfterMs('3')).toBe(3000);
  expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', Date.UTC(2026, 0, 1, 0, 0, 4))).toBe(6000);
  expect(retryAfterMs('soon')).toBeUndefined();
  expect(retryAfterMs(null)).toBeUndefined();
});
