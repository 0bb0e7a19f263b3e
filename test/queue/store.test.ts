/**
 * The Redis store against the real Redis, held to the same behaviour as the memory store
 * (one suite runs on both), plus what only Redis does: TTLs, bounded history with the dropped
 * runs' data deleted, state shared between instances, and secrets sealed with AES-256-GCM and
 * refused without a key.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Run } from '../../src/model';
import type { QueueConfig } from '../../src/redis/connection';
import { SecretBox, SecretKeyError } from '../../src/store/crypto';
import { MemoryStore } from '../../src/store/memory';
import { RedisStore } from '../../src/store/redis';
import type { Store } from '../../src/store/types';
import { cleanup, findingOf, freshQueue } from './support';

function run(env: string, n: number, status: Run['status'] = 'pass'): Run {
  const at = new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString();
  return {
    id: `${env}-2026110100${String(n).padStart(2, '0')}00-${n.toString(16).padStart(4, '0')}`,
    environment: env,
    startedAt: at,
    finishedAt: at,
    status,
    ece: { version: '12.6(1)', es: 1 },
    findings: status === 'pass' ? [] : [findingOf('network', 'fail')],
  };
}

const key = randomBytes(32);
let cfg: QueueConfig;
const opened: Store[] = [];

beforeEach(() => {
  cfg = freshQueue();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map(s => s.close()));
  await cleanup(cfg);
});

const makers: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['redis', () => new RedisStore({ queue: cfg, secrets: new SecretBox(key), historyLimit: 50 })],
];

describe.each(makers)('%s store: shared behaviour', (_name, make) => {
  const store = () => {
    const s = make();
    opened.push(s);
    return s;
  };

  test('runs: save, get, history newest first, search by id or environment', async () => {
    const s = store();
    for (let i = 1; i <= 3; i++) await s.saveRun(run('prod', i, i === 2 ? 'fail' : 'pass'));
    await s.saveRun(run('staging', 4));
    expect((await s.getRun(run('prod', 2).id))?.status).toBe('fail');
    expect(await s.getRun('nope')).toBeUndefined();
    const h = await s.history('prod', 10);
    expect(h.map(x => x.id)).toEqual([3, 2, 1].map(i => run('prod', i).id));
    expect(h[1]!.problems).toEqual([{ item: 'network', status: 'fail' }]);
    expect((await s.history('prod', 1)).map(x => x.id)).toEqual([run('prod', 3).id]);
    expect((await s.searchRuns('STAG', 10)).map(x => x.environment)).toEqual(['staging']);
    expect((await s.searchRuns(run('prod', 1).id.slice(0, 22), 10)).map(x => x.id)).toEqual([
      run('prod', 1).id,
    ]);
    expect(await s.searchRuns('', 2)).toHaveLength(2);
  });

  test('conversations, subscriptions, mutes and cards', async () => {
    const s = store();
    const ref = {
      serviceUrl: 'https://smba.example/',
      conversation: { id: '19:abc@thread.tacv2' },
    };
    await s.saveConversation('c1', ref);
    expect(await s.getConversation('c1')).toEqual(ref);
    expect(await s.getConversation('c2')).toBeUndefined();

    await s.subscribe('prod', 'c1');
    await s.subscribe('prod', 'c2');
    await s.subscribe('staging', 'c1');
    expect((await s.subscribers('prod')).sort()).toEqual(['c1', 'c2']);
    expect((await s.subscriptionsOf('c1')).sort()).toEqual(['prod', 'staging']);
    expect(await s.unsubscribe('prod', 'c2')).toBe(true);
    expect(await s.unsubscribe('prod', 'c2')).toBe(false);
    expect(await s.subscribers('prod')).toEqual(['c1']);

    const until = new Date(Date.now() + 3600_000);
    await s.setMute('prod', until);
    expect((await s.mutedUntil('prod'))?.toISOString()).toBe(until.toISOString());
    await s.setMute('prod', undefined);
    expect(await s.mutedUntil('prod')).toBeUndefined();
    await s.setMute('prod', new Date(Date.now() - 1000));
    expect(await s.mutedUntil('prod')).toBeUndefined();

    await s.addCard('r1', { conversation: 'c1', activityId: 'a1' });
    await s.addCard('r1', { conversation: 'c1', activityId: 'a1' });
    await s.addCard('r1', { conversation: 'c2', activityId: 'a2' });
    expect(
      (await s.cards('r1')).sort((a, b) => a.conversation.localeCompare(b.conversation)),
    ).toEqual([
      { conversation: 'c1', activityId: 'a1' },
      { conversation: 'c2', activityId: 'a2' },
    ]);
  });

  test('secrets round-trip', async () => {
    const s = store();
    await s.putSecret('rt:support@example.com', 'M.refresh-token-value');
    expect(await s.getSecret('rt:support@example.com')).toBe('M.refresh-token-value');
    expect(await s.getSecret('rt:other')).toBeUndefined();
  });
});

describe('redis store: what only Redis does', () => {
  const redis = () => {
    const r = new Redis(cfg.url);
    return r;
  };

  test('history is bounded: the oldest runs and their data go; runs carry a TTL', async () => {
    const s = new RedisStore({
      queue: cfg,
      secrets: new SecretBox(key),
      historyLimit: 3,
      runTtlMs: 3600_000,
    });
    opened.push(s);
    for (let i = 1; i <= 5; i++) await s.saveRun(run('prod', i));
    expect((await s.history('prod', 10)).map(x => x.id)).toEqual(
      [5, 4, 3].map(i => run('prod', i).id),
    );
    expect(await s.getRun(run('prod', 1).id)).toBeUndefined();
    const r = redis();
    try {
      const ttl = await r.pttl(`${cfg.prefix}:store:run:${run('prod', 5).id}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3600_000);
      expect(await r.exists(`${cfg.prefix}:store:summary:${run('prod', 1).id}`)).toBe(0);
    } finally {
      r.disconnect();
    }
  });

  test('state lives in Redis: a second instance (another replica) sees it', async () => {
    const a = new RedisStore({ queue: cfg, secrets: new SecretBox(key) });
    const b = new RedisStore({ queue: cfg, secrets: new SecretBox(key) });
    opened.push(a, b);
    await a.subscribe('prod', 'c1');
    await a.saveRun(run('prod', 1));
    await a.setMute('prod', new Date(Date.now() + 60_000));
    await a.putSecret('s', 'value-1234');
    expect(await b.subscribers('prod')).toEqual(['c1']);
    expect((await b.history('prod', 5)).map(x => x.id)).toEqual([run('prod', 1).id]);
    expect(await b.mutedUntil('prod')).toBeDefined();
    expect(await b.getSecret('s')).toBe('value-1234');
  });

  test('secrets are sealed at rest, bound to their name, and unreadable with another key', async () => {
    const s = new RedisStore({ queue: cfg, secrets: new SecretBox(key) });
    opened.push(s);
    const secret = `M.${randomBytes(24).toString('hex')}`;
    await s.putSecret('rt:a', secret);
    await s.putSecret('rt:b', 'other-value');
    const r = redis();
    try {
      const raw = await r.hgetall(`${cfg.prefix}:store:secrets`);
      expect(JSON.stringify(raw)).not.toContain(secret);
      expect(raw['rt:a']).toMatch(/^v2\.[0-9a-f]{8}\./);
      // Moved to another name: the GCM tag (with the name as AAD) refuses it.
      await r.hset(`${cfg.prefix}:store:secrets`, 'rt:b', raw['rt:a']!);
      await expect(s.getSecret('rt:b')).rejects.toThrow(/secret rt:b cannot be opened/);
    } finally {
      r.disconnect();
    }
    const other = new RedisStore({ queue: cfg, secrets: new SecretBox(randomBytes(32)) });
    opened.push(other);
    await expect(other.getSecret('rt:a')).rejects.toThrow(/neither ECEBOT_SECRET_KEY/);
  });

  test('without ECEBOT_SECRET_KEY it refuses to store a secret, with a clear error', async () => {
    const s = new RedisStore({ queue: cfg, vars: {} });
    opened.push(s);
    const put = s.putSecret('rt:a', 'value');
    await expect(put).rejects.toBeInstanceOf(SecretKeyError);
    await expect(put).rejects.toThrow(
      /refusing to store secret rt:a: ECEBOT_SECRET_KEY is not set/,
    );
    expect(() => new RedisStore({ queue: cfg, vars: { ECEBOT_SECRET_KEY: 'short' } })).toThrow(
      /ECEBOT_SECRET_KEY must be 32 bytes/,
    );
    const hex = new RedisStore({ queue: cfg, vars: { ECEBOT_SECRET_KEY: key.toString('hex') } });
    const b64 = new RedisStore({ queue: cfg, vars: { ECEBOT_SECRET_KEY: key.toString('base64') } });
    opened.push(hex, b64);
    await hex.putSecret('k', 'same key either way');
    expect(await b64.getSecret('k')).toBe('same key either way');
  });
});
