/**
 * Each role loads only what it uses (src/cli.ts dispatch, docs/performance.md): `ecebot check`
 * without REDIS_URL runs in its own process and needs no queue, no bot and no lab code; an idle
 * `ecebot worker` holds the queue client but not the probes (they load with its first job).
 * An idle `ecebot worker` is checked on its code as the worker command loads it.
 * Runs the built CLI (`npm run build`); a preloaded reporter lists the packages each process
 * had loaded when it exited.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { suggest } from '../../src/inventory/load';
import { ecebot, ROOT } from './support';

const GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');
let dir: string;
let reporter: string;
let lab: Lab;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ecebot-loads-'));
  reporter = join(dir, 'report-loaded.js');
  // On exit: the packages under node_modules the process had loaded, one JSON line on stderr.
  writeFileSync(
    reporter,
    `process.on('exit', () => {
  const names = new Set();
  for (const k of Object.keys(require.cache)) {
    const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(k);
    if (m) names.add(m[1].replace('\\\\', '/'));
  }
  process.stderr.write('LOADED ' + JSON.stringify([...names]) + '\\n');
});
`,
  );
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
});

afterAll(async () => {
  await lab?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function loaded(stderr: string): string[] {
  const line = stderr.split('\n').find(l => l.startsWith('LOADED '));
  if (!line) throw new Error(`no LOADED line in: ${stderr}`);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

const env = () => ({ NODE_OPTIONS: `-r ${GUARD} -r ${reporter}` });

test('check without REDIS_URL loads the probes but no queue, bot or lab package', async () => {
  const r = await ecebot(['check', 'lab', '--config', lab.info.inventory], { env: env() });
  expect(r.code).toBe(0);
  const pkgs = loaded(r.stderr);
  // It did run the checklist: the mail and Entra clients were loaded.
  expect(pkgs).toEqual(expect.arrayContaining(['imapflow', 'nodemailer', '@azure/msal-node']));
  for (const p of [
    'bullmq',
    'ioredis',
    'pino',
    'botbuilder',
    'restify',
    'prom-client',
    'adaptivecards-templating',
    'node-forge',
  ])
    expect(pkgs).not.toContain(p);
});

test('help loads neither the probes nor the queue', async () => {
  const r = await ecebot(['help'], { env: env() });
  expect(r.code).toBe(0);
  const pkgs = loaded(r.stderr);
  for (const p of ['imapflow', 'nodemailer', '@azure/msal-node', 'bullmq', 'ioredis', 'botbuilder'])
    expect(pkgs).not.toContain(p);
});

test("a worker's code loads the queue client but no probe until its first job", async () => {
  const pkgs = await new Promise<string[]>((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [
        '-r',
        reporter,
        '-e',
        `require(${JSON.stringify(join(ROOT, 'dist', 'worker', 'command.js'))})`,
      ],
      { cwd: ROOT },
    );
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('close', () => resolve(loaded(stderr)));
  });
  expect(pkgs).toEqual(expect.arrayContaining(['bullmq', 'ioredis']));
  for (const p of ['@azure/msal-node', 'imapflow', 'nodemailer', 'botbuilder', 'restify'])
    expect(pkgs).not.toContain(p);
});
