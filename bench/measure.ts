/**
 * Small measuring helpers for the benchmarks: wall time, percentiles, medians, and curl's own
 * timing. Figures are ratios measured side by side in one run, so a busy machine moves both
 * sides of a ratio together.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LabInfo } from '../src/lab/index';

/** The repository root (bench code runs from dist-bench/bench/). */
export const ROOT = join(__dirname, '..', '..');
/** The CLI as deployed: bin/ecebot.js over dist/ (`npm run build`). */
export const BIN = join(ROOT, 'bin', 'ecebot.js');

/** One benchmark figure, as written to bench/results.json. */
export interface Metric {
  name: string;
  value: number;
  unit: string;
  /** The goal as a readable condition, e.g. `<= 1.2`; `figure` for a figure without a goal. */
  goal: string;
  /** Whether the value meets the goal; null for a figure without a goal. */
  met: boolean | null;
  /** How it was measured, in a sentence. */
  how: string;
}

export function metric(
  name: string,
  value: number,
  unit: string,
  goal: { op: '<=' | '>='; target: number },
  how: string,
): Metric {
  const rounded = Math.round(value * 1000) / 1000;
  return {
    name,
    value: rounded,
    unit,
    goal: `${goal.op} ${goal.target}`,
    met: goal.op === '<=' ? value <= goal.target : value >= goal.target,
    how,
  };
}

/** A figure reported without a goal (`goal: "figure"`, `met: null`); `how` says why. */
export function figure(name: string, value: number, unit: string, how: string): Metric {
  return { name, value: Math.round(value * 1000) / 1000, unit, goal: 'figure', met: null, how };
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export const median = (v: number[]) => percentile(v, 50);

/** Run curl with `-w` timing; resolves to its exit code, wall ms and curl's own time_total ms. */
export function curl(
  args: string[],
): Promise<{ code: number; wallMs: number; totalMs: number; out: string }> {
  const t0 = performance.now();
  return new Promise(resolve => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '-w', '\n%{time_total}', ...args],
      { timeout: 15000 },
      (err, stdout) => {
        const wallMs = performance.now() - t0;
        const lines = stdout.trimEnd().split('\n');
        const totalMs = Number(lines[lines.length - 1]) * 1000;
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, wallMs, totalMs, out: lines.slice(0, -1).join('\n') });
      },
    );
  });
}

/** An `ecebot` process that printed the line waited for. */
export interface Spawned {
  child: ChildProcess;
  /** The line that matched. */
  line: string;
  /** Every line printed up to it. */
  lines: string[];
  exited: Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * Spawn `node NODE_ARGS bin/ecebot.js ARGS` (no shell) and wait up to 30 s for a stdout line
 * matching `ready`. Later lines are read and dropped, so the pipe never fills; the last 4,000
 * characters of stderr go into the error when the process exits or hangs first.
 */
export function spawnEcebot(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
  nodeArgs: string[] = [],
): Promise<Spawned> {
  if (!existsSync(join(ROOT, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` before `npm run bench`');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const name = args.slice(0, args[0] === 'worker' ? 3 : 1).join(' ');
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    const exited = new Promise<void>(r => child.once('exit', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ecebot ${name} did not start within 30 s: ${err}`));
    }, 30_000);
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`ecebot ${name} exited ${code}: ${err}`));
    });
    const seen: string[] = [];
    let started = false;
    createInterface({ input: child.stdout! }).on('line', line => {
      if (started) return;
      seen.push(line);
      if (!ready.test(line)) return;
      started = true;
      clearTimeout(timer);
      resolve({
        child,
        line,
        lines: seen,
        exited,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}

/** A lab in its own process (`ecebot lab --json`), as a real tenant is another machine. */
export interface LabProcess {
  info: LabInfo;
  dir: string;
  pid: number;
  /** Stop the lab and remove the folder it wrote (inventory, CA, secrets). */
  stop(): Promise<void>;
}

export async function startLabProcess(scenario: string): Promise<LabProcess> {
  const lab = await spawnEcebot(['lab', '--json', '--scenario', scenario], /^\{/);
  const info = JSON.parse(lab.line) as LabInfo;
  const dir = join(info.inventory, '..');
  return {
    info,
    dir,
    pid: lab.child.pid!,
    stop: async () => {
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident set size of a process in MB (VmRSS of /proc/<pid>/status; Linux). */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU time (user + system) a process has used so far, in ms (/proc/<pid>/stat; Linux). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5) (utime, stime), in clock ticks of 10 ms.
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** The Redis the queue benches use. */
export const BENCH_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
/** Preloaded into every process the benches start: nothing leaves 127.0.0.1, as in the tests. */
export const LOOPBACK_GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');

/**
 * The process environment without anything that would change the mode under test: no app id
 * (local mode), no Redis, no ecebot settings and no NODE_OPTIONS unless given in `extra`.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env))
    if (/^Microsoft/.test(k) || /^(REDIS_URL|ECEBOT_.*|NODE_OPTIONS)$/.test(k)) delete env[k];
  return { ...env, ...extra };
}

/**
 * `ecebot worker --vantage VANTAGE` on the bench's Redis under `prefix`, resolved once it is
 * pulling its queue. BENCH_WORKER_NODE_ARGS (e.g. `--max-semi-space-size=4`) measures a heap
 * setting an operator might give workers with NODE_OPTIONS.
 */
export function spawnWorker(vantage: string, inventory: string, prefix: string): Promise<Spawned> {
  return spawnEcebot(
    ['worker', '--vantage', vantage, '--config', inventory],
    / ready: queue /,
    cleanEnv({
      NODE_OPTIONS: `-r ${LOOPBACK_GUARD}`,
      REDIS_URL: BENCH_REDIS_URL,
      ECEBOT_QUEUE_PREFIX: prefix,
    }),
    (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  );
}
