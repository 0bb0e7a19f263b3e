/**
 * The per-item history on the real Redis and in memory, held to the same behaviour (one suite
 * runs on both): marks per environment and per item, a run recorded twice counted once,
 * retention by count and by age, and what only Redis does: every key carries a TTL of the
 * retention age, unreadable members are left out, and the memory of a full environment stays
 * under the bound its retention rule sets (docs/history.md).
 */
import { Redis } from 'ioredis';
import type { ItemId, Run, Status } from '../../src/model';
import type { QueueConfig } from '../../src/redis/connection';
import {
  MemoryItemHistory,
  RedisItemHistory,
  retentionFrom,
  type HistoryRetention,
  type ItemHistory,
} from '../../src/store/item-history';
import { cleanup, findingOf, freshQueue, REDIS_URL } from '../queue/support';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

/** Run n of `env`, finished n minutes after T0 (or at `at`), with these item statuses. */
function run(env: string, n: number, items: Partial<Record<ItemId, Status>>, at?: number): Run {
  const finished = new Date(at ?? T0 + n * 60_000).toISOString();
  const findings = Object.entries(items).map(([item, s]) => findingOf(item as ItemId, s));
  return {
    id: `${env}-run-${n}`,
    environment: env,
    startedAt: finished,
    finishedAt: finished,
    status: findings.some(f => f.status === 'fail' || f.status === 'error')
      ? 'fail'
      : findings.some(f => f.status === 'warn')
        ? 'warn'
        : 'pass',
    ece: { version: '12.6(1)', es: 1 },
    findings,
  };
}

let cfg: QueueConfig;
let clock: number;
const opened: ItemHistory[] = [];

beforeEach(() => {
  cfg = freshQueue();
  clock = T0 + DAY;
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map(h => h.close()));
  await cleanup(cfg);
});

const makers: [string, (r: HistoryRetention) => ItemHistory][] = [
  ['memory', r => new MemoryItemHistory(r, () => new Date(clock))],
  ['redis', r => new RedisItemHistory(cfg, r, () => new Date(clock))],
];

describe.each(makers)('%s item history', (_name, make) => {
  const open = (r: HistoryRetention = { maxRuns: 100, maxAgeMs: 30 * DAY }) => {
    const h = make(r);
    opened.push(h);
    return h;
  };

  test('marks per environment and per item, oldest first; a run recorded twice counts once', async () => {
    const h = open();
    await h.record(run('prod', 2, { network: 'fail', token: 'pass' }));
    await h.record(run('prod', 1, { network: 'pass', token: 'warn' }));
    await h.record(run('prod', 2, { network: 'fail', token: 'pass' }));
    await h.record(run('staging', 3, { network: 'pass' }));
    expect(await h.marks({ environment: 'prod' })).toEqual([
      { runId: 'prod-run-1', at: new Date(T0 + 60_000).toISOString(), status: 'warn' },
      { runId: 'prod-run-2', at: new Date(T0 + 120_000).toISOString(), status: 'fail' },
    ]);
    expect((await h.marks({ environment: 'prod', item: 'network' })).map(m => m.status)).toEqual([
      'pass',
      'fail',
    ]);
    expect((await h.marks({ environment: 'prod', item: 'token' })).map(m => m.status)).toEqual([
      'warn',
      'pass',
    ]);
    // An item the runs did not judge has no marks; another environment's are apart.
    expect(await h.marks({ environment: 'prod', item: 'license' })).toEqual([]);
    expect((await h.marks({ environment: 'staging' })).map(m => m.runId)).toEqual([
      'staging-run-3',
    ]);
    expect(
      (await h.marks({ environment: 'prod', since: new Date(T0 + 90_000) })).map(m => m.runId),
    ).toEqual(['prod-run-2']);
  });

  test('retention: at most maxRuns per environment and per item, the newest kept', async () => {
    const h = open({ maxRuns: 3, maxAgeMs: 30 * DAY });
    for (let n = 1; n <= 5; n++) await h.record(run('prod', n, { network: 'pass' }));
    expect((await h.marks({ environment: 'prod' })).map(m => m.runId)).toEqual([
      'prod-run-3',
      'prod-run-4',
      'prod-run-5',
    ]);
    expect(await h.marks({ environment: 'prod', item: 'network' })).toHaveLength(3);
  });

  test('retention: marks older than maxAge are gone, read or written', async () => {
    const h = open({ maxRuns: 100, maxAgeMs: 2 * DAY });
    await h.record(run('prod', 1, { network: 'pass' }, T0));
    await h.record(run('prod', 2, { network: 'fail' }, T0 + 2 * DAY));
    // Now T0 + 1 day: both inside two days.
    expect(await h.marks({ environment: 'prod', item: 'network' })).toHaveLength(2);
    clock = T0 + 3 * DAY;
    // Read three days on: run 1 is past the age even though nothing was written since.
    expect((await h.marks({ environment: 'prod' })).map(m => m.runId)).toEqual(['prod-run-2']);
    await h.record(run('prod', 3, { network: 'pass' }, T0 + 3 * DAY));
    expect((await h.marks({ environment: 'prod', item: 'network' })).map(m => m.runId)).toEqual([
      'prod-run-2',
      'prod-run-3',
    ]);
  });
});

describe('redis item history: what only Redis does', () => {
  const raw = () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    return r;
  };

  test('every key expires after the retention age, and old members are removed on write', async () => {
    const h = new RedisItemHistory(cfg, { maxRuns: 100, maxAgeMs: 2 * DAY }, () => new Date(clock));
    opened.push(h);
    const r = raw();
    try {
      await h.record(run('prod', 1, { network: 'pass', token: 'fail' }, T0));
      clock = T0 + 3 * DAY;
      await h.record(run('prod', 2, { network: 'pass' }, clock));
      for (const key of [h.key('prod'), h.key('prod', 'network'), h.key('prod', 'token')]) {
        const ttl = await r.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(2 * DAY);
      }
      // Written to after three days: run 1's mark is deleted, not only hidden.
      expect(await r.zcard(h.key('prod'))).toBe(1);
      expect(await r.zcard(h.key('prod', 'network'))).toBe(1);
    } finally {
      r.disconnect();
    }
  });

  test('a member this version cannot read is left out', async () => {
    const h = new RedisItemHistory(
      cfg,
      { maxRuns: 100, maxAgeMs: 30 * DAY },
      () => new Date(clock),
    );
    opened.push(h);
    await h.record(run('prod', 1, { network: 'pass' }));
    const r = raw();
    try {
      await r.zadd(h.key('prod'), T0 + 120_000, 'not json', T0 + 180_000, '{"r":"x","s":"broken"}');
    } finally {
      r.disconnect();
    }
    expect((await h.marks({ environment: 'prod' })).map(m => m.runId)).toEqual(['prod-run-1']);
  });

  test('a full environment stays under the memory bound of its retention rule', async () => {
    // Nine items, maxRuns marks on each key and the environment's: 10 keys of maxRuns members.
    const maxRuns = 500;
    const h = new RedisItemHistory(cfg, { maxRuns, maxAgeMs: 30 * DAY }, () => new Date(clock));
    opened.push(h);
    const items: ItemId[] = [
      'version',
      'external-url',
      'app-registration',
      'token',
      'mailbox-protocols',
      'license',
      'mailbox-rights',
      'network',
      'connectivity',
    ];
    const all = Object.fromEntries(items.map(i => [i, 'pass'])) as Record<ItemId, Status>;
    // More runs than kept: the bound must hold because of the trimming, not the test's count.
    for (let n = 1; n <= maxRuns + 50; n++)
      await h.record({
        ...run('prod', n, all, T0 + n * 60_000),
        id: `prod-${String(20261101000000 + n)}-${n.toString(16).padStart(4, '0')}`,
      });
    const r = raw();
    try {
      let bytes = 0;
      for (const key of [h.key('prod'), ...items.map(i => h.key('prod', i))]) {
        expect(await r.zcard(key)).toBe(maxRuns);
        bytes += Number(await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
      }
      // The bound from the rule: 10 keys × maxRuns members, each member at most its JSON
      // (~50 bytes for a run id like the bot's) + a score (8) + skiplist and dict overhead,
      // generously 200 bytes per member, plus 1 KB per key.
      expect(bytes).toBeLessThanOrEqual(10 * (maxRuns * 200 + 1024));
      expect(bytes).toBeGreaterThan(0);
    } finally {
      r.disconnect();
    }
  }, 60_000);
});

describe('retention settings', () => {
  test('defaults, and the two variables', () => {
    expect(retentionFrom({})).toEqual({ maxRuns: 3000, maxAgeMs: 31 * DAY });
    expect(retentionFrom({ ECEBOT_HISTORY_RUNS: '100', ECEBOT_HISTORY_MAX_AGE: '12w' })).toEqual({
      maxRuns: 100,
      maxAgeMs: 84 * DAY,
    });
  });

  test.each([
    ['ECEBOT_HISTORY_RUNS', '0', /ECEBOT_HISTORY_RUNS must be a whole number from 1/],
    ['ECEBOT_HISTORY_RUNS', 'lots', /got "lots"/],
    ['ECEBOT_HISTORY_RUNS', '1000000', /from 1 to 200000/],
    ['ECEBOT_HISTORY_MAX_AGE', '31', /ECEBOT_HISTORY_MAX_AGE must be a span such as 31d/],
    ['ECEBOT_HISTORY_MAX_AGE', '500d', /at most 400d/],
  ])('%s=%s is refused, naming the variable and the fix', (name, value, message) => {
    expect(() => retentionFrom({ [name]: value })).toThrow(message);
    try {
      retentionFrom({ [name]: value });
    } catch (err) {
      expect((err as { hint?: string }).hint).toMatch(new RegExp(`set ${name}=`));
    }
  });
});
