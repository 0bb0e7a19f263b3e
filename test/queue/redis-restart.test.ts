/**
 * Redis stopped and started again mid-operation, on a private redis-server (never the shared
 * one): `submit` answers "queue unavailable" while it is down, and the same service and the same
 * workers carry on once it is back, without a restart.
 */
import type { ChildProcess } from 'node:child_process';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { QueueUnavailableError, type QueueConfig } from '../../src/redis/connection';
import { RedisRunService } from '../../src/queue/redis-run-service';
import { liveness } from '../../src/queue/heartbeat';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { Redis } from 'ioredis';
import { freePort, startRedis, stopRedis, until } from './support';

describe('Redis stopped and started mid-operation', () => {
  let l: Lab;
  let redis: ChildProcess | undefined;
  let port: number;
  let cfg: QueueConfig;
  let service: RedisRunService | undefined;
  const workers: VantageWorker[] = [];

  beforeAll(async () => {
    l = await startLab({ scenarios: pickScenarios('healthy', () => undefined) });
    port = await freePort();
    redis = await startRedis(port);
    cfg = { url: `redis://127.0.0.1:${port}`, prefix: 'restart' };
  });
  afterAll(async () => {
    await service?.close();
    await Promise.all(workers.map(w => w.close()));
    await stopRedis(redis);
    await l.stop();
  });

  test('submit says "queue unavailable" while Redis is down and works again once it is back', async () => {
    const inv = () => loadInventory(l.info.inventory);
    for (const v of ['services-1', 'app-1', 'central']) {
      const w = new VantageWorker({ vantage: v, queue: cfg, inventory: inv, heartbeatMs: 300 });
      await w.start();
      workers.push(w);
    }
    service = new RedisRunService({ queue: cfg, inventory: inv, workerDeadlineMs: 10_000 });
    await service.ready();
    const before = await service.wait(
      (await service.submit({ environment: 'lab', reason: 'cli' })).runId,
    );
    expect(before.status).toBe('pass');

    // A run in flight when Redis goes: app-1's worker has just stopped (its beat still looks
    // live), so the run waits for it when Redis stops.
    await workers.splice(1, 1)[0]!.close();
    const inFlight = await service.submit({ environment: 'lab', reason: 'chat' });
    const lost = service.wait(inFlight.runId);

    await stopRedis(redis);
    redis = undefined;
    const down = service.submit({ environment: 'lab', reason: 'chat' });
    await expect(down).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(down).rejects.toThrow(
      new RegExp(`^queue unavailable: Redis at 127\\.0\\.0\\.1:${port} is not reachable`),
    );
    // Bad input still says what is wrong with the input, not the queue.
    await expect(service.submit({ environment: 'nope', reason: 'chat' })).rejects.toThrow(
      /unknown environment/,
    );

    redis = await startRedis(port);
    // The restarted Redis kept nothing (no persistence): the waiting requester is told.
    await expect(lost).rejects.toThrow(
      new RegExp(`run ${inFlight.runId} is no longer in the queue`),
    );
    const again = new VantageWorker({
      vantage: 'app-1',
      queue: cfg,
      inventory: inv,
      heartbeatMs: 300,
    });
    await again.start();
    workers.push(again);
    // The workers reconnect by themselves and beat again (the restarted Redis kept nothing).
    const probe = new Redis(cfg.url);
    try {
      await until(async () =>
        (await liveness(probe, cfg.prefix, ['lab/services-1', 'lab/app-1', 'central'])).every(
          x => x.live,
        ),
      );
    } finally {
      probe.disconnect();
    }
    const h = await until(async () =>
      service!.submit({ environment: 'lab', reason: 'chat' }).catch(err => {
        if (err instanceof QueueUnavailableError) return undefined;
        throw err;
      }),
    );
    const after = await service.wait(h.runId);
    expect(after.status).toBe('pass');
    expect(after.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
    expect(after.id).not.toBe(before.id);
  });
});
