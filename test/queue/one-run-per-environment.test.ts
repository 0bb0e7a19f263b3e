/**
 * At most one run per environment is in flight, whatever items a request names: every run signs
 * in to Exchange as ECE's mailboxes, so five crafted Re-run presses with five item sets must
 * not become five sign-ins. A request the running run covers joins it; any other is refused
 * (RunBusyError) until that run has finished. Real Redis (127.0.0.1), a random prefix.
 */
import { Redis } from 'ioredis';
import { itemIds } from '../../src/checklist/items';
import type { ItemId } from '../../src/model';
import { InFlightRegistry } from '../../src/queue/in-flight';
import { SILENT_QUEUE_LOG } from '../../src/queue/log';
import { keys } from '../../src/queue/names';
import { withScripts, type ScriptedRedis } from '../../src/queue/scripts';
import { cleanup, freshQueue } from './support';

const cfg = freshQueue();
let redis: ScriptedRedis;
/** The runs queue's view of a job: every run named here is still running. */
const running = { getJobState: async () => 'active' as const };

beforeAll(() => {
  redis = withScripts(new Redis(cfg.url, { maxRetriesPerRequest: 1 }));
});
afterAll(async () => {
  redis.disconnect();
  await cleanup(cfg);
});

const TTL = 60_000;
/** A run id as ecebot makes it (`<env>-<yyyymmddhhmmss>-<4 hex>`): in-flight values are checked. */
const rid = (env: string, n: number) => `${env}-20261203070000-000${n}`;
const [a, b, c] = itemIds() as [ItemId, ItemId, ItemId];
const ENV = 'Prod';

test('five presses with five different item sets: one claim, the rest join or are refused', async () => {
  const reg = new InFlightRegistry(redis, running, SILENT_QUEUE_LOG);
  const key = keys.inFlight(cfg.prefix, 'Prod');
  const first = await reg.claim(key, rid(ENV, 1), [a, b], TTL);
  expect(first).toHaveProperty('claimed');
  const answers = await Promise.all([
    reg.claim(key, rid(ENV, 2), [a], TTL),
    reg.claim(key, rid(ENV, 3), [b, a], TTL),
    reg.claim(key, rid(ENV, 4), [c], TTL),
    reg.claim(key, rid(ENV, 5), [a, c], TTL),
    reg.claim(key, rid(ENV, 6), [], TTL),
  ]);
  // Narrower: joins the wider run in flight.
  expect(answers[0]).toEqual({ joined: rid(ENV, 1) });
  expect(answers[1]).toEqual({ joined: rid(ENV, 1) });
  // Other or wider (empty = every item): refused, naming the run in flight.
  expect(answers[2]).toEqual({ busy: { runId: rid(ENV, 1), items: [a, b] } });
  expect(answers[3]).toEqual({ busy: { runId: rid(ENV, 1), items: [a, b] } });
  expect(answers[4]).toEqual({ busy: { runId: rid(ENV, 1), items: [a, b] } });
  expect(answers.filter(x => 'claimed' in x)).toHaveLength(0);
});

test('environment names differ only in case: still one environment', () => {
  expect(keys.inFlight(cfg.prefix, 'Prod')).toBe(keys.inFlight(cfg.prefix, 'prod'));
});

test('once the run has released its key, the next request starts a run', async () => {
  const reg = new InFlightRegistry(redis, running, SILENT_QUEUE_LOG);
  const key = keys.inFlight(cfg.prefix, 'test');
  expect(await reg.claim(key, rid('test', 7), [c], TTL)).toHaveProperty('claimed');
  await reg.release(key, rid('test', 7));
  expect(await reg.claim(key, rid('test', 8), [a], TTL)).toHaveProperty('claimed');
});
