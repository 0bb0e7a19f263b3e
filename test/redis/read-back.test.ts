/**
 * Values read back from Redis are checked before use (Redis is a trust boundary): an in-flight
 * key (coalescing of concurrent checks, src/queue/in-flight.ts) that names another
 * environment's run, or holds garbage, is never joined — a requester would otherwise be handed
 * (and shown) a run it did not ask for — and does not block submits; it is taken over.
 * Against the real Redis (127.0.0.1:6379) under a random prefix.
 */
import { Queue } from 'bullmq';
import { SILENT_QUEUE_LOG } from '../../src/queue/log';
import { InFlightRegistry } from '../../src/queue/in-flight';
import { keys, RUNS_QUEUE } from '../../src/queue/names';
import { withScripts } from '../../src/queue/scripts';
import { connect, firstConnection, type QueueConfig } from '../../src/redis/connection';
import { cleanup, freshQueue } from '../queue/support';

let cfg: QueueConfig;
let redis: ReturnType<typeof withScripts>;
let runs: Queue;

beforeEach(async () => {
  cfg = freshQueue();
  redis = withScripts(connect(cfg, 'producer'));
  await firstConnection(redis);
  runs = new Queue(RUNS_QUEUE, { prefix: cfg.prefix, connection: redis });
});
afterEach(async () => {
  await runs.close();
  redis.disconnect();
  await cleanup(cfg);
});

const mine = 'lab-20261203070000-ab12';

test.each([
  ['another environment’s run, fresh', { runId: 'other-20261203065959-cd34', at: Date.now() }],
  ['a run id ecebot never makes', { runId: 'lab; DROP', at: Date.now() }],
  ['a value that is not JSON', 'not json'],
  ['a value of the wrong shape', { runId: 7 }],
  [
    'items that are not checklist items',
    { runId: 'lab-20261203065959-cd34', at: Date.now(), items: ['network', '__proto__'] },
  ],
])('an in-flight key holding %s is taken over, never joined', async (_, forged) => {
  const key = keys.inFlight(cfg.prefix, 'lab');
  await redis.set(key, typeof forged === 'string' ? forged : JSON.stringify(forged), 'PX', 60_000);
  const claim = await new InFlightRegistry(redis, runs, SILENT_QUEUE_LOG).claim(
    key,
    mine,
    ['network'],
    60_000,
  );
  expect(claim).toEqual({ claimed: expect.stringContaining(mine) });
  expect(JSON.parse((await redis.get(key))!)).toMatchObject({ runId: mine });
});

test('a fresh key of the same environment is still joined (coalescing kept)', async () => {
  const key = keys.inFlight(cfg.prefix, 'lab');
  const held = 'lab-20261203065959-cd34';
  await redis.set(key, JSON.stringify({ runId: held, at: Date.now() }), 'PX', 60_000);
  const claim = await new InFlightRegistry(redis, runs, SILENT_QUEUE_LOG).claim(
    key,
    mine,
    ['network'],
    60_000,
  );
  expect(claim).toEqual({ joined: held });
});
