/**
 * The Redis memory of one environment whose history is full (docs/history.md): records
 * ECEBOT_HISTORY_RUNS (default 3000) runs judging all nine items under a throwaway key prefix,
 * then prints MEMORY USAGE of its ten keys and the INFO memory delta, and deletes the keys.
 * `npm run build` first; REDIS_URL (default redis://127.0.0.1:6379).
 */
'use strict';
const { randomBytes } = require('node:crypto');
const { Redis } = require('ioredis');
const { itemIds } = require('../dist/checklist/items');
const { RedisItemHistory, retentionFrom } = require('../dist/store/item-history');

async function main() {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `memtest${randomBytes(4).toString('hex')}`;
  const retention = retentionFrom(process.env);
  const items = itemIds();
  const redis = new Redis(url);
  const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
  const start = Date.now() - retention.maxRuns * 60_000;
  const history = new RedisItemHistory({ url, prefix }, retention);
  try {
    for (let n = 0; n < retention.maxRuns; n++) {
      const at = new Date(start + n * 60_000).toISOString();
      // A run id as the bot makes them: ENV-YYYYMMDDHHMMSS-xxxx.
      const id = `prod-${at.replace(/\D/g, '').slice(0, 14)}-${(n % 65536).toString(16).padStart(4, '0')}`;
      await history.record({
        id,
        environment: 'prod',
        startedAt: at,
        finishedAt: at,
        status: 'pass',
        ece: {},
        findings: items.map(item => ({ item, status: n % 7 ? 'pass' : 'fail' })),
      });
    }
    const keys = [history.key('prod'), ...items.map(i => history.key('prod', i))];
    let usage = 0;
    for (const k of keys) usage += Number(await redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
    const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
    const members = await Promise.all(keys.map(k => redis.zcard(k)));
    console.log(
      JSON.stringify({
        redis: (/redis_version:(\S+)/.exec(await redis.info('server')) ?? [])[1],
        maxRuns: retention.maxRuns,
        keys: keys.length,
        members: members.reduce((a, b) => a + b, 0),
        memoryUsageBytes: usage,
        bytesPerMark: Math.round(usage / members.reduce((a, b) => a + b, 0)),
        infoUsedMemoryDeltaBytes: after - before,
      }),
    );
  } finally {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (found.length) await redis.del(...found);
    } while (cursor !== '0');
    await history.close();
    redis.disconnect();
  }
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
