/**
 * Graceful shutdown on SIGTERM, against the real Redis, the lab and real processes:
 *
 * - a worker holding an in-flight part finishes it before it exits 0; the run completes once
 *   with every item, and the standby worker of the same vantage never runs the part again;
 * - a worker with nothing in flight exits 0;
 * - `ecebot serve` in Redis mode, stopped while a run is in flight, still sends the final card
 *   and exits 0.
 */
import { Queue } from 'bullmq';
import type { Run } from '../../src/model';
import { itemIds } from '../../src/checklist/items';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { connect, firstConnection, type QueueConfig } from '../../src/redis/connection';
import type { VantageResult } from '../../src/queue/jobs';
import { vantagePrefix } from '../../src/queue/names';
import { RedisRunService } from '../../src/queue/redis-run-service';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { cardTexts } from '../teams/support/adaptive';
import { message, post } from '../teams/support/bot-client';
import { cardOf, FakeConnector } from '../teams/support/fake-connector';
import {
  cleanup,
  freshQueue,
  spawnServe,
  spawnWorker,
  stopWorker,
  type SpawnedServe,
  type SpawnedWorker,
} from './support';

let lab: Lab;

beforeAll(async () => {
  // Every IMAP answer waits 600 ms, so the services server's part takes seconds.
  lab = await startLab({ scenarios: pickScenarios('slow-imap', () => undefined) });
});
afterAll(async () => {
  await lab?.stop();
});

/**
 * The verdict line of a finished run card (src/i18n/messages.ts, English), which leads with
 * its mark and environment ("✖ lab — Problems found: …").
 */
const VERDICT = /^\S+ \S+ — (All checks passed|Passed with warnings|Problems found)\b/;

describe('worker SIGTERM', () => {
  let cfg: QueueConfig;
  const spawned: SpawnedWorker[] = [];
  const inProcess: VantageWorker[] = [];
  let service: RedisRunService | undefined;

  beforeEach(() => {
    cfg = freshQueue();
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    await Promise.all(inProcess.splice(0).map(w => w.close()));
    await Promise.all(spawned.splice(0).map(stopWorker));
    await cleanup(cfg);
  });

  test('mid-part: the worker finishes the part it holds and exits 0; the run completes once, with every item', async () => {
    const inv = lab.info.inventory;
    // A short lock: if the closing worker stopped renewing it, the standby would take the part
    // over within a second and run it a second time.
    const fast = { ECEBOT_WORKER_LOCK_MS: '1000' };
    const holder = await spawnWorker(cfg, 'services-1', inv, fast);
    spawned.push(holder);
    for (const v of ['app-1', 'central']) {
      const w = new VantageWorker({ vantage: v, queue: cfg, inventory: () => loadInventory(inv) });
      await w.start();
      inProcess.push(w);
    }
    service = new RedisRunService({
      queue: cfg,
      inventory: () => loadInventory(inv),
      workerDeadlineMs: 60_000,
    });
    await service.ready();
    const done: Run[] = [];
    service.onDone(run => done.push(run));

    const h = await service.submit({ environment: 'lab', reason: 'chat' });
    await holder.waitFor(new RegExp(`run ${h.runId}: observing lab from services-1`));
    // A second worker of the vantage stands by while the first one is stopped.
    const standby = await spawnWorker(cfg, 'services-1', inv, fast);
    spawned.push(standby);
    holder.child.kill('SIGTERM');
    expect(await holder.exited).toBe(0);

    // The part was still in hand when the signal came, and the holder finished it.
    const stopAt = holder.lines.findIndex(l => /SIGTERM, finishing parts in hand/.test(l));
    const partAt = holder.lines.findIndex(l =>
      new RegExp(`run ${h.runId}: \\d+ observations from services-1`).test(l),
    );
    expect(stopAt).toBeGreaterThanOrEqual(0);
    expect(partAt).toBeGreaterThan(stopAt);

    const run = await service.wait(h.runId);
    expect(run.findings.map(f => f.item).sort()).toEqual(itemIds().sort());
    expect(run.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
    expect(
      run.findings
        .find(f => f.item === 'connectivity')!
        .evidence.some(e => e.vantage === 'services-1'),
    ).toBe(true);

    // The part ran once, in the holder: one attempt, its result names the holder's process.
    const redis = connect(cfg, 'producer');
    await firstConnection(redis);
    const parts = new Queue('lab/services-1', {
      prefix: vantagePrefix(cfg.prefix),
      connection: redis,
    });
    try {
      const jobs = await parts.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
      const mine = jobs.filter(j => (j.data as { runId?: string }).runId === h.runId);
      expect(mine).toHaveLength(1);
      expect(await mine[0]!.getState()).toBe('completed');
      expect(mine[0]!.attemptsStarted).toBe(1);
      expect((mine[0]!.returnvalue as VantageResult).worker?.pid).toBe(holder.child.pid);
    } finally {
      await parts.close();
      redis.disconnect();
    }
    // Two lock periods later the standby has still not started it, and the run was reported once.
    await new Promise(r => setTimeout(r, 2500));
    expect(standby.lines.some(l => l.includes(`run ${h.runId}: `))).toBe(false);
    expect(done.filter(r => r.id === h.runId)).toHaveLength(1);
  });

  test('with nothing in flight the worker exits 0', async () => {
    const w = await spawnWorker(cfg, 'app-1', lab.info.inventory);
    spawned.push(w);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.lines.join('\n')).toMatch(/app-1: SIGTERM, finishing parts in hand/);
  });
});

describe('bot SIGTERM in Redis mode', () => {
  let cfg: QueueConfig;
  let fake: FakeConnector;
  let bot: SpawnedServe | undefined;
  const workers: SpawnedWorker[] = [];

  beforeAll(async () => {
    cfg = freshQueue();
    fake = await FakeConnector.start();
  });
  afterAll(async () => {
    const child = bot?.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(workers.map(stopWorker));
    await fake?.close();
    await cleanup(cfg);
  });

  test('a run in flight at SIGTERM: its final card still reaches the connector, then exit 0', async () => {
    for (const v of ['services-1', 'app-1', 'central'])
      workers.push(await spawnWorker(cfg, v, lab.info.inventory));
    bot = await spawnServe(cfg, lab.info.inventory);
    const { url, lines, exited } = bot;

    const from = fake.requests.length;
    const res = await post(url, message(fake.url, { conversationId: 'a:graceful' }, 'check lab'));
    expect(res.status).toBeLessThan(300);
    await fake.waitFor(
      r => r.conversationId === 'a:graceful' && r.method === 'POST',
      'the running card',
      from,
    );
    // The services server's part is under way (slow IMAP) when the bot is told to stop.
    const services = workers[0]!;
    await services.waitFor(/observing lab from services-1/);
    const stoppedAt = fake.requests.length;
    bot.child.kill('SIGTERM');
    const final = await fake.waitFor(
      r =>
        r.conversationId === 'a:graceful' &&
        r.method === 'PUT' &&
        cardTexts(cardOf(r)).some(t => VERDICT.test(t)),
      'the final card after SIGTERM',
      stoppedAt,
      60_000,
    );
    expect(final).toBeDefined();
    expect(await exited).toBe(0);
    expect(lines.join('\n')).toMatch(/SIGTERM, stopping/);
  });
});
