/**
 * `ecebot token delete ENV MAILBOX` against the real Redis store (random prefix, cleaned up):
 * it removes the refresh tokens ecebot keeps for that mailbox and nobody else's, says when there
 * was none, needs no ECEBOT_SECRET_KEY, and never prints a token.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { main, type Io } from '../../src/cli';
import type { QueueConfig } from '../../src/redis/connection';
import { SecretBox } from '../../src/store/crypto';
import { RedisStore } from '../../src/store/redis';
import { eceRefreshTokenKey, refreshTokenKey } from '../../src/store/tokens';
import { cleanup, freshQueue } from '../queue/support';

let cfg: QueueConfig;
let store: RedisStore;

beforeEach(() => {
  cfg = freshQueue();
  store = new RedisStore({ queue: cfg, secrets: new SecretBox(randomBytes(32)) });
});

afterEach(async () => {
  await store.close();
  await cleanup(cfg);
});

/** Run the CLI in-process with the test's Redis (REDIS_URL and its prefix) and no key. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: s => void out.push(s),
    err: s => void err.push(s),
    env: { REDIS_URL: cfg.url, ECEBOT_QUEUE_PREFIX: cfg.prefix, ...env },
    cwd: process.cwd(),
    isTTY: false,
  };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const fields = async () => {
  const r = new Redis(cfg.url);
  try {
    return Object.keys(await r.hgetall(`${cfg.prefix}:store:secrets`)).sort();
  } finally {
    r.disconnect();
  }
};

test('removes the mailbox’s kept tokens, only those, without printing them', async () => {
  await store.putSecret(refreshTokenKey('prod', 'support@example.com'), '0.Asignin-secret');
  await store.putSecret(
    eceRefreshTokenKey('prod', 'support@example.com'),
    JSON.stringify({ refreshToken: '0.Aece-secret', lineage: 'x' }),
  );
  await store.putSecret(refreshTokenKey('prod', 'sales@example.com'), '0.Aother');
  await store.putSecret(refreshTokenKey('test', 'support@example.com'), '0.Aother-env');

  const res = await cli(['token', 'delete', 'prod', 'Support@Example.com']);
  expect(res.code).toBe(0);
  expect(res.out).toMatch(/deleted the sign-in token and the kept successor of ECE's grant/);
  expect(res.out).toContain('support@example.com in prod');
  for (const s of ['0.Asignin-secret', '0.Aece-secret']) expect(res.out + res.err).not.toContain(s);
  expect(await fields()).toEqual(
    [
      refreshTokenKey('prod', 'sales@example.com'),
      refreshTokenKey('test', 'support@example.com'),
    ].sort(),
  );
  expect(await store.getSecret(refreshTokenKey('prod', 'support@example.com'))).toBeUndefined();
});

test('says when there is no kept token, and changes nothing', async () => {
  await store.putSecret(refreshTokenKey('prod', 'sales@example.com'), '0.Aother');
  const res = await cli(['token', 'delete', 'prod', 'support@example.com']);
  expect(res.code).toBe(0);
  expect(res.out).toMatch(/no kept token for support@example\.com in prod; nothing deleted/);
  expect(await fields()).toEqual([refreshTokenKey('prod', 'sales@example.com')]);
});

test.each([
  [['token', 'delete', 'prod'], /token delete takes an environment and a mailbox/],
  [['token', 'remove', 'prod', 'a@example.com'], /the only action is delete/],
  [['token', 'delete', 'prod', 'not-an-address'], /is not an email address/],
  [['token', 'delete', 'pr od', 'a@example.com'], /is not an environment name/],
])('bad input %j is refused with the fix, exit 2, nothing deleted', async (args, msg) => {
  await store.putSecret(refreshTokenKey('prod', 'a@example.com'), '0.Akept');
  const res = await cli(args);
  expect(res.code).toBe(2);
  expect(res.err).toMatch(msg);
  expect(res.err).toMatch(/ecebot token delete ENV MAILBOX/);
  expect(await fields()).toEqual([refreshTokenKey('prod', 'a@example.com')]);
});

test('without REDIS_URL it says where kept tokens live', async () => {
  const res = await cli(['token', 'delete', 'prod', 'a@example.com'], { REDIS_URL: '' });
  expect(res.code).toBe(2);
  expect(res.err).toMatch(/token delete needs REDIS_URL/);
});
