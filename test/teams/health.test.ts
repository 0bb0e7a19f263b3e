/**
 * Operations endpoints of the bot: `/healthz` (liveness), `/readyz` (readiness, named checks)
 * and `/metrics` (Prometheus text on our own registry), over HTTP against the real restify
 * server in local mode; and the readiness logic against a real Redis (REDIS_URL or
 * 127.0.0.1:6379, under a random key prefix) and a Redis that is not there.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Run } from '../../src/model';
import { loadInventory, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { connect, firstConnection } from '../../src/redis/connection';
import { MemoryStore } from '../../src/store/memory';
import {
  inventoryCheck,
  readiness,
  redisCheck,
  workersCheck,
  type ReadinessCheck,
} from '../../src/teams/health';
import type { EmbeddedRunService } from '../../src/teams/run-service';
import { startBotServer, type BotServer } from '../../src/teams/server';
import { beat } from '../../src/queue/heartbeat';
import { vantageId } from '../../src/queue/names';
import { cleanup, freshQueue } from '../queue/support';
import { message, post } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import type { FakeConnector } from './support/fake-connector';

let lab: Lab;
let inv: Inventory;
let fake: FakeConnector;
let runs: EmbeddedRunService;
let bot: BotServer;
let rig: BotRig;

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  inv = loadInventory(lab.info.inventory);
  // Asked for: /metrics labels runs with their environment (ECEBOT_METRICS_DETAIL=1).
  rig = await startBotRig(() => inv, { server: { vars: { ECEBOT_METRICS_DETAIL: '1' } } });
  ({ fake, runs, bot } = rig);
});

afterAll(async () => {
  await rig?.close();
  await lab?.stop();
});

const base = () => bot.url.replace('/api/messages', '');

/** Sum of `ecebot_runs_total` samples of an environment, from the exposition text. */
function runsTotal(text: string, environment: string): number {
  const re = new RegExp(`^ecebot_runs_total\\{([^}]*)\\} (\\d+(?:\\.\\d+)?)$`, 'gm');
  let sum = 0;
  for (const m of text.matchAll(re))
    if (m[1]!.includes(`environment="${environment}"`)) sum += Number(m[2]);
  return sum;
}

describe('HTTP endpoints in local mode', () => {
  test('/healthz answers 200 {"status":"ok"}', async () => {
    const res = await fetch(`${base()}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('/readyz answers 200 naming the inventory check', async () => {
    const res = await fetch(`${base()}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks)).toEqual(['inventory']);
    expect(body.checks.inventory!.ok).toBe(true);
  });

  test('/metrics is Prometheus text with our metrics and the process metrics', async () => {
    const res = await fetch(`${base()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'ecebot_runs_total',
      'ecebot_item_failures_total',
      'ecebot_probe_duration_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
    ])
      expect(text).toContain(`# TYPE ${name} `);
    // No Redis here: no queue to measure.
    expect(text).not.toContain('ecebot_queue_depth');
  });

  test('a `check lab` run increases ecebot_runs_total and records probe durations', async () => {
    const before = runsTotal(await fetch(`${base()}/metrics`).then(r => r.text()), 'lab');
    const done = new Promise<Run>(resolve => {
      const off = runs.onDone(run => {
        off();
        resolve(run);
      });
    });
    const res = await post(
      bot.url,
      message(fake.url, { conversationId: 'a:1health' }, 'check lab'),
    );
    expect(res.status).toBe(200);
    const run = await done;
    const text = await fetch(`${base()}/metrics`).then(r => r.text());
    expect(runsTotal(text, 'lab')).toBe(before + 1);
    expect(text).toContain(`ecebot_runs_total{environment="lab",status="${run.status}"}`);
    const observed = run.findings.flatMap(f => f.evidence).filter(e => e.durationMs !== undefined);
    const counts = [...text.matchAll(/^ecebot_probe_duration_seconds_count\{[^}]*\} (\d+)$/gm)];
    expect(counts.reduce((s, m) => s + Number(m[1]), 0)).toBe(observed.length);
    const failing = run.findings.filter(f => f.status === 'fail' || f.status === 'error');
    for (const f of failing)
      expect(text).toContain(`ecebot_item_failures_total{item="${f.item}",code="${f.code}"}`);
  });
});

describe('readiness', () => {
  const cfg = freshQueue();
  let live: Redis;
  let down: Redis;

  beforeAll(async () => {
    live = connect(cfg, 'producer');
    await firstConnection(live);
    // A loopback port nobody listens on: Redis is down.
    const probe = createServer();
    await new Promise<void>(r => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>(r => probe.close(() => r()));
    down = connect({ url: `redis://127.0.0.1:${port}`, prefix: cfg.prefix }, 'producer');
  });

  afterAll(async () => {
    await cleanup(cfg);
    live?.disconnect();
    down?.disconnect();
  });

  test('Redis down: not ready, the redis check fails', async () => {
    const r = await readiness({
      inventory: inventoryCheck(() => inv),
      redis: redisCheck(down),
      workers: workersCheck(down, cfg.prefix, () => inv),
    });
    expect(r.ready).toBe(false);
    expect(r.checks.redis!.ok).toBe(false);
    expect(r.checks.redis!.detail).toMatch(/^not connected/);
    expect(r.checks.inventory!.ok).toBe(true);
    // Details name a code, never the URL.
    expect(JSON.stringify(r)).not.toContain('redis://');
  });

  test('Redis up, no live worker: not ready, the workers check fails', async () => {
    const r = await readiness({
      redis: redisCheck(live),
      workers: workersCheck(live, cfg.prefix, () => inv),
    });
    expect(r.ready).toBe(false);
    expect(r.checks.redis).toEqual({ ok: true });
    expect(r.checks.workers).toEqual({ ok: false, detail: 'no live worker heartbeat' });
  });

  test('Redis up and a worker beating: ready', async () => {
    const env = [...inv.environments.values()][0]!;
    const server = env.servers[0]!.name;
    await beat(live, cfg.prefix, {
      vantage: vantageId(env.name, server),
      at: new Date().toISOString(),
      host: 'h',
      pid: 1,
    });
    const r = await readiness({
      redis: redisCheck(live),
      workers: workersCheck(live, cfg.prefix, () => inv),
    });
    expect(r.ready).toBe(true);
    // Unauthenticated: counts only, no environment or server named by default.
    const names = [...inv.environments.values()].flatMap(e => [
      e.name,
      ...e.servers.map(s => s.name),
    ]);
    for (const n of names) expect(JSON.stringify(r)).not.toContain(n);
    expect(r.checks.workers!.detail).toMatch(/^1 of \d+ vantage point\(s\) with a worker$/);
    // Asked for (ECEBOT_METRICS_DETAIL=1): the live server is named.
    const named = await readiness({
      workers: workersCheck(live, cfg.prefix, () => inv, true),
    });
    expect(named.checks.workers!.detail).toContain(`${env.name}/${server}`);
  });

  test('a check that never answers fails at the deadline; one that throws fails with its code', async () => {
    const hang: ReadinessCheck = () => new Promise(() => undefined);
    const boom: ReadinessCheck = () =>
      Promise.reject(Object.assign(new Error('redis://user:secret@x failed'), { code: 'EBOOM' }));
    const r = await readiness({ hang, boom }, 50);
    expect(r.ready).toBe(false);
    expect(r.checks.hang).toEqual({ ok: false, detail: 'no answer within 50 ms' });
    expect(r.checks.boom).toEqual({ ok: false, detail: 'EBOOM' });
    expect(JSON.stringify(r)).not.toContain('secret');
  });

  test('the server answers 503 naming the failing checks', async () => {
    const other = await startBotServer({
      inventory: () => inv,
      store: new MemoryStore(),
      runs,
      vars: {},
      port: 0,
      readiness: {
        redis: redisCheck(down),
        workers: workersCheck(live, `${cfg.prefix}-none`, () => inv),
      },
    });
    try {
      const res = await fetch(other.url.replace('/api/messages', '/readyz'));
      expect(res.status).toBe(503);
      const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
      expect(body.checks.redis!.ok).toBe(false);
      expect(body.checks.workers!.ok).toBe(false);
      expect((await fetch(other.url.replace('/api/messages', '/healthz'))).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
