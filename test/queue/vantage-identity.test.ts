/**
 * Per-environment vantage queues: two customers' inventories may both name their services
 * server `services-1`. Each server pulls its own queue (`ENV/SERVER`), so a worker never probes
 * another environment's tenant from its own network; `central` stays one shared queue; a bare
 * name two environments share is refused at start-up with the ENV/SERVER spellings to use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Job, Queue } from 'bullmq';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Run } from '../../src/model';
import { InputError } from '../../src/inventory/errors';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { connect, firstConnection, type QueueConfig } from '../../src/redis/connection';
import { EVENTS_MAX_LEN, vantagePrefix } from '../../src/queue/names';
import { RedisRunService } from '../../src/queue/redis-run-service';
import { resolveWorkerVantage } from '../../src/worker/identity';
import { runWorkerCommand } from '../../src/worker/command';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { cleanup, freshQueue, until } from './support';

type InventoryDoc = { environments: Record<string, Record<string, unknown>> };

let l: Lab;
let inventory: string;

beforeAll(async () => {
  l = await startLab({ scenarios: pickScenarios('healthy', () => undefined) });
  const doc = parse(readFileSync(l.info.inventory, 'utf8')) as InventoryDoc;
  const lab = doc.environments.lab!;
  // Two customers, the same server names; written beside the lab's (relative secrets, CA).
  inventory = join(l.dir, 'two-customers.yaml');
  writeFileSync(inventory, stringify({ environments: { acme: lab, globex: lab } }));
});
afterAll(async () => {
  await l?.stop();
});

describe('resolving --vantage', () => {
  test('ENV/SERVER names one server; central is shared; a unique bare name still resolves', () => {
    const inv = loadInventory(inventory);
    expect(resolveWorkerVantage(inv, 'globex/services-1')).toEqual({
      id: 'globex/services-1',
      environment: 'globex',
      vantage: 'services-1',
    });
    expect(resolveWorkerVantage(inv, 'central')).toEqual({ id: 'central', vantage: 'central' });
    const one = loadInventory(l.info.inventory);
    expect(resolveWorkerVantage(one, 'services-1').id).toBe('lab/services-1');
  });

  test('a bare name two environments share is refused, saying how to write it', () => {
    const inv = loadInventory(inventory);
    let err: unknown;
    try {
      resolveWorkerVantage(inv, 'services-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.message).toMatch(/ambiguous/);
    expect(e.message).toContain('acme');
    expect(e.message).toContain('globex');
    expect(e.hint).toContain('--vantage acme/services-1');
    expect(e.hint).toContain('--vantage globex/services-1');
    expect(() => resolveWorkerVantage(inv, 'acme/services-9')).toThrow(/no server "services-9"/);
  });

  test('`ecebot worker` stops at start-up on an ambiguous name, before connecting', async () => {
    const out: string[] = [];
    await expect(
      runWorkerCommand(
        ['--vantage', 'services-1', '--config', inventory],
        {
          out: s => out.push(s),
          err: s => out.push(s),
          // A port nobody listens on: reaching it would mean the check came too late.
          env: { REDIS_URL: 'redis://127.0.0.1:1' },
          cwd: l.dir,
        },
        { waitForSignal: () => new Promise(() => {}) },
      ),
    ).rejects.toThrow(/ambiguous/);
    expect(out).toEqual([]);
  });
});

describe('one queue per environment and server', () => {
  let cfg: QueueConfig;
  let service: RedisRunService | undefined;
  const workers: VantageWorker[] = [];
  const seen: string[] = [];

  beforeAll(() => {
    cfg = freshQueue();
  });
  afterAll(async () => {
    await service?.close();
    await Promise.all(workers.map(w => w.close()));
    await cleanup(cfg);
  });

  test("acme's workers never take globex's parts: globex's servers end NO_WORKER", async () => {
    const inv = () => loadInventory(inventory);
    for (const vantage of ['acme/services-1', 'acme/app-1', 'central']) {
      const w = new VantageWorker({
        vantage,
        queue: cfg,
        inventory: inv,
        heartbeatMs: 500,
        log: line => seen.push(line),
      });
      await w.start();
      workers.push(w);
    }
    service = new RedisRunService({ queue: cfg, inventory: inv, workerDeadlineMs: 3000 });
    await service.ready();

    const acme: Run = await service.wait(
      (await service.submit({ environment: 'acme', reason: 'cli' })).runId,
    );
    expect(acme.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');

    const globex: Run = await service.wait(
      (await service.submit({ environment: 'globex', reason: 'cli' })).runId,
    );
    const network = globex.findings.find(f => f.item === 'network')!;
    expect(network.code).toBe('NO_WORKER');
    expect([...network.failedOn].sort()).toEqual(['app-1', 'services-1']);
    expect(network.remediation.map(r => r.fix)).toEqual(
      expect.arrayContaining([
        'ecebot worker --vantage globex/services-1',
        'ecebot worker --vantage globex/app-1',
      ]),
    );
    // No evidence of globex was gathered from a server (only central serves both).
    const fromServers = globex.findings
      .flatMap(f => f.evidence)
      .filter(e => e.code !== 'NO_WORKER' && (e.vantage === 'services-1' || e.vantage === 'app-1'));
    expect(fromServers).toEqual([]);
    // Not even offered to them: no part of globex reached (and was refused by) an acme worker.
    expect(seen.filter(s => s.includes(globex.id) && !s.includes('central'))).toEqual([]);
    // central served both environments.
    expect(seen.some(s => s.includes('observing globex from central'))).toBe(true);

    // Event streams (whose `completed` events carry verdicts and observations) are bounded.
    const redis = connect(cfg, 'producer');
    await firstConnection(redis);
    try {
      for (const meta of [
        `${cfg.prefix}:runs:meta`,
        `${vantagePrefix(cfg.prefix)}:acme/services-1:meta`,
        `${vantagePrefix(cfg.prefix)}:central:meta`,
      ])
        expect({ meta, maxLen: await redis.hget(meta, 'opts.maxLenEvents') }).toEqual({
          meta,
          maxLen: String(EVENTS_MAX_LEN),
        });
    } finally {
      redis.disconnect();
    }
  });

  test('a part of another environment put on a server queue by hand is refused, not probed', async () => {
    const redis = connect(cfg, 'producer');
    await firstConnection(redis);
    const q = new Queue('acme/services-1', {
      prefix: vantagePrefix(cfg.prefix),
      connection: redis,
    });
    try {
      const job = await q.add('observe', {
        runId: 'globex-by-hand',
        environment: 'globex',
        items: ['connectivity'],
        vantage: 'services-1',
      });
      const state = await until(async () => {
        const s = await job.getState();
        return s === 'failed' || s === 'completed' ? s : undefined;
      });
      expect(state).toBe('failed');
      const failed = await Job.fromId(q, job.id!);
      expect(failed?.failedReason).toBe(
        'job for globex/services-1 reached the worker of acme/services-1',
      );
      expect(seen.filter(s => s.includes('observing globex from services-1'))).toEqual([]);
    } finally {
      await q.close();
      redis.disconnect();
    }
  });
});
