/**
 * Values read back from Redis are hostile until parsed (docs/security.md, "What Redis keeps"):
 * garbage or tampered JSON written straight into the keys ecebot reads, against the real Redis.
 * Per value, the documented behaviour: a clear error naming the key (a stored run, a finished
 * run being waited for), or skipped with a warning (list entries, card references, subscription
 * members, a mute, an alert state, a forecast); an outbox entry fails without being sent. A
 * `__proto__` key never reaches a prototype.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ConnectorNotifier } from '../../src/notify/connector';
import { Outbox } from '../../src/notify/outbox';
import { AlertPipeline } from '../../src/notify/pipeline';
import { serviceUrlPolicyFrom } from '../../src/notify/service-url';
import { keys, OUTBOX_QUEUE } from '../../src/queue/names';
import { RunClient } from '../../src/queue/run-client';
import type { QueueConfig } from '../../src/redis/connection';
import { parseJsonSafely, StoredDataError } from '../../src/redis/stored';
import { MemoryStore } from '../../src/store/memory';
import { RedisStore } from '../../src/store/redis';
import { readConversation } from '../../src/teams/conversations';
import type { Run } from '../../src/model';
import { cleanup, freshQueue, REDIS_URL, until } from './support';
import { startFakeConnector } from './support-connector';

/** A run as the assembler writes it (fixture: one passing item). */
const RUN: Run = {
  id: 'lab-20260101120000-abcd',
  environment: 'lab',
  startedAt: '2026-01-01T12:00:00.000Z',
  finishedAt: '2026-01-01T12:00:05.000Z',
  status: 'pass',
  ece: { version: '12.6(1)', es: 10 },
  findings: [
    {
      item: 'network',
      title: 'Network',
      status: 'pass',
      summary: 'every endpoint answered',
      code: 'OK',
      codes: [],
      evidence: [
        {
          vantage: 'services-1',
          target: 'outlook.office365.com:993',
          text: 'connected in 3 ms',
          code: 'OK',
          ok: true,
          transcript: ['S: * OK ready'],
        },
      ],
      remediation: [],
      failedOn: [],
      vantages: ['services-1'],
      durationMs: 3,
    },
  ],
};

const POLLUTE = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';

function notPolluted(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
}

let cfg: QueueConfig;
let r: Redis;
const warnings: { obj: object; msg?: string }[] = [];
const log = {
  info: () => undefined,
  warn: (obj: object, msg?: string) => void warnings.push({ obj, ...(msg ? { msg } : {}) }),
  error: () => undefined,
};
const closers: (() => Promise<unknown>)[] = [];

beforeEach(() => {
  cfg = freshQueue();
  r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  warnings.length = 0;
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  r.disconnect();
  await cleanup(cfg);
});

function redisStore(): RedisStore {
  const s = new RedisStore({ queue: cfg, secrets: undefined, log });
  closers.push(() => s.close());
  return s;
}

test('parseJsonSafely drops __proto__, constructor and prototype keys at every depth', () => {
  const v = parseJsonSafely(`{"a":${POLLUTE},"b":[${POLLUTE}]}`) as Record<string, unknown>;
  // Merged the way a careless caller would: no prototype changes hands.
  Object.assign({}, v, v.a, (v.b as unknown[])[0]);
  notPolluted();
  expect(Object.hasOwn(v.a as object, '__proto__')).toBe(false);
  // Plain JSON.parse would have kept it as an own key (the reason for the reviver).
  expect(Object.hasOwn(JSON.parse(POLLUTE) as object, '__proto__')).toBe(true);
});

describe('the Redis store', () => {
  test('a stored run that is garbage, tampered or another run is a clear error naming the key', async () => {
    const store = redisStore();
    const key = `${cfg.prefix}:store:run:${RUN.id}`;
    for (const [raw, problem] of [
      ['{not json', /not JSON/],
      [JSON.stringify({ ...RUN, status: 'great' }), /status/],
      [JSON.stringify({ ...RUN, findings: [{ ...RUN.findings[0], code: 'RM_RF' }] }), /code/],
      [JSON.stringify({ ...RUN, id: 'lab-20260101120000-ffff' }), /it is run/],
    ] as const) {
      await r.set(key, raw);
      const err = (await store.getRun(RUN.id).catch((e: unknown) => e)) as StoredDataError;
      expect(err).toBeInstanceOf(StoredDataError);
      expect(err.code).toBe('STORED_DATA_INVALID');
      expect(err.message).toContain(key);
      expect(err.message).toMatch(problem);
      expect(err.message).toMatch(/Delete the key/);
    }
    // Extra keys and __proto__ are dropped; the run itself reads back as written.
    await r.set(key, JSON.stringify(RUN).replace(/^\{/, `{"__proto__":{"polluted":"yes"},"x":1,`));
    expect(await store.getRun(RUN.id)).toEqual(RUN);
    notPolluted();
  });

  test('bad summaries, card references, subscription members and mutes are skipped with a warning', async () => {
    const store = redisStore();
    await store.saveRun(RUN);
    const other = { ...RUN, id: 'lab-20260101130000-beef', finishedAt: '2026-01-01T13:00:05.000Z' };
    await store.saveRun(other);
    await r.set(`${cfg.prefix}:store:summary:${other.id}`, '{"id":1}');
    expect((await store.history('lab', 10)).map(s => s.id)).toEqual([RUN.id]);

    await store.addCard(RUN.id, { conversation: 'conv-a', activityId: '1' });
    await r.sadd(`${cfg.prefix}:store:cards:${RUN.id}`, 'garbage', POLLUTE);
    expect(await store.cards(RUN.id)).toEqual([{ conversation: 'conv-a', activityId: '1' }]);

    await store.subscribe('lab', 'conv-a');
    await r.sadd(`${cfg.prefix}:store:subs:lab`, 'evil\u0000conv', 'x'.repeat(5000));
    expect(await store.subscribers('lab')).toEqual(['conv-a']);

    await r.set(`${cfg.prefix}:store:mute:lab`, 'forever');
    expect(await store.mutedUntil('lab')).toBeUndefined();
    const until = new Date(Date.now() + 3600_000);
    await store.setMute('lab', until);
    expect(await store.mutedUntil('lab')).toEqual(until);

    const skipped = warnings.map(w => (w.obj as { err?: StoredDataError }).err?.key);
    expect(skipped).toEqual(
      expect.arrayContaining([
        `${cfg.prefix}:store:summary:${other.id}`,
        `${cfg.prefix}:store:cards:${RUN.id}`,
        `${cfg.prefix}:store:subs:lab`,
        `${cfg.prefix}:store:mute:lab`,
      ]),
    );
    notPolluted();
  });

  test('a conversation reference that is not JSON reads as malformed, not as a crash', async () => {
    const store = redisStore();
    await r.hset(`${cfg.prefix}:store:conversations`, 'conv-a', '{"serviceUrl":');
    expect(await readConversation(store, 'conv-a')).toEqual({
      state: 'malformed',
      fields: ['(record)'],
    });
    await r.hset(`${cfg.prefix}:store:conversations`, 'conv-b', POLLUTE);
    expect((await readConversation(store, 'conv-b')).state).toBe('malformed');
    notPolluted();
  });
});

describe('the run client', () => {
  test('a finished run that is garbage or tampered fails `wait` with a clear error', async () => {
    const client = new RunClient({
      queue: cfg,
      inventory: () => {
        throw new Error('not read by wait');
      },
      log,
    });
    closers.push(() => client.close());
    await client.ready();
    await r.set(keys.result(cfg.prefix, RUN.id), '{"id":"lab-20260101120000-abcd","findings":7}');
    const err = (await client.wait(RUN.id).catch((e: unknown) => e)) as StoredDataError;
    expect(err).toBeInstanceOf(StoredDataError);
    expect(err.message).toContain(keys.result(cfg.prefix, RUN.id));
    // The same key holding the run: `wait` answers it.
    await r.set(keys.result(cfg.prefix, RUN.id), JSON.stringify(RUN));
    expect(await client.wait(RUN.id)).toEqual(RUN);
  });

  test('a completed event whose return value is not a run id is skipped with a warning', async () => {
    const client = new RunClient({
      queue: cfg,
      inventory: () => {
        throw new Error('not read');
      },
      log,
    });
    closers.push(() => client.close());
    await client.ready();
    const done: Run[] = [];
    client.onDone(run => done.push(run));
    // Added until it is read: QueueEvents follows the stream from `$`, from when it first reads.
    await until(async () => {
      await r.xadd(
        `${cfg.prefix}:runs:events`,
        '*',
        'event',
        'completed',
        'jobId',
        RUN.id,
        'returnvalue',
        POLLUTE,
      );
      return warnings.some(w => w.msg === 'completed event without a readable run');
    });
    expect(done).toEqual([]);
    notPolluted();
  });
});

describe('alerts and the outbox', () => {
  test('an alert state or forecast that is not one is logged and started afresh', async () => {
    const store = new MemoryStore();
    const outbox = new Outbox({ queue: cfg });
    closers.push(() => outbox.close());
    const pipeline = new AlertPipeline({ queue: cfg, store, outbox, log });
    closers.push(() => pipeline.close());
    await r.set(`${cfg.prefix}:alerts:lab`, '{"items":{"network":{"failures":"many"}}}');
    expect(await pipeline.state('lab')).toEqual({ items: {} });
    await r.set(
      `${cfg.prefix}:alerts:lab`,
      '{"lastRunId":"x","items":{"__proto__":{"failures":1,"alerting":true},"bogus":{"failures":1,"alerting":true},"network":{"failures":2,"alerting":true}}}',
    );
    expect(await pipeline.state('lab')).toEqual({
      lastRunId: 'x',
      items: { network: { failures: 2, alerting: true } },
    });
    await r.set(`${cfg.prefix}:forecast:lab`, '[]');
    await store.subscribe('lab', 'conv-a');
    expect(await pipeline.digest(['lab'], new Date())).toBe(0);
    expect(warnings.map(w => w.msg)).toEqual([
      'alert state unreadable; starting afresh',
      'forecast skipped',
    ]);
    notPolluted();
  });

  test('an outbox entry tampered in Redis fails without being sent; the next one is sent', async () => {
    const connector = await startFakeConnector();
    closers.push(() => connector.close());
    const store = new MemoryStore();
    await store.saveConversation('conv-a', {
      serviceUrl: connector.url,
      conversation: { id: '19:a@thread.tacv2' },
      bot: { id: '28:bot', name: 'ecebot' },
    });
    const box = new Outbox({
      queue: cfg,
      notifier: new ConnectorNotifier({ store, serviceUrls: serviceUrlPolicyFrom({}) }),
    });
    closers.push(() => box.close());
    await box.enqueue({ conversation: 'conv-a', message: { text: 'tampered' } }, 'one');
    await box.enqueue({ conversation: 'conv-a', message: { text: 'fine' } }, 'two');
    await r.hset(
      `${cfg.prefix}:${OUTBOX_QUEUE}:one`,
      'data',
      '{"conversation":"conv-a","message":{}}',
    );
    await box.start();
    await until(async () => connector.received.length === 1);
    expect(connector.received.map(x => x.activity.text)).toEqual(['fine']);
    // BullMQ leaves a connection it was given open on close: quit it here too.
    const conn = r.duplicate();
    const q = new Queue(OUTBOX_QUEUE, { prefix: cfg.prefix, connection: conn });
    closers.push(async () => {
      await q.close();
      await conn.quit();
    });
    const job = await q.getJob('one');
    expect(await job?.getState()).toBe('failed');
    expect(job?.failedReason).toMatch(
      /an outbox entry at Redis key .*:outbox:one is not valid \(message: neither card nor text/,
    );
  });
});
