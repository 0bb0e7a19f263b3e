/**
 * Least privilege through the queue (docs/security.md): each vantage worker resolves only the
 * secrets its reads declare. The ECE servers' workers get an inventory folder without the probe
 * app's secret file, `central`'s one without the mailboxes' refresh-token files; the run against
 * the lab still judges every item as a run that holds every secret does.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { RedisRunService } from '../../src/queue/redis-run-service';
import type { QueueConfig } from '../../src/redis/connection';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { cleanup, freshQueue } from './support';

const copies: string[] = [];

/** A copy of the lab's inventory folder without the secret files `drop` matches. */
function copyWithout(inventory: string, drop: RegExp): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-lp-'));
  copies.push(dir);
  cpSync(dirname(inventory), dir, { recursive: true });
  const gone = readdirSync(join(dir, 'secrets')).filter(f => drop.test(f));
  if (!gone.length) throw new Error(`no secret file matches ${drop}`);
  for (const f of gone) rmSync(join(dir, 'secrets', f));
  return join(dir, basename(inventory));
}

describe('vantage workers without the secrets they do not need', () => {
  let lab: Lab;
  let cfg: QueueConfig;
  const workers: VantageWorker[] = [];
  let service: RedisRunService | undefined;

  beforeAll(async () => {
    lab = await startLab({ scenarios: [] });
    cfg = freshQueue();
  });
  afterAll(async () => {
    await service?.close();
    await Promise.all(workers.map(w => w.close()));
    await cleanup(cfg);
    await lab?.stop();
    for (const d of copies) rmSync(d, { recursive: true, force: true });
  });

  test('servers without the probe secret, central without refresh tokens: same verdicts as with all', async () => {
    const inv = lab.info.inventory;
    const full = loadInventory(inv);
    const expected = await runInProcess(
      prepareRun(pickEnvironment(full, 'lab', inv), full, { vars: {} }),
    );

    const onServers = copyWithout(inv, /^probe-app-secret$/);
    const onCentral = copyWithout(inv, /refresh-token$/);
    const lines: string[] = [];
    for (const [vantage, path] of [
      ['services-1', onServers],
      ['app-1', onServers],
      ['central', onCentral],
    ] as const) {
      const w = new VantageWorker({
        vantage,
        queue: cfg,
        inventory: () => loadInventory(path),
        vars: {},
        log: l => lines.push(l),
      });
      workers.push(w);
      await w.start();
    }
    // The process that checks the request and assembles the run holds the whole inventory.
    service = new RedisRunService({ queue: cfg, inventory: () => loadInventory(inv), vars: {} });
    await service.ready();
    const run = await service.wait(
      (await service.submit({ environment: 'lab', reason: 'cli' })).runId,
    );

    // No part failed for want of a secret (it would end the vantage as missing, NO_WORKER).
    expect(lines.filter(l => /inventory on|cannot be read/.test(l))).toEqual([]);
    expect(run.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
    const verdicts = (r: typeof run) =>
      // Vantage points in the order they answered, which differs between runs: as a set. A step
      // slower than the lab's threshold warns SLOW_RESPONSE (src/checklist/connectivity.ts): that
      // depends on the machine's load at that moment, not on which secrets a process holds, so
      // it counts as the pass it would otherwise be.
      r.findings.map(f =>
        f.code === 'SLOW_RESPONSE'
          ? { item: f.item, status: 'pass', code: 'OK', vantages: [...f.vantages].sort() }
          : { item: f.item, status: f.status, code: f.code, vantages: [...f.vantages].sort() },
      );
    expect(verdicts(run)).toEqual(verdicts(expected));
  });
});
