/**
 * The queue end to end against the real Redis and the lab: runs fan out to worker processes
 * (`ecebot worker --vantage …`), findings carry the vantage they were observed from, `ecebot
 * check` is assembled by an assembler (never by itself), concurrent checks coalesce, absent
 * workers end as NO_WORKER within the deadline, a worker killed with SIGKILL mid-run is taken
 * over, and exactly one replica reports a run.
 */
import type { Run } from '../../src/model';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { Queue } from 'bullmq';
import { Assembler } from '../../src/queue/assembler';
import { connect, firstConnection, type QueueConfig } from '../../src/redis/connection';
import { RUNS_QUEUE } from '../../src/queue/names';
import { RedisRunService } from '../../src/queue/redis-run-service';
import type { RunProgress } from '../../src/queue/types';
import { beat, liveness } from '../../src/queue/heartbeat';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { Redis } from 'ioredis';
import {
  cleanup,
  freshQueue,
  spawnWorker,
  stopWorker,
  until,
  workerEnv,
  BIN,
  ROOT,
  type SpawnedWorker,
} from './support';
import { spawn } from 'node:child_process';

const lab = async (names: string) => startLab({ scenarios: pickScenarios(names, () => undefined) });

function finding(run: Run, item: string) {
  const f = run.findings.find(x => x.item === item);
  if (!f) throw new Error(`no ${item} finding in ${run.id}`);
  return f;
}

/** Run `ecebot ARGS` with the test's queue in its environment. */
function cli(cfg: QueueConfig, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: workerEnv(cfg, extra) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', code => resolve({ code, stdout, stderr }));
  });
}

describe('a run fanned out to worker processes', () => {
  let l: Lab;
  let cfg: QueueConfig;
  const workers: SpawnedWorker[] = [];
  let central: VantageWorker | undefined;
  let service: RedisRunService | undefined;
  let assembler: Assembler | undefined;

  beforeAll(async () => {
    l = await lab('port-993-blocked-on-services');
  });
  afterAll(async () => {
    await l.stop();
  });
  beforeEach(() => {
    cfg = freshQueue();
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    await assembler?.close();
    assembler = undefined;
    await central?.close();
    central = undefined;
    await Promise.all(workers.splice(0).map(stopWorker));
    await cleanup(cfg);
  });

  test('two worker processes with different vantage names; findings carry their vantage', async () => {
    const inv = l.info.inventory;
    // As on a Windows server without build tools: msgpackr's optional native part switched off.
    const pureJs = { MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' };
    workers.push(
      ...(await Promise.all([
        spawnWorker(cfg, 'services-1', inv, pureJs),
        spawnWorker(cfg, 'app-1', inv, pureJs),
      ])),
    );
    central = new VantageWorker({
      vantage: 'central',
      queue: cfg,
      inventory: () => loadInventory(inv),
    });
    await central.start();
    service = new RedisRunService({ queue: cfg, inventory: () => loadInventory(inv) });
    await service.ready();
    const h = await service.submit({ environment: 'lab', reason: 'cli' });
    expect(h.joined).toBe(false);
    const run = await service.wait(h.runId);

    // Each process observed its own part of this very run.
    for (const [w, v] of [
      [workers[0]!, 'services-1'],
      [workers[1]!, 'app-1'],
    ] as const)
      expect(w.lines).toContainEqual(
        expect.stringMatching(`run ${h.runId}: \\d+ observations from ${v}`),
      );
    // Port 993 is refused on services-1 only: the network item fails there and nowhere else.
    const network = finding(run, 'network');
    expect(network.status).toBe('fail');
    expect(network.failedOn).toEqual(['services-1']);
    expect(network.vantages).toEqual(expect.arrayContaining(['services-1', 'app-1']));
    expect(new Set(network.evidence.map(e => e.vantage))).toEqual(new Set(['services-1', 'app-1']));
    expect(finding(run, 'license').vantages).toEqual(['central']);
    expect(run.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
  });

  test('ecebot check goes through the queue with REDIS_URL, same output and exit code; --local runs in-process', async () => {
    const inv = l.info.inventory;
    // The CLI only submits and waits: an assembler (here in-process, as `ecebot serve` runs it)
    // judges the run.
    assembler = new Assembler({ queue: cfg, inventory: () => loadInventory(inv) });
    await assembler.ready();
    workers.push(
      ...(await Promise.all([
        spawnWorker(cfg, 'services-1', inv),
        spawnWorker(cfg, 'app-1', inv),
        spawnWorker(cfg, 'central', inv),
      ])),
    );
    const queued = await cli(cfg, ['check', 'lab', '--config', inv, '--json']);
    expect(queued.stderr).toMatch(/run lab-\S+ queued/);
    const run = JSON.parse(queued.stdout) as Run;
    expect(queued.code).toBe(1); // network fails (port 993 refused on services-1)
    expect(workers[0]!.lines).toContainEqual(expect.stringContaining(`run ${run.id}: `));
    // Assembled by the assembler, not by the CLI.
    const redis = connect(cfg, 'producer');
    await firstConnection(redis);
    const runs = new Queue(RUNS_QUEUE, { prefix: cfg.prefix, connection: redis });
    try {
      expect((await runs.getJob(run.id))?.processedBy).toBe(assembler.name);
    } finally {
      await runs.close();
      redis.disconnect();
    }
    expect(finding(run, 'network').failedOn).toEqual(['services-1']);

    // --local ignores REDIS_URL even when it points nowhere.
    const local = await cli({ url: 'redis://127.0.0.1:1', prefix: cfg.prefix }, [
      'check',
      'lab',
      '--config',
      inv,
      '--local',
      '--item',
      'network',
    ]);
    expect(local.code).toBe(1);
    expect(local.stdout).toMatch(/FAIL\s+network/);
    expect(local.stderr).not.toMatch(/queued/);
  });

  test('concurrent checks of one environment coalesce into one run; both see the same result', async () => {
    const inv = l.info.inventory;
    const [s1, a1] = await Promise.all([
      spawnWorker(cfg, 'services-1', inv),
      spawnWorker(cfg, 'app-1', inv),
    ]);
    workers.push(s1, a1);
    central = new VantageWorker({
      vantage: 'central',
      queue: cfg,
      inventory: () => loadInventory(inv),
    });
    await central.start();
    service = new RedisRunService({ queue: cfg, inventory: () => loadInventory(inv) });
    const other = new RedisRunService({ queue: cfg, inventory: () => loadInventory(inv) });
    try {
      await Promise.all([service.ready(), other.ready()]);
      const [a, b] = await Promise.all([
        service.submit({ environment: 'lab', reason: 'chat' }),
        other.submit({ environment: 'lab', reason: 'cli' }),
      ]);
      expect(a.runId).toBe(b.runId);
      expect([a.joined, b.joined].sort()).toEqual([false, true]);
      const [ra, rb] = await Promise.all([service.wait(a.runId), other.wait(b.runId)]);
      expect(ra).toEqual(rb);
      // One run, so each worker observed once.
      expect(s1.lines.filter(x => x.includes(`run ${a.runId}: observing`))).toHaveLength(1);
      // A different item set is a different run; once finished, a new request starts afresh.
      const c = await service.submit({ environment: 'lab', items: ['network'], reason: 'chat' });
      expect(c.runId).not.toBe(a.runId);
      await service.wait(c.runId);
      const d = await service.submit({ environment: 'lab', reason: 'chat' });
      expect(d.joined).toBe(false);
      expect(d.runId).not.toBe(a.runId);
      await service.wait(d.runId);
    } finally {
      await other.close();
    }
  });
});

describe('absent workers', () => {
  let l: Lab;
  let cfg: QueueConfig;
  let service: RedisRunService | undefined;
  const local: VantageWorker[] = [];

  beforeAll(async () => {
    l = await lab('healthy');
  });
  afterAll(async () => {
    await l.stop();
  });
  beforeEach(() => {
    cfg = freshQueue();
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    await Promise.all(local.splice(0).map(w => w.close()));
    await cleanup(cfg);
  });

  const startLocal = async (vantage: string) => {
    const w = new VantageWorker({
      vantage,
      queue: cfg,
      inventory: () => loadInventory(l.info.inventory),
      heartbeatMs: 500,
    });
    await w.start();
    local.push(w);
  };

  test('a vantage never served: its items end NO_WORKER and the run still finishes', async () => {
    await startLocal('services-1');
    await startLocal('central');
    service = new RedisRunService({ queue: cfg, inventory: () => loadInventory(l.info.inventory) });
    await service.ready();
    const run = await service.wait(
      (await service.submit({ environment: 'lab', reason: 'cli' })).runId,
    );
    const network = finding(run, 'network');
    expect(network.status).toBe('error');
    expect(network.code).toBe('NO_WORKER');
    expect(network.summary).toBe('no worker for app-1 has ever been seen');
    expect(network.remediation.map(r => r.fix)).toContain('ecebot worker --vantage lab/app-1');
    // The finding's one-line "where" follows the marking: it names the absent server.
    expect(network.failedOn).toEqual(['app-1']);
    expect(network.vantage).toBe('app-1');
    // The connectivity test also logs in to SMTP from application servers (checklist items 8
    // and 9), so it too waits on app-1.
    expect(finding(run, 'connectivity')).toMatchObject({ status: 'error', code: 'NO_WORKER' });
    // Items that need only live vantage points are judged as usual.
    expect(finding(run, 'license').status).toBe('pass');
    expect(finding(run, 'mailbox-rights').status).toBe('pass');
    expect(run.status).toBe('fail');
  });

  test('a worker that was seen but no longer beats: reported with the time it was last seen, within the deadline', async () => {
    await startLocal('services-1');
    await startLocal('central');
    const redis = new Redis(cfg.url);
    const seen = new Date().toISOString();
    try {
      // app-1 looks alive (a beat that lapses in 300 ms) but nothing consumes its queue.
      await beat(redis, cfg.prefix, { vantage: 'lab/app-1', at: seen, host: 'app-1', pid: 1 }, 300);
      service = new RedisRunService({
        queue: cfg,
        inventory: () => loadInventory(l.info.inventory),
        workerDeadlineMs: 1500,
        watchIntervalMs: 200,
      });
      await service.ready();
      const progress: RunProgress[] = [];
      service.onProgress(p => progress.push(p));
      const h = await service.submit({ environment: 'lab', reason: 'cli' });
      const run = await service.wait(h.runId);
      const network = finding(run, 'network');
      expect(network.status).toBe('error');
      expect(network.summary).toBe(`no worker for app-1 seen since ${seen}`);
      expect(network.evidence.filter(e => e.vantage === 'app-1').map(e => e.code)).toEqual([
        'NO_WORKER',
      ]);
      // Progress named app-1 pending until the watchdog gave up on it.
      expect(progress.some(p => p.pending.includes('app-1'))).toBe(true);
      expect((await liveness(redis, cfg.prefix, ['lab/app-1']))[0]).toEqual({
        vantage: 'lab/app-1',
        live: false,
        lastSeen: seen,
      });
    } finally {
      redis.disconnect();
    }
  });
});

describe('a worker killed with SIGKILL mid-run', () => {
  let l: Lab;
  let cfg: QueueConfig;
  const workers: SpawnedWorker[] = [];
  const services: RedisRunService[] = [];
  let others: VantageWorker[] = [];

  beforeAll(async () => {
    // Every IMAP answer waits 600 ms, so the services server's part takes seconds.
    l = await lab('slow-imap');
    cfg = freshQueue();
  });
  afterAll(async () => {
    await Promise.all(services.map(s => s.close()));
    await Promise.all(others.map(w => w.close()));
    others = [];
    await Promise.all(workers.map(stopWorker));
    await cleanup(cfg);
    await l.stop();
  });

  test('another worker of that vantage takes the part over; the run completes once, reported by one replica', async () => {
    const inv = l.info.inventory;
    const fast = { ECEBOT_WORKER_LOCK_MS: '1000' };
    const first = await spawnWorker(cfg, 'services-1', inv, fast);
    workers.push(first);
    for (const v of ['app-1', 'central']) {
      const w = new VantageWorker({ vantage: v, queue: cfg, inventory: () => loadInventory(inv) });
      await w.start();
      others.push(w);
    }
    // Two bot replicas following the same runs.
    for (let i = 0; i < 2; i++) {
      const s = new RedisRunService({
        queue: cfg,
        inventory: () => loadInventory(inv),
        workerDeadlineMs: 60_000,
      });
      await s.ready();
      services.push(s);
    }
    const done: { replica: number; run: Run }[] = [];
    const progressBy = new Set<number>();
    services.forEach((s, replica) => {
      s.onDone(run => done.push({ replica, run }));
      s.onProgress(() => progressBy.add(replica));
    });

    const h = await services[0]!.submit({ environment: 'lab', reason: 'chat' });
    await first.waitFor(new RegExp(`run ${h.runId}: observing lab from services-1`));
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(
      first.lines.some(x => x.includes(`run ${h.runId}: `) && x.includes('observations')),
    ).toBe(false);

    const second = await spawnWorker(cfg, 'services-1', inv, fast);
    workers.push(second);
    const run = await services[1]!.wait(h.runId);
    await second.waitFor(new RegExp(`run ${h.runId}: \\d+ observations from services-1`));

    // Nothing lost: the services server's items were judged on real observations.
    expect(run.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
    expect(finding(run, 'connectivity').evidence.some(e => e.vantage === 'services-1')).toBe(true);
    // Exactly one done event, from one replica, and progress from that replica only.
    await until(async () => done.length > 0);
    await new Promise(r => setTimeout(r, 500));
    expect(done).toHaveLength(1);
    expect(done[0]!.run.id).toBe(h.runId);
    expect([...progressBy]).toEqual([done[0]!.replica]);
  });
});
