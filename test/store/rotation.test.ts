/**
 * Rotating ECEBOT_SECRET_KEY with the real Redis store: a value sealed with a key now listed in
 * ECEBOT_SECRET_KEY_OLD opens, and is re-sealed with the current key when read, so the old key
 * can be dropped afterwards (docs/deployment.md, "Rotating ECEBOT_SECRET_KEY").
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { QueueConfig } from '../../src/redis/connection';
import { keyIdOf, SecretBox } from '../../src/store/crypto';
import { RedisStore } from '../../src/store/redis';
import { cleanup, freshQueue } from '../queue/support';

let cfg: QueueConfig;
const stores: RedisStore[] = [];
const open = (vars: NodeJS.ProcessEnv) => {
  const s = new RedisStore({ queue: cfg, vars });
  stores.push(s);
  return s;
};
const raw = async (name: string) => {
  const r = new Redis(cfg.url);
  try {
    return await r.hget(`${cfg.prefix}:store:secrets`, name);
  } finally {
    r.disconnect();
  }
};

beforeEach(() => {
  cfg = freshQueue();
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map(s => s.close()));
  await cleanup(cfg);
});

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

test('after a rotation a value sealed with the old key opens and is re-sealed with the new key', async () => {
  const name = 'rt:lab:support@example.com';
  await open({ ECEBOT_SECRET_KEY: oldKey.toString('base64') }).putSecret(name, '0.Aold-token');
  expect((await raw(name))!.split('.')[1]).toBe(keyIdOf(oldKey));

  const rotated = open({
    ECEBOT_SECRET_KEY: newKey.toString('hex'),
    ECEBOT_SECRET_KEY_OLD: oldKey.toString('base64'),
  });
  expect(await rotated.getSecret(name)).toBe('0.Aold-token');
  const after = (await raw(name))!;
  expect(after.split('.').slice(0, 2)).toEqual(['v2', keyIdOf(newKey)]);
  expect(after).not.toContain('0.Aold-token');

  // Re-sealed for real: the new key alone opens it now, the old key alone no longer does.
  expect(await open({ ECEBOT_SECRET_KEY: newKey.toString('hex') }).getSecret(name)).toBe(
    '0.Aold-token',
  );
  await expect(
    open({ ECEBOT_SECRET_KEY: oldKey.toString('base64') }).getSecret(name),
  ).rejects.toMatchObject({ code: 'SECRET_KEY_UNKNOWN' });
});

test('writes always use the current key', async () => {
  const s = open({
    ECEBOT_SECRET_KEY: newKey.toString('hex'),
    ECEBOT_SECRET_KEY_OLD: oldKey.toString('hex'),
  });
  await s.putSecret('rt:lab:a@example.com', 'x');
  expect((await raw('rt:lab:a@example.com'))!.split('.')[1]).toBe(keyIdOf(newKey));
});

test('re-sealing never replaces a newer value written since it was read', async () => {
  const s = new RedisStore({ queue: cfg, secrets: new SecretBox(newKey) });
  stores.push(s);
  const name = 'rt-ece:lab:support@example.com';
  await s.putSecret(name, 'newer');
  const newer = (await raw(name))!;
  // A reader that saw an older value tries to re-seal it: the newer value stays.
  expect(await s.resealIfUnchanged(name, 'v2.older-sealed-value', 'v2.resealed')).toBe(false);
  expect(await raw(name)).toBe(newer);
  expect(await s.resealIfUnchanged(name, newer, 'v2.resealed')).toBe(true);
  expect(await raw(name)).toBe('v2.resealed');
});
