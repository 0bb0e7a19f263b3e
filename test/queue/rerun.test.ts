/**
 * A check asked for as soon as a run's result can be read starts a new run: it does not join
 * the run that just finished (whose coalescing key would otherwise still be held) and get the
 * old result back.
 */
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { QueueConfig } from '../../src/redis/connection';
import { RedisRunService } from '../../src/queue/redis-run-service';
import type { RunHandle } from '../../src/queue/types';
import { keys } from '../../src/queue/names';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { Redis } from 'ioredis';
import { cleanup, freshQueue } from './support';

describe('a re-run right after a result', () => {
  let l: Lab;
  let cfg: QueueConfig;
  const workers: VantageWorker[] = [];
  let service: RedisRunService | undefined;
  let redis: Redis | undefined;

  beforeAll(async () => {
    l = await startLab({ scenarios: pickScenarios('healthy', () => undefined) });
    cfg = freshQueue();
  });
  afterAll(async () => {
    await service?.close();
    await Promise.all(workers.map(w => w.close()));
    redis?.disconnect();
    await cleanup(cfg);
    await l.stop();
  });

  test('once the result is readable, a new request starts a new run', async () => {
    const inv = l.info.inventory;
    for (const vantage of ['services-1', 'app-1', 'central']) {
      const w = new VantageWorker({ vantage, queue: cfg, inventory: () => loadInventory(inv) });
      await w.start();
      workers.push(w);
    }
    redis = new Redis(cfg.url);
    let again: Promise<RunHandle> | undefined;
    let resultWasReadable = false;
    service = new RedisRunService({
      queue: cfg,
      inventory: () => loadInventory(inv),
      // Runs once the result is stored: the moment a waiter polling for it can see it.
      afterRun: async run => {
        if (again) return;
        resultWasReadable = (await redis!.exists(keys.result(cfg.prefix, run.id))) === 1;
        again = service!.submit({ environment: 'lab', reason: 'rerun' });
        await again.catch(() => undefined);
      },
    });
    await service.ready();
    const first = await service.submit({ environment: 'lab', reason: 'cli' });
    const run = await service.wait(first.runId);
    expect(run.id).toBe(first.runId);
    expect(resultWasReadable).toBe(true);
    const second = await again!;
    expect(second.joined).toBe(false);
    expect(second.runId).not.toBe(first.runId);
    const next = await service.wait(second.runId);
    expect(next.id).toBe(second.runId);
  });
});
