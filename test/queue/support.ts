/**
 * Helpers for the queue tests: a random key prefix per test on the real Redis (REDIS_URL or
 * 127.0.0.1:6379), removal of every key under it afterwards, worker and bot processes spawned
 * without a shell, a private redis-server for the stop/start test, and finding fixtures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import type { Finding, ItemId, Status } from '../../src/model';
import { DEFAULT_REDIS_URL, type QueueConfig } from '../../src/redis/connection';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'ecebot.js');
const GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');

export const REDIS_URL = process.env.REDIS_URL || DEFAULT_REDIS_URL;

/** A fresh queue configuration under a random prefix. */
export function freshQueue(url = REDIS_URL): QueueConfig {
  return { url, prefix: `t${randomBytes(5).toString('hex')}` };
}

/** Delete every key under the prefix (queues, heartbeats, store). */
export async function cleanup(cfg: QueueConfig): Promise<void> {
  const r = new Redis(cfg.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, found] = await r.scan(cursor, 'MATCH', `${cfg.prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (found.length) await r.del(...found);
    } while (cursor !== '0');
  } catch {
    // A private Redis already stopped holds nothing to clean.
  } finally {
    r.disconnect();
  }
}

/** Environment for worker processes: guard preloaded, the test's queue, fast stall checks. */
export function workerEnv(cfg: QueueConfig, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_OPTIONS: `-r ${GUARD}`,
    NO_COLOR: '1',
    ECEBOT_CONFIG: '',
    REDIS_URL: cfg.url,
    ECEBOT_QUEUE_PREFIX: cfg.prefix,
    ECEBOT_HEARTBEAT_MS: '500',
    ...extra,
  };
}

export interface SpawnedWorker {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string | null>;
  /** Resolves when a line matching `re` is printed. */
  waitFor(re: RegExp): Promise<string>;
}

/** Spawn `ecebot worker --vantage V --config INV` and wait until it says it is ready. */
export function spawnWorker(
  cfg: QueueConfig,
  vantage: string,
  inventory: string,
  extra: NodeJS.ProcessEnv = {},
): Promise<SpawnedWorker> {
  return spawnLongRunning(
    cfg,
    ['worker', '--vantage', vantage, '--config', inventory],
    /ready: queue/,
    `worker ${vantage}`,
    extra,
  );
}

/** Spawn `ecebot assembler --config INV` and wait until it says it is ready. */
export function spawnAssembler(
  cfg: QueueConfig,
  inventory: string,
  extra: NodeJS.ProcessEnv = {},
): Promise<SpawnedWorker> {
  return spawnLongRunning(
    cfg,
    ['assembler', '--config', inventory],
    /assembler ready: queue/,
    'assembler',
    extra,
  );
}

/** Spawn a long-running `ecebot ARGS` and wait until it prints a line matching `ready`. */
async function spawnLongRunning(
  cfg: QueueConfig,
  args: string[],
  ready: RegExp,
  label: string,
  extra: NodeJS.ProcessEnv,
): Promise<SpawnedWorker> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: workerEnv(cfg, extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  createInterface({ input: child.stdout! }).on('line', line => {
    lines.push(line);
    for (const w of [...watchers]) {
      if (w.re.test(line)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | string | null>(r =>
    child.on('exit', (code, signal) => r(code ?? signal)),
  );
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find(l => re.test(l));
      if (hit) return resolve(hit);
      watchers.push({ re, resolve });
      void exited.then(code =>
        reject(new Error(`${label} exited (${code}) before ${re}: ${stderr}`)),
      );
    });
  await waitFor(ready);
  return { child, lines, exited, waitFor };
}

/** A spawned one-shot `ecebot` command (such as `check`), followed line by line on stderr. */
export interface SpawnedCommand {
  child: ChildProcess;
  /** Resolves when a stderr line matching `re` is printed (or rejects once it exited). */
  waitForErr(re: RegExp): Promise<string>;
  /** Resolves once it exited, with its code and full output. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Spawn `ecebot ARGS` with the test's queue in its environment, without waiting for it. */
export function spawnCommand(
  cfg: QueueConfig,
  args: string[],
  extra: NodeJS.ProcessEnv = {},
): SpawnedCommand {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: workerEnv(cfg, extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const errLines: string[] = [];
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  createInterface({ input: child.stderr! }).on('line', line => {
    errLines.push(line);
    for (const w of [...watchers]) {
      if (w.re.test(line)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve =>
    child.on('close', code => resolve({ code, stdout, stderr })),
  );
  const waitForErr = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const hit = errLines.find(l => re.test(l));
      if (hit) return resolve(hit);
      watchers.push({ re, resolve });
      void done.then(r => reject(new Error(`exited (${r.code}) before ${re}: ${r.stderr}`)));
    });
  return { child, waitForErr, done };
}

/** Stop a spawned worker (SIGTERM, then SIGKILL if it lingers). */
export async function stopWorker(w: SpawnedWorker | undefined): Promise<void> {
  if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  const t = setTimeout(() => w.child.kill('SIGKILL'), 5000);
  await w.exited;
  clearTimeout(t);
}

/** A spawned `ecebot serve`, listening and connected to the test's queue. */
export interface SpawnedServe {
  child: ChildProcess;
  /** Its stdout lines so far. */
  lines: string[];
  /** The base URL it listens on. */
  url: string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string | null>;
}

/**
 * Spawn `ecebot serve --config INV --port 0` on the test's queue (with a fresh secret key) and
 * wait until it listens and has reached Redis; a bot that exits first fails with its stderr.
 */
export async function spawnServe(cfg: QueueConfig, inventory: string): Promise<SpawnedServe> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', inventory, '--port', '0'], {
    cwd: ROOT,
    env: workerEnv(cfg, { ECEBOT_SECRET_KEY: randomBytes(32).toString('base64') }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', l => lines.push(l));
  const exited = new Promise<number | string | null>(r =>
    child.once('exit', (code, signal) => r(code ?? signal)),
  );
  const alive = () => {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`serve exited ${child.exitCode ?? child.signalCode}: ${err}`);
  };
  try {
    const url = await until(async () => {
      alive();
      return lines.map(l => /listening on (http:\/\/\S+)/.exec(l)).find(Boolean)?.[1];
    }, 50);
    await until(async () => {
      alive();
      return lines.some(l => /queue at 127\.0\.0\.1/.test(l));
    }, 50);
    return { child, lines, url, exited };
  } catch (e) {
    // Not handed to the caller, so not left running either.
    child.kill('SIGKILL');
    throw e;
  }
}

/** A finding of `item` with `status`, as a rule reports it from services-1 (run fixtures). */
export function findingOf(item: ItemId, status: Status): Finding {
  return {
    item,
    title: item,
    status,
    summary: `${item} ${status}`,
    code: status === 'pass' ? 'OK' : 'CONNECT_REFUSED',
    codes: status === 'pass' ? [] : ['CONNECT_REFUSED'],
    evidence: [],
    remediation: [],
    failedOn: status === 'fail' ? ['services-1'] : [],
    vantages: ['services-1'],
    durationMs: 1,
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server (no persistence) on a given port, spawned without a shell. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/Ready to accept connections/.test(out)) resolve();
    });
    child.once('exit', code => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  return child;
}

/** Stop a private redis-server and wait for it to exit. */
export async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise(r => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

/** Poll until `fn` returns a truthy value (no timing assertion: Jest's timeout bounds it). */
export async function until<T>(
  fn: () => Promise<T | undefined | false>,
  everyMs = 100,
): Promise<T> {
  for (;;) {
    const v = await fn();
    if (v) return v;
    await new Promise(r => setTimeout(r, everyMs));
  }
}
