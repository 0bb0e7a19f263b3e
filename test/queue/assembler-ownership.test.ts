/**
 * Who assembles a run. Only an assembler with the full inventory (`ecebot serve`, or `ecebot
 * assembler`) takes the parent jobs on the runs queue; `ecebot check` through the queue submits
 * and waits, and never assembles. Before, the CLI started an assembler of its own on the runs
 * queue: with a one-environment inventory it could take the bot's runs of another environment
 * and fail them ("unknown environment"), and a scheduled run it took skipped saving and alerts.
 *
 * Against the real Redis (random prefix), the lab, in-process workers and real `ecebot`
 * processes:
 * - the bot side (a RedisRunService with a two-environment inventory, a store and `afterRun`)
 *   and a real `ecebot check` with a one-environment inventory share one prefix; while the CLI
 *   waits on its own run, the bot's runs of the other environment complete correctly, each
 *   assembled by the bot side; a scheduled run is saved and goes through `afterRun` there;
 * - with no assembler, `ecebot check` says so and gives up at its deadline instead of hanging;
 *   `ecebot assembler` then assembles the run left queued, and `check` works through it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import type { Run } from '../../src/model';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { connect, firstConnection, type QueueConfig } from '../../src/redis/connection';
import type { RunJobData } from '../../src/queue/jobs';
import type { QueueLog } from '../../src/queue/log';
import { RUNS_QUEUE } from '../../src/queue/names';
import { RedisRunService } from '../../src/queue/redis-run-service';
import type { RunHandle } from '../../src/queue/types';
import { SecretBox } from '../../src/store/crypto';
import { RedisStore } from '../../src/store/redis';
import { beat } from '../../src/queue/heartbeat';
import { VantageWorker } from '../../src/worker/vantage-worker';
import {
  cleanup,
  freshQueue,
  spawnAssembler,
  spawnCommand,
  stopWorker,
  until,
  type SpawnedCommand,
  type SpawnedWorker,
} from './support';

type InventoryDoc = { environments: Record<string, Record<string, unknown>> };

/** A log that keeps what it is told, to show the bot side logged no error. */
function recordingLog(): QueueLog & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    info: () => undefined,
    warn: () => undefined,
    error: (obj, msg) => errors.push(`${msg ?? ''} ${JSON.stringify(obj)}`),
  };
}

let l: Lab;
let labDoc: InventoryDoc;

beforeAll(async () => {
  l = await startLab({ scenarios: pickScenarios('healthy', () => undefined) });
  labDoc = parse(readFileSync(l.info.inventory, 'utf8')) as InventoryDoc;
});
afterAll(async () => {
  await l?.stop();
});

/** Write an inventory beside the lab's (its secrets and CA are relative to that folder). */
function writeInventory(name: string, environments: InventoryDoc['environments']): string {
  const path = join(l.dir, name);
  writeFileSync(path, stringify({ environments }));
  return path;
}

describe('the CLI beside the bot on one queue', () => {
  let cfg: QueueConfig;
  let bot: RedisRunService | undefined;
  let store: RedisStore | undefined;
  let redis: Redis | undefined;
  let runsQueue: Queue<RunJobData, Run> | undefined;
  const workers: VantageWorker[] = [];
  let cli: SpawnedCommand | undefined;

  beforeAll(() => {
    cfg = freshQueue();
  });
  afterAll(async () => {
    // Still waiting when an expectation failed: not left running.
    if (cli && cli.child.exitCode === null && cli.child.signalCode === null)
      cli.child.kill('SIGKILL');
    await bot?.close();
    await Promise.all(workers.map(w => w.close()));
    await runsQueue?.close();
    redis?.disconnect();
    await store?.close();
    await cleanup(cfg);
  });

  test("the CLI never assembles: the bot's runs of an environment the CLI does not know complete, and a scheduled run is saved and alerted on the bot side", async () => {
    const lab = labDoc.environments.lab!;
    // `lab` has one more application server, app-9, whose worker starts only at the end: the
    // CLI's run of `lab` waits for it, so the CLI is alive and waiting while the bot's runs go.
    const servers = [...(lab.servers as object[]), { name: 'app-9', role: 'application' }];
    const cliLab = { ...lab, servers };
    const full = writeInventory('full.yaml', { lab: cliLab, other: lab });
    const cliOnly = writeInventory('cli-only.yaml', { lab: cliLab });
    const inv = () => loadInventory(full);

    // Both environments name their servers alike: each server has its own queue and worker.
    const vantages = ['lab/services-1', 'lab/app-1', 'other/services-1', 'other/app-1', 'central'];
    for (const vantage of vantages) {
      const w = new VantageWorker({ vantage, queue: cfg, inventory: inv, heartbeatMs: 500 });
      await w.start();
      workers.push(w);
    }
    redis = connect(cfg, 'producer');
    await firstConnection(redis);
    runsQueue = new Queue<RunJobData, Run>(RUNS_QUEUE, { prefix: cfg.prefix, connection: redis });
    // app-9 looks alive (a beat that lasts longer than the test) but nothing takes its part yet.
    await beat(
      redis,
      cfg.prefix,
      { vantage: 'lab/app-9', at: new Date().toISOString(), host: 'app-9', pid: 1 },
      600_000,
    );

    store = new RedisStore({ queue: cfg, secrets: new SecretBox(randomBytes(32)) });
    const after: { runId: string; reason: string; environment: string }[] = [];
    const log = recordingLog();
    bot = new RedisRunService({
      queue: cfg,
      inventory: inv,
      store,
      heartbeatMs: 500,
      log,
      afterRun: async (run, { data }) => {
        after.push({ runId: run.id, reason: data.reason, environment: run.environment });
      },
    });
    await bot.ready();

    // The CLI's check of `lab`, with an inventory that knows `lab` only.
    cli = spawnCommand(cfg, ['check', 'lab', '--config', cliOnly, '--json'], {
      ECEBOT_WORKER_DEADLINE_MS: '600000',
    });
    const queued = await cli.waitForErr(/run lab-\S+ queued/);
    const cliRunId = /run (lab-\S+) queued/.exec(queued)![1]!;

    // The bot's runs of `other` while the CLI waits: a scheduled run, then chat requests for
    // items it covers, which join it (one run per environment in flight), so the runs queue holds
    // the bot's parent beside the CLI's (an assembler in the CLI would take it).
    const scheduled = await bot.submit({
      environment: 'other',
      items: ['mailbox-protocols', 'token'],
      reason: 'schedule',
      requestedBy: { id: 'schedule' },
    });
    const chat: RunHandle[] = [];
    for (const items of [['token'], ['mailbox-protocols'], ['token', 'mailbox-protocols']] as const)
      chat.push(await bot.submit({ environment: 'other', items: [...items], reason: 'chat' }));
    expect(chat.map(h => h.runId)).toEqual(chat.map(() => scheduled.runId));
    const runs = await Promise.all([scheduled, ...chat].map(h => bot!.wait(h.runId)));
    const ids = [...new Set(runs.map(r => r.id))].sort();

    for (const run of runs) {
      expect(run.environment).toBe('other');
      // The healthy lab passes when the run is judged with the full inventory (a warning is a
      // slow answer on a busy machine, SLOW_RESPONSE, not a verdict on the setup).
      expect(['pass', 'warn']).toContain(run.status);
      expect(run.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
      const job = await runsQueue.getJob(run.id);
      expect(await job?.getState()).toBe('completed');
      expect(job?.processedBy).toBe(bot.assembler.name);
    }
    // The scheduled run: saved in the store and through afterRun once, on the bot side.
    const sched = runs[0]!;
    expect(sched.id).toBe(scheduled.runId);
    expect(await store.getRun(sched.id)).toEqual(sched);
    expect(after.filter(a => a.runId === sched.id)).toEqual([
      { runId: sched.id, reason: 'schedule', environment: 'other' },
    ]);
    expect((await store.history('other', 50)).map(h => h.id).sort()).toEqual(ids);
    expect(after.map(a => a.runId).sort()).toEqual(ids);

    // All the while the CLI was waiting on its own run, which nobody has assembled yet.
    expect(cli.child.exitCode).toBeNull();
    expect(await runsQueue.getJobState(cliRunId)).toBe('waiting-children');

    // app-9's worker arrives: the CLI's run completes, assembled on the bot side.
    const app9 = new VantageWorker({ vantage: 'app-9', queue: cfg, inventory: inv });
    await app9.start();
    workers.push(app9);
    const result = await cli.done;
    expect(result.stderr).not.toMatch(/no assembler/);
    expect(result.code).toBe(0);
    const cliRun = JSON.parse(result.stdout) as Run;
    expect(cliRun.id).toBe(cliRunId);
    expect(['pass', 'warn']).toContain(cliRun.status);
    expect(
      cliRun.findings.find(f => f.item === 'network')?.evidence.some(e => e.vantage === 'app-9'),
    ).toBe(true);
    expect((await runsQueue.getJob(cliRunId))?.processedBy).toBe(bot.assembler.name);
    expect(after.map(a => a.runId)).toContain(cliRunId);
    expect(log.errors).toEqual([]);
  });
});

describe('ecebot check with no assembler, then with `ecebot assembler`', () => {
  let cfg: QueueConfig;
  let assembler: SpawnedWorker | undefined;
  const workers: VantageWorker[] = [];

  beforeAll(() => {
    cfg = freshQueue();
  });
  afterAll(async () => {
    await stopWorker(assembler);
    await Promise.all(workers.map(w => w.close()));
    await cleanup(cfg);
  });

  test('the CLI says no assembler runs and gives up at its deadline; `ecebot assembler` assembles the run left queued and the next check', async () => {
    const inv = l.info.inventory;
    for (const vantage of ['services-1', 'app-1', 'central']) {
      const w = new VantageWorker({
        vantage,
        queue: cfg,
        inventory: () => loadInventory(inv),
        heartbeatMs: 500,
      });
      await w.start();
      workers.push(w);
    }
    const deadline = { ECEBOT_WORKER_DEADLINE_MS: '2000' };
    const alone = spawnCommand(cfg, ['check', 'lab', '--config', inv], deadline);
    const lonely = await alone.done;
    expect(lonely.code).toBe(1);
    const runId = /run (lab-\S+) queued/.exec(lonely.stderr)?.[1];
    expect(runId).toBeDefined();
    // Told at once, then at the deadline, with what to start.
    expect(lonely.stderr).toMatch(
      /no assembler is running \(`ecebot serve` or `ecebot assembler`\); waiting up to 2 s/,
    );
    expect(lonely.stderr).toMatch(
      new RegExp(
        `ecebot: no assembler is running on the queue at 127\\.0\\.0\\.1:\\d+ \\(prefix ${cfg.prefix}\\).*Start \`ecebot serve\` \\(the bot\\) or \`ecebot assembler\`.*run ${runId} stays queued`,
      ),
    );
    expect(lonely.stdout).toBe('');

    // An assembler process with the inventory: the run left queued is assembled, and the next
    // check of the same environment joins it (it was still in flight) and prints its verdict.
    assembler = await spawnAssembler(cfg, inv);
    expect(assembler.lines[0]).toMatch(/assembler ready: queue .*inventory .* \(lab\)/);
    const next = await spawnCommand(cfg, ['check', 'lab', '--config', inv, '--json'], deadline)
      .done;
    expect(next.stderr).not.toMatch(/no assembler/);
    expect(next.code).toBe(0);
    const run = JSON.parse(next.stdout) as Run;
    expect(['pass', 'warn']).toContain(run.status);
    expect([runId, ...(/run (lab-\S+)/.exec(next.stderr) ?? []).slice(1)]).toContain(run.id);

    const redis = connect(cfg, 'producer');
    await firstConnection(redis);
    const runs = new Queue(RUNS_QUEUE, { prefix: cfg.prefix, connection: redis });
    try {
      // The run left queued is assembled too (by now, or in a moment if the check started anew).
      await until(async () => (await runs.getJobState(runId!)) === 'completed');
      expect((await runs.getJob(run.id))?.processedBy).toMatch(/^assembler:/);
    } finally {
      await runs.close();
      redis.disconnect();
    }

    assembler.child.kill('SIGTERM');
    expect(await assembler.exited).toBe(0);
    expect(assembler.lines.join('\n')).toMatch(/assembler: SIGTERM, finishing runs in hand/);
  });
});
