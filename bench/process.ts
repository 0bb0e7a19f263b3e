/**
 * Benchmarks of ecebot's own processes as users feel them, the lab (playing Microsoft 365 in its
 * own process) excluded:
 * - cpu_ms_per_run: CPU of the ecebot processes of a queued deployment (one `ecebot worker` per
 *   vantage point, an `ecebot assembler`) and of the submitting client, per full run;
 * - cold_start_ms: `ecebot check lab` from spawn to its first line on stdout;
 * - rss_bot_idle_mb, rss_worker_idle_mb: `ecebot serve` (local mode) and `ecebot worker` once
 *   their start-up settled, before any message or job;
 * - and the cost of loading each dependency and each role's code (bench/modules.json; the table
 *   in docs/performance.md comes from it).
 * TLS handshakes a run makes (full and resumed) are counted in this process, on a full run of
 * the same lab (tls.connect wrapped for the count only).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { loadInventory, pickEnvironment } from '../src/inventory/load';
import { RunClient } from '../src/queue/run-client';
import { prepareRun } from '../src/runner/prepare';
import { runInProcess } from '../src/runner/run';
import { cleanup } from '../test/queue/support';
import {
  BIN,
  ROOT,
  cpuMs,
  median,
  metric,
  rssMb,
  spawnEcebot,
  startLabProcess,
  type LabProcess,
  type Metric,
  type Spawned,
  BENCH_REDIS_URL,
  cleanEnv,
  LOOPBACK_GUARD,
  spawnWorker,
} from './measure';

const REDIS_URL = BENCH_REDIS_URL;
const GUARD = LOOPBACK_GUARD;
const VANTAGES = ['services-1', 'app-1', 'central'] as const;
/** Runs measured for cpu_ms_per_run (one at a time), after warm-up runs. */
const CPU_RUNS = Number(process.env.BENCH_CPU_RUNS ?? 40);
const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 7);
/** Dependencies whose load cost is listed (what package.json's dependencies bring). */
const DEPENDENCIES = [
  'botbuilder',
  'restify',
  'adaptivecards-templating',
  'bullmq',
  'ioredis',
  '@azure/msal-node',
  'imapflow',
  'nodemailer',
  'pino',
  'prom-client',
  'zod',
  'yaml',
  'node-forge',
  'jsonwebtoken',
];

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const round1 = (n: number) => Math.round(n * 10) / 10;

/** Run `node -e SCRIPT` and parse the JSON line it prints. */
function nodeJson<T>(script: string): Promise<T> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['-e', script],
      { cwd: ROOT, env: cleanEnv(), timeout: 30_000 },
      (err, stdout) => {
        if (err) return reject(err);
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
      },
    ),
  );
}

/** One load measured in a fresh process: wall ms of the require, RSS after, modules loaded. */
interface LoadCost {
  ms: number;
  rssMb: number;
  /** RSS added over a bare `node -e` in the same kind of process. */
  addedMb: number;
  modules: number;
}

async function loadCost(requires: string[], bare: number): Promise<LoadCost> {
  const script = `const t=process.hrtime.bigint();${requires.map(r => `require(${JSON.stringify(r)});`).join('')}const ms=Number(process.hrtime.bigint()-t)/1e6;console.log(JSON.stringify({ms,rss:process.memoryUsage().rss/1048576,modules:Object.keys(require.cache).length}))`;
  const samples: { ms: number; rss: number; modules: number }[] = [];
  for (let i = 0; i < 3; i++) samples.push(await nodeJson(script));
  const rss = median(samples.map(s => s.rss));
  return {
    ms: round1(median(samples.map(s => s.ms))),
    rssMb: round1(rss),
    addedMb: round1(rss - bare),
    modules: samples[0]!.modules,
  };
}

/**
 * Each dependency alone, and each role's code as its command loads it (dist/, so run after
 * `npm run build`): written to bench/modules.json.
 */
async function moduleCosts(): Promise<{ bareMb: number; load: Record<string, LoadCost> }> {
  const bareMb = round1(
    median(
      await Promise.all(
        [0, 1, 2].map(() =>
          nodeJson<{ rss: number }>(
            'console.log(JSON.stringify({rss:process.memoryUsage().rss/1048576}))',
          ),
        ),
      ).then(s => s.map(x => x.rss)),
    ),
  );
  const load: Record<string, LoadCost> = {};
  for (const dep of DEPENDENCIES)
    load[dep] = await loadCost([join(ROOT, 'node_modules', dep)], bareMb);
  const dist = (m: string) => join(ROOT, 'dist', m);
  // What each command has loaded once it runs (src/cli.ts dispatch): the CLI itself, then the
  // command's own modules. `check` without REDIS_URL: inventory, runner, probes, text render.
  const roles: Record<string, string[]> = {
    'role: cli (dispatch only)': [dist('cli.js')],
    'role: check (local)': [
      dist('cli.js'),
      dist('runner/run.js'),
      dist('runner/reads/mailbox.js'),
      dist('probes/imap.js'),
      dist('probes/smtp.js'),
      dist('render/text.js'),
    ],
    'role: worker (idle)': [dist('cli.js'), dist('worker/command.js')],
    'role: worker (after a job)': [
      dist('cli.js'),
      dist('worker/command.js'),
      dist('runner/observe.js'),
      dist('probes/imap.js'),
      dist('probes/smtp.js'),
    ],
    'role: serve (bot)': [dist('cli.js'), dist('teams/serve.js')],
  };
  for (const [name, reqs] of Object.entries(roles)) load[name] = await loadCost(reqs, bareMb);
  return { bareMb, load };
}

/** Resident set size once it stopped growing: two samples 500 ms apart within 1 MB, ≤ 10 s. */
async function settledRss(pid: number): Promise<number> {
  let last = rssMb(pid);
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    const now = rssMb(pid);
    if (Math.abs(now - last) < 1) return now;
    last = now;
  }
  return last;
}

/** cold_start_ms: spawn → first stdout line of `ecebot check lab` (local, healthy lab). */
async function coldStart(lab: LabProcess): Promise<Metric> {
  const once = () =>
    new Promise<{ firstLineMs: number; exitMs: number; code: number | null }>((resolve, reject) => {
      const t0 = performance.now();
      let first = NaN;
      const child = execFile(
        process.execPath,
        [BIN, 'check', 'lab', '--config', lab.info.inventory],
        { cwd: ROOT, env: cleanEnv(), timeout: 30_000 },
        (err, _stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
          if (code !== 0) return reject(new Error(`ecebot check lab exited ${code}: ${stderr}`));
          resolve({ firstLineMs: first, exitMs: performance.now() - t0, code });
        },
      );
      child.stdout!.once('data', () => (first = performance.now() - t0));
    });
  await once(); // warm-up: the file system cache, as a second start finds it
  const load = loadavg()[0]!.toFixed(1);
  const runs: { firstLineMs: number; exitMs: number }[] = [];
  for (let i = 0; i < COLD_STARTS; i++) runs.push(await once());
  return metric(
    'cold_start_ms',
    median(runs.map(r => r.firstLineMs)),
    'ms',
    { op: '<=', target: 300 },
    `median of ${runs.length} starts (after one untimed) of \`node bin/ecebot.js check lab --config <lab inventory>\` against the healthy lab (own process), no REDIS_URL (the run happens in that process): time from spawn to the first chunk on stdout, which is the run's header line printed once all nine items are judged (so the full run is included); process exit at ${Math.round(median(runs.map(r => r.exitMs)))} ms (median); 1-min load average ${load} on ${cpus().length} cores (other work on the machine included)`,
  );
}

/** rss_bot_idle_mb: `ecebot serve` in local mode, settled, before any message. */
async function botIdle(lab: LabProcess): Promise<Metric> {
  const serve = await spawnEcebot(
    ['serve', '--config', lab.info.inventory, '--port', '0'],
    /listening on /,
    cleanEnv(),
  );
  try {
    const rss = await settledRss(serve.child.pid!);
    return metric(
      'rss_bot_idle_mb',
      rss,
      'MB',
      { op: '<=', target: 100 },
      'VmRSS of `ecebot serve` (local mode, no Redis, the lab inventory) once started and settled (two samples 500 ms apart within 1 MB), before any message; bench/modules.json lists what its code costs to load',
    );
  } finally {
    await serve.stop();
  }
}

/** TLS handshakes of one full in-process run, by host:port and full/resumed. */
async function handshakesPerRun(lab: LabProcess): Promise<{ full: number; resumed: number }> {
  const inv = loadInventory(lab.info.inventory);
  const env = pickEnvironment(inv, 'lab', lab.info.inventory);
  const count = { full: 0, resumed: 0 };
  const original = tls.connect;
  const counting = function (this: unknown, ...args: unknown[]) {
    const socket = (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) count.resumed++;
      else count.full++;
    });
    return socket;
  } as typeof tls.connect;
  await runInProcess(prepareRun(env, inv, { vars: {} })); // sessions made, as in a long-lived worker
  tls.connect = counting;
  try {
    const runs = 3;
    for (let i = 0; i < runs; i++) await runInProcess(prepareRun(env, inv, { vars: {} }));
    return { full: count.full / runs, resumed: count.resumed / runs };
  } finally {
    tls.connect = original;
  }
}

/**
 * cpu_ms_per_run and rss_worker_idle_mb: three workers (one per vantage point) and an assembler,
 * each its own process; this process submits one run at a time through a RunClient (what
 * `ecebot check` does with REDIS_URL) and waits for it.
 */
async function queuedRuns(lab: LabProcess): Promise<Metric[]> {
  const prefix = `bench${randomBytes(5).toString('hex')}`;
  const queue = { url: REDIS_URL, prefix };
  const procs: Spawned[] = [];
  let client: RunClient | undefined;
  try {
    const workers = await Promise.all(
      VANTAGES.map(v => spawnWorker(v, lab.info.inventory, prefix)),
    );
    procs.push(...workers);
    const idle = await Promise.all(workers.map(w => settledRss(w.child.pid!)));
    const assembler = await spawnEcebot(
      ['assembler', '--config', lab.info.inventory],
      / ready: queue /,
      cleanEnv({ NODE_OPTIONS: `-r ${GUARD}`, REDIS_URL, ECEBOT_QUEUE_PREFIX: prefix }),
    );
    procs.push(assembler);
    const inv = loadInventory(lab.info.inventory);
    client = new RunClient({ queue, inventory: () => inv, vars: { REDIS_URL } });
    await client.ready();
    const c = client;
    const oneRun = async () => {
      const h = await c.submit({ environment: 'lab', reason: 'cli' });
      const run = await c.wait(h.runId);
      if (h.joined || run.findings.some(f => f.status === 'error' || f.status === 'fail'))
        throw new Error(
          `cpu_ms_per_run: run ${run.id} did not pass: ${JSON.stringify(run.findings.map(f => [f.item, f.status, f.code]))}`,
        );
    };
    // Warm-up: each process loads its probes with its first job and makes its TLS sessions.
    for (let i = 0; i < 3; i++) await oneRun();
    const pids = procs.map(p => p.child.pid!);
    const load = loadavg()[0]!.toFixed(1);
    const p0 = pids.map(cpuMs);
    const l0 = cpuMs(lab.pid);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < CPU_RUNS; i++) await oneRun();
    const wall = (performance.now() - t0) / CPU_RUNS;
    const cu = process.cpuUsage(c0);
    const per = pids.map((p, i) => (cpuMs(p) - p0[i]!) / CPU_RUNS);
    const labPer = (cpuMs(lab.pid) - l0) / CPU_RUNS;
    const clientPer = (cu.user + cu.system) / 1000 / CPU_RUNS;
    const total = per.reduce((a, b) => a + b, 0) + clientPer;
    // The same run in one process (`ecebot check` without REDIS_URL): probes and assembly.
    const env = pickEnvironment(inv, 'lab', lab.info.inventory);
    await runInProcess(prepareRun(env, inv, { vars: {} }));
    const i0 = process.cpuUsage();
    const inRuns = 10;
    for (let i = 0; i < inRuns; i++) await runInProcess(prepareRun(env, inv, { vars: {} }));
    const iu = process.cpuUsage(i0);
    const inProcess = (iu.user + iu.system) / 1000 / inRuns;
    const hs = await handshakesPerRun(lab);
    const rssAfter = procs.map(p => round1(rssMb(p.child.pid!)));
    return [
      metric(
        'cpu_ms_per_run',
        total,
        'ms',
        { op: '<=', target: 40 },
        `${CPU_RUNS} full runs of the healthy lab one after another (after 3 untimed), submitted through the queue (RunClient in the bench process, REDIS_URL) to one \`ecebot worker\` per vantage point and an \`ecebot assembler\`, each its own process: CPU (user + system, /proc/<pid>/stat, 10 ms ticks) per run: workers ${VANTAGES.map((v, i) => `${v} ${round1(per[i]!)}`).join(', ')} ms, assembler ${round1(per[3]!)} ms, client (submit and wait) ${round1(clientPer)} ms; not counted: the lab ${round1(labPer)} ms and Redis. ${round1(wall)} ms wall per run. The same run in one process (\`ecebot check\` without REDIS_URL): ${round1(inProcess)} ms CPU. TLS handshakes per run: ${hs.full} full (the network item's probes and the mail logins, which observe their own handshake), ${hs.resumed} resumed (Entra, Graph and Exchange reads, src/probes/tls-sessions.ts). 1-min load average ${load} on ${cpus().length} cores (other work on the machine included)`,
      ),
      metric(
        'rss_worker_idle_mb',
        Math.max(...idle),
        'MB',
        { op: '<=', target: 70 },
        `largest VmRSS of the three \`ecebot worker\` processes (services-1, app-1, central; Redis, the lab inventory) once started and settled (two samples 500 ms apart within 1 MB), before any job (all: ${idle.map(round1).join(', ')} MB; after the ${CPU_RUNS + 3} runs above: ${rssAfter.slice(0, 3).join(', ')} MB)`,
      ),
    ];
  } finally {
    await client?.close();
    await Promise.all(procs.map(p => p.stop()));
    await cleanup(queue);
  }
}

export async function benchProcess(): Promise<Metric[]> {
  const out: Metric[] = [];
  const lab = await startLabProcess('healthy');
  try {
    out.push(...(await queuedRuns(lab)));
    out.push(await coldStart(lab));
    out.push(await botIdle(lab));
  } finally {
    await lab.stop();
  }
  const costs = await moduleCosts();
  const path = join(ROOT, 'bench', 'modules.json');
  writeFileSync(
    path,
    `${JSON.stringify({ node: process.version, measuredAt: new Date().toISOString(), how: 'median of 3 fresh `node -e` processes each: wall ms of the require() calls, VmRSS (process.memoryUsage().rss) after them, RSS added over a bare `node -e`, modules in require.cache; roles: the CLI and the modules its command loads (dist/, after npm run build)', ...costs }, null, 2)}\n`,
  );
  return out;
}

/** `node dist-bench/bench/process.js`: this part alone, printed. */
if (require.main === module) {
  benchProcess()
    .then(ms => {
      for (const m of ms)
        console.log(
          `${m.name} ${m.value} ${m.unit} (${m.goal}: ${m.met ? 'met' : 'NOT met'})\n  ${m.how}`,
        );
    })
    .catch(err => {
      console.error(err);
      process.exitCode = 1;
    });
}
