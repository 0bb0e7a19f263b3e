/**
 * `ecebot bundle RUN_ID` through the real binary (bin/ecebot.js, built dist/) against the real
 * Redis store (a random prefix, cleaned up): it writes the bundle of a stored run, refuses to
 * overwrite without --force, refuses ids that are not run ids and runs that are not stored,
 * and writes nothing when it refuses.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueConfig } from '../../src/redis/connection';
import { RedisStore } from '../../src/store/redis';
import { ecebot } from '../cli/support';
import { cleanup, freshQueue } from '../queue/support';
import { inventoryFile, leakyRun, PLANTED, VARS } from './fixtures';
import { readZip } from './zip-reader';

let cfg: QueueConfig;
let store: RedisStore;
let dir: string;
let inventory: string;
const run = leakyRun();

beforeAll(async () => {
  cfg = freshQueue();
  store = new RedisStore({ queue: cfg, secrets: undefined });
  await store.ready();
  await store.saveRun(run);
  dir = mkdtempSync(join(tmpdir(), 'ecebot-cli-bundle-'));
  inventory = inventoryFile(dir);
});

afterAll(async () => {
  await store.close();
  await cleanup(cfg);
});

const env = (extra: NodeJS.ProcessEnv = {}) => ({
  REDIS_URL: cfg.url,
  ECEBOT_QUEUE_PREFIX: cfg.prefix,
  ...VARS,
  ...extra,
});

const bundle = (args: string[], cwd = dir, extra: NodeJS.ProcessEnv = {}) =>
  ecebot(['bundle', ...args, '--config', inventory], { cwd, env: env(extra) });

test('writes ecebot-RUN_ID.zip in the working folder: the run, redacted, readable by its owner only', async () => {
  const r = await bundle([run.id]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const path = join(dir, `ecebot-${run.id}.zip`);
  expect(r.stdout).toContain(path);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const entries = readZip(path);
  expect(entries.map(e => e.name)).toEqual(
    expect.arrayContaining(['run.json', 'manifest.json', 'inventory.json', 'facts.json']),
  );
  expect(JSON.parse(entries.find(e => e.name === 'run.json')!.data.toString()).id).toBe(run.id);
  const all = entries.map(e => e.data.toString('utf8')).join('\n');
  for (const s of PLANTED) expect(all).not.toContain(s);
  // What the command printed names counts, never values.
  for (const s of PLANTED) expect(r.stdout).not.toContain(s);
});

test('an existing file is kept unless --force; --out chooses the file', async () => {
  const path = join(dir, 'mine.zip');
  writeFileSync(path, 'not a bundle');
  const refused = await bundle([run.id, '--out', path]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/exists/);
  expect(refused.stderr).toMatch(/--force/);
  expect(readFileSync(path, 'utf8')).toBe('not a bundle');
  const forced = await bundle([run.id, '-o', path, '--force']);
  expect(forced.code).toBe(0);
  expect(readZip(path).some(e => e.name === 'run.json')).toBe(true);
});

test('a hostile run id is refused before anything is read or written', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ecebot-cli-bundle-bad-'));
  for (const bad of ['../../etc/passwd', 'prod-20261203091500-0a1b/../x', 'PROD-1', '*']) {
    const r = await bundle([bad], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a run id/);
  }
  expect(existsSync(join(cwd, 'ecebot-..zip'))).toBe(false);
});

test('a run that is not stored, or no REDIS_URL, is bad input and writes nothing', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ecebot-cli-bundle-none-'));
  const missing = 'prod-20261203091500-ffff';
  const r = await bundle([missing], cwd);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/no run prod-20261203091500-ffff is stored/);
  expect(existsSync(join(cwd, `ecebot-${missing}.zip`))).toBe(false);
  const noRedis = await bundle([run.id], cwd, { REDIS_URL: '' });
  expect(noRedis.code).toBe(2);
  expect(noRedis.stderr).toMatch(/needs REDIS_URL/);
  expect(existsSync(join(cwd, `ecebot-${run.id}.zip`))).toBe(false);
});

test('bundle is in the usage and has its own help', async () => {
  const help = await ecebot(['bundle', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: ecebot bundle RUN_ID/);
  const usage = await ecebot(['help']);
  expect(usage.stdout).toMatch(/ecebot bundle RUN_ID/);
  const bad = await ecebot(['bundle', run.id, '--outt', 'x']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/did you mean --out/);
});
