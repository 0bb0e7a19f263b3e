/**
 * The queue on a Redis Cluster: three masters (Debian's redis-server in cluster mode on random
 * 127.0.0.1 ports, joined with `redis-cli --cluster create … --cluster-yes`, no replicas), ecebot
 * connected with ioredis' Cluster client through REDIS_CLUSTER_NODES and a hash-tagged prefix.
 *
 * Sources: Redis Cluster specification, "Hash tags" (redis.io/docs/latest/operate/oss_and_stack/
 * reference/cluster-spec/: only the substring between the first `{` and `}` is hashed, so keys
 * `{ecebot}:…` share a slot), and BullMQ's cluster guide (docs.bullmq.io/bull/patterns/
 * redis-cluster: "use a hash tag in the prefix … so that all the keys of a queue are in the same
 * slot"). A run's flow spans the runs queue and each vantage queue, so they must share the tag.
 */
import { randomBytes } from 'node:crypto';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { Assembler } from '../../src/queue/assembler';
import { RunClient } from '../../src/queue/run-client';
import {
  connect,
  firstConnection,
  queueConfigFrom,
  type QueueConfig,
} from '../../src/redis/connection';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { redisServerMissing, startCluster, type RedisCluster } from '../support/redis-server';

const missing = redisServerMissing();
const suite = missing ? describe.skip : describe;
if (missing) test.skip(`skipped: ${missing}`, () => undefined);

describe('cluster configuration (pure)', () => {
  test('REDIS_CLUSTER_NODES defaults the prefix to the hash tag {ecebot}', () => {
    const cfg = queueConfigFrom({
      REDIS_URL: 'redis://127.0.0.1:7000',
      REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001',
    });
    expect(cfg?.prefix).toBe('{ecebot}');
    expect(cfg?.clusterNodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ]);
  });
  test('a prefix without a hash tag is refused on a cluster, saying how to fix it', () => {
    expect(() =>
      queueConfigFrom({
        REDIS_URL: 'redis://127.0.0.1:7000',
        REDIS_CLUSTER_NODES: '127.0.0.1:7000',
        ECEBOT_QUEUE_PREFIX: 'ecebot',
      }),
    ).toThrow(/ECEBOT_QUEUE_PREFIX must be a hash tag such as \{ecebot\}/);
  });
  test('a malformed node list is refused', () => {
    expect(() =>
      queueConfigFrom({ REDIS_URL: 'redis://h:1', REDIS_CLUSTER_NODES: 'h:1,redis://h:2' }),
    ).toThrow(/REDIS_CLUSTER_NODES: "redis:\/\/h:2" is not host:port/);
  });
});

suite('a run on a three-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let lab: Lab;
  let cfg: QueueConfig;

  beforeAll(async () => {
    cluster = await startCluster();
    lab = await startLab({
      scenarios: pickScenarios('port-993-blocked-on-services', () => undefined),
    });
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
    await cluster?.stop();
  });
  beforeEach(() => {
    cfg = queueConfigFrom({
      REDIS_URL: `redis://127.0.0.1:${cluster.nodes[0]!.port}`,
      REDIS_CLUSTER_NODES: cluster.nodes.map(n => `${n.host}:${n.port}`).join(','),
      ECEBOT_QUEUE_PREFIX: `{t${randomBytes(5).toString('hex')}}`,
    })!;
  });

  test('every ecebot key of the prefix hashes to one slot', async () => {
    const r = connect(cfg, 'producer');
    try {
      await firstConnection(r);
      const slots = new Set<number>();
      for (const k of ['runs:wait', 'vantage:services-1:wait', 'store:secrets', 'heartbeat:app-1'])
        slots.add(Number(await r.call('CLUSTER', 'KEYSLOT', `${cfg.prefix}:${k}`)));
      expect(slots.size).toBe(1);
    } finally {
      r.disconnect();
    }
  });

  test('submit → workers → assembled run, as on a single server', async () => {
    const inv = () => loadInventory(lab.info.inventory);
    const workers = ['services-1', 'app-1', 'central'].map(
      vantage => new VantageWorker({ vantage, queue: cfg, inventory: inv }),
    );
    const assembler = new Assembler({ queue: cfg, inventory: inv });
    const client = new RunClient({ queue: cfg, inventory: inv });
    try {
      await Promise.all(workers.map(w => w.start()));
      await assembler.ready();
      await client.ready();
      const h = await client.submit({ environment: 'lab', reason: 'cli' });
      const run = await client.wait(h.runId);
      // The scenario refuses port 993 on services-1 only (src/lab/scenarios).
      expect(run.findings.find(f => f.item === 'network')?.failedOn).toEqual(['services-1']);
      expect(run.findings.find(f => f.item === 'license')?.vantages).toEqual(['central']);
      expect(run.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
      // A second submit while nothing is in flight starts a new run (the in-flight key cleared).
      const again = await client.submit({ environment: 'lab', reason: 'cli' });
      expect(again.runId).not.toBe(h.runId);
      await client.wait(again.runId);
    } finally {
      await client.close();
      await assembler.close();
      await Promise.all(workers.map(w => w.close()));
    }
  }, 60_000);
});
