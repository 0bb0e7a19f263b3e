/**
 * Rate limits: runs per person and messages per conversation, counted atomically in Redis
 * (shared by bot replicas) or in memory; a refusal is a card with the wait, sent once per window.
 */
import { Redis } from 'ioredis';
import type { Inventory } from '../../src/inventory/load';
import {
  DEFAULT_LIMITS,
  limitsFrom,
  MemoryRateLimiter,
  RedisRateLimiter,
} from '../../src/teams/rate-limit';
import { cleanup, freshQueue } from '../queue/support';
import { cardTexts } from './support/adaptive';
import { message, post } from './support/bot-client';
import { startBotRig } from './support/bot-rig';
import { cardOf } from './support/fake-connector';

const cfg = freshQueue();
let redis: Redis;
beforeAll(() => {
  redis = new Redis(cfg.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  redis.disconnect();
  await cleanup(cfg);
});

const LIMIT = { max: 3, windowMs: 60_000 };

test('Redis: twenty concurrent takes from two replicas, exactly three allowed, one first refusal', async () => {
  const a = new RedisRateLimiter(redis, cfg.prefix);
  const other = new Redis(cfg.url, { maxRetriesPerRequest: 1 });
  try {
    const b = new RedisRateLimiter(other, cfg.prefix);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take('runs:u1', LIMIT)),
    );
    expect(answers.filter(t => t.ok)).toHaveLength(3);
    const refused = answers.filter(t => !t.ok);
    expect(refused.filter(t => t.first)).toHaveLength(1);
    for (const t of refused) {
      expect(t.waitMs).toBeGreaterThan(0);
      expect(t.waitMs).toBeLessThanOrEqual(LIMIT.windowMs);
    }
    // Another key has its own count.
    expect(await a.take('runs:u2', LIMIT)).toEqual({ ok: true });
  } finally {
    other.disconnect();
  }
});

test('memory: the window opens again after its time', async () => {
  let now = 0;
  const m = new MemoryRateLimiter(() => now);
  for (let i = 0; i < 3; i++) expect(await m.take('k', LIMIT)).toEqual({ ok: true });
  expect(await m.take('k', LIMIT)).toEqual({ ok: false, waitMs: 60_000, first: true });
  now = 59_000;
  expect(await m.take('k', LIMIT)).toEqual({ ok: false, waitMs: 1_000, first: false });
  now = 60_000;
  expect(await m.take('k', LIMIT)).toEqual({ ok: true });
});

test('limits come from the environment; a bad value stops start-up', () => {
  expect(limitsFrom({})).toEqual(DEFAULT_LIMITS);
  expect(limitsFrom({ ECEBOT_RUNS_PER_USER_PER_MINUTE: '2' }).runsPerUser).toEqual({
    max: 2,
    windowMs: 60_000,
  });
  expect(() => limitsFrom({ ECEBOT_MESSAGES_PER_CONVERSATION_PER_MINUTE: '0' })).toThrow(
    /ECEBOT_MESSAGES_PER_CONVERSATION_PER_MINUTE/,
  );
});

test('the bot: over the per-conversation limit, one refusal card with the wait, then silence', async () => {
  const EMPTY = { environments: new Map() } as unknown as Inventory;
  const rig = await startBotRig(() => EMPTY, {
    server: { vars: { ECEBOT_MESSAGES_PER_CONVERSATION_PER_MINUTE: '2' } },
  });
  try {
    const conversationId = 'a:1rate';
    for (let i = 0; i < 5; i++)
      expect(
        (await post(rig.bot.url, message(rig.fake.url, { conversationId }, 'help'))).status,
      ).toBe(200);
    await rig.bot.idle();
    const replies = rig.fake.postsTo(conversationId);
    expect(replies).toHaveLength(3);
    const last = cardTexts(cardOf(replies[2]!)!).join('\n');
    expect(last).toMatch(/too many messages in this conversation; try again in \d+ s/);
    // Another conversation is not affected.
    await post(rig.bot.url, message(rig.fake.url, { conversationId: 'a:2rate' }, 'help'));
    expect(rig.fake.postsTo('a:2rate')).toHaveLength(1);
  } finally {
    await rig.close();
  }
});
