/**
 * `npm run measure:redis`: what 1,000 runs leave in Redis. Drives N full nine-item runs (default
 * 1,000; MEASURE_RUNS) of the healthy lab through the real queue (RedisRunService: BullMQ flows,
 * assembled in this process, saved in the Redis store as `ecebot serve` does) and in-process
 * vantage workers, under a throwaway key prefix on the real Redis. Then it reports Redis's
 * `used_memory` before and after (INFO memory; the server is shared, so this delta also holds
 * whatever else ran meanwhile) and, exactly, `MEMORY USAGE` of every key under the prefix,
 * summed per kind of key, and deletes the prefix.
 *
 * Retention is the point: nothing is removed between runs, so the figures are what the queue
 * and the store keep for 1,000 runs within their retention windows (job removal by age, result
 * TTL, store TTL and history limit). No timing is asserted: this is a measurement, not a test.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../src/inventory/load';
import { RedisRunService } from '../src/queue/redis-run-service';
import { RedisStore } from '../src/store/redis';
import { VantageWorker } from '../src/worker/vantage-worker';
import { cleanup } from '../test/queue/support';
import { startLabProcess, type LabProcess } from './measure';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const RUNS = Number(process.env.MEASURE_RUNS ?? 1000);
/** Environment copies with a run in flight at once (one run per environment at a time). */
const COPIES = Number(process.env.MEASURE_COPIES ?? 8);
const SERVERS = ['services-1', 'app-1'] as const;

/** The lab's inventory with its environment copied COPIES times (m0, m1, …). */
function copiesOf(lab: LabProcess): { path: string; envs: string[] } {
  const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: Record<string, unknown>;
  };
  const base = doc.environments.lab!;
  const envs = Array.from({ length: COPIES }, (_, i) => `m${i}`);
  const path = join(lab.dir, 'measure-redis-inventory.yaml');
  writeFileSync(path, stringify({ environments: Object.fromEntries(envs.map(e => [e, base])) }));
  return { path, envs };
}

/** Kinds of keys, first match wins; `<p>` is the prefix. */
const KINDS: [string, RegExp][] = [
  ['vantage queue event streams', /^<p>:vantage:.+:events$/],
  ['vantage child jobs (hash)', /^<p>:vantage:[^:]+:[0-9a-f-]{36}$/],
  ['vantage observations parts', /^<p>:vantage:[^:]+:part:[^:]+$/],
  ['vantage child job logs/locks', /^<p>:vantage:[^:]+:[0-9a-f-]{36}:/],
  ['vantage queue bookkeeping', /^<p>:vantage:/],
  ['runs event stream', /^<p>:runs:events$/],
  ['run parent jobs (hash)', /^<p>:runs:[^:]+-\d{14}-[0-9a-f]+$/],
  ['run parent processed (children values)', /^<p>:runs:[^:]+:processed$/],
  ['runs queue bookkeeping', /^<p>:runs:/],
  ['run results (for wait)', /^<p>:run:[^:]+:result$/],
  ['run missing/owner', /^<p>:run:/],
  ['store runs', /^<p>:store:run:/],
  ['store summaries', /^<p>:store:summary:/],
  ['store other', /^<p>:store:/],
];

function kindOf(key: string, prefix: string): string {
  const k = key.replace(prefix, '<p>');
  return KINDS.find(([, re]) => re.test(k))?.[0] ?? 'other';
}

async function usedMemory(r: Redis): Promise<number> {
  const info = await r.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

/** Every key under the prefix with its MEMORY USAGE (SAMPLES 0: every element counted). */
async function keysAndBytes(
  r: Redis,
  prefix: string,
): Promise<Map<string, { keys: number; bytes: number }>> {
  const kinds = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const bytes = Number(await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) || 0;
      const kind = kindOf(key, prefix);
      const k = kinds.get(kind) ?? { keys: 0, bytes: 0 };
      k.keys++;
      k.bytes += bytes;
      kinds.set(kind, k);
    }
  } while (cursor !== '0');
  return kinds;
}

const mb = (b: number) => `${(b / 1048576).toFixed(2)} MB`;

async function main(): Promise<void> {
  const prefix = `measure${randomBytes(5).toString('hex')}`;
  const queue = { url: REDIS_URL, prefix };
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const lab = await startLabProcess('healthy');
  const workers: VantageWorker[] = [];
  let service: RedisRunService | undefined;
  let store: RedisStore | undefined;
  try {
    const { path, envs } = copiesOf(lab);
    const inv = loadInventory(path);
    const before = await usedMemory(r);
    // One worker per queue: each copy's servers have their own (ENV/SERVER), central is shared.
    const ids = ['central', ...envs.flatMap(e => SERVERS.map(s => `${e}/${s}`))];
    for (const vantage of ids) {
      const w = new VantageWorker({ vantage, queue, inventory: () => inv, concurrency: 8 });
      await w.start();
      workers.push(w);
    }
    store = new RedisStore({ queue, secrets: undefined });
    service = new RedisRunService({ queue, inventory: () => inv, store });
    await service.ready();
    const started = Date.now();
    let submitted = 0;
    let incomplete = 0;
    await Promise.all(
      envs.map(async environment => {
        while (submitted < RUNS) {
          submitted++;
          const h = await service!.submit({ environment, reason: 'schedule' });
          const run = await service!.wait(h.runId);
          if (run.findings.some(f => f.status === 'error' || f.codes.includes('NO_WORKER')))
            incomplete++;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    // Closed first, so nothing writes while the keys are counted.
    await service.close();
    service = undefined;
    await Promise.all(workers.splice(0).map(w => w.close()));
    const after = await usedMemory(r);
    const kinds = await keysAndBytes(r, prefix);
    const total = [...kinds.values()].reduce((s, k) => s + k.bytes, 0);
    const keyCount = [...kinds.values()].reduce((s, k) => s + k.keys, 0);
    console.log(
      `${submitted} runs (${incomplete} incomplete) of ${COPIES} environment copies in ${seconds.toFixed(0)} s; ` +
        `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${mb(totalmem())} RAM, Node ${process.version}`,
    );
    console.log(
      `used_memory: ${mb(before)} → ${mb(after)} (delta ${mb(after - before)}; shared server)`,
    );
    console.log(`keys under the prefix: ${keyCount}, MEMORY USAGE total ${mb(total)}`);
    const w = Math.max(...[...kinds.keys()].map(k => k.length));
    for (const [kind, k] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes))
      console.log(`  ${kind.padEnd(w)}  ${String(k.keys).padStart(6)} keys  ${mb(k.bytes)}`);
  } finally {
    await service?.close();
    await Promise.all(workers.map(w => w.close()));
    await store?.close();
    await lab.stop();
    await cleanup(queue);
    r.disconnect();
  }
}

main().catch(err => {
  console.error(err);
  process.exitCode = 1;
});
