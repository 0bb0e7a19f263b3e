/**
 * The support bundle from plain fixtures: what goes in, what is cut out, and the manifest's
 * account of it, read back with an independent zip reader (./zip-reader.ts); the planted
 * secrets are in ./fixtures.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle, knownSecretsOf, parseRunId, storedRun } from '../../src/bundle/bundle';
import { loadInventory } from '../../src/inventory/load';
import type { Run } from '../../src/model';
import { MemoryStore } from '../../src/store/memory';
import { APP_SECRET, GUID, inventoryFile, leakyRun, PLANTED, PROBE_SECRET, VARS } from './fixtures';
import { readZip, type ReadEntry } from './zip-reader';

const dir = mkdtempSync(join(tmpdir(), 'ecebot-bundle-'));

let entries: ReadEntry[];
let bytes: Buffer;
const text = (name: string) => entries.find(e => e.name === name)!.data.toString('utf8');

beforeAll(async () => {
  const inv = loadInventory(inventoryFile(dir));
  const env = inv.environments.get('prod')!;
  const known = await knownSecretsOf(env, inv, VARS);
  const b = buildBundle({
    run: leakyRun(),
    env,
    knownSecrets: known,
    createdAt: new Date(Date.UTC(2026, 11, 3, 9, 20)),
    versions: { ecebot: '9.9.9', node: 'v24.0.0', platform: 'linux x64' },
  });
  expect(b.fileName).toBe('ecebot-prod-20261203091500-0a1b.zip');
  bytes = b.bytes;
  const path = join(dir, b.fileName);
  writeFileSync(path, bytes);
  entries = readZip(path);
});

test('the bundle holds the run, its transcripts, versions, the inventory, the facts and a manifest', () => {
  expect(entries.map(e => e.name).sort()).toEqual(
    [
      'facts.json',
      'inventory.json',
      'manifest.json',
      'run.json',
      'transcripts/connectivity.txt',
      'versions.json',
    ].sort(),
  );
  const run = JSON.parse(text('run.json')) as Run;
  expect(run.id).toBe('prod-20261203091500-0a1b');
  // ecebot's codes are not secrets: `code` fields survive the redaction.
  expect(run.findings.map(f => f.code)).toEqual(['AUTH_FAILED', 'OK']);
  expect(text('transcripts/connectivity.txt')).toMatch(/services-1 → outlook\.office365\.com:993/);
  expect(text('transcripts/connectivity.txt')).toContain('S: A1 NO AUTHENTICATE failed.');
  expect(JSON.parse(text('versions.json'))).toEqual({
    ecebot: '9.9.9',
    node: 'v24.0.0',
    platform: 'linux x64',
    ece: { run: { version: '12.6(1)', es: 4 }, inventory: { version: '12.6(1)', es: 4 } },
  });
  const facts = JSON.parse(text('facts.json')) as { name: string; tenantId: string };
  expect(facts).toMatchObject({ name: 'prod', tenantId: GUID(1) });
});

test('no planted secret is in any entry, in any of the bundle bytes', () => {
  const all = entries.map(e => e.data.toString('utf8')).join('\n');
  for (const s of PLANTED) expect(all).not.toContain(s);
  // Stored entries would show plainly in the archive bytes; deflated ones are covered above.
  expect(bytes.toString('latin1')).not.toContain(APP_SECRET);
});

test('the inventory is that environment only, every secret reference replaced', () => {
  const inv = JSON.parse(text('inventory.json')) as {
    environments: Record<string, { app: { secret: string }; probe: { secret: string } }>;
    source: string;
  };
  expect(Object.keys(inv.environments)).toEqual(['prod']);
  expect(inv.environments.prod!.app.secret).toBe('<redacted>');
  expect(inv.environments.prod!.probe.secret).toBe('<redacted>');
  expect(text('inventory.json')).not.toMatch(/env:|file:/);
  // The file it came from, by name only (not where it sits on the server).
  expect(inv.source).toBe('inventory.yaml');
  expect(text('inventory.json')).not.toContain(dir);
});

test('the manifest counts what was redacted, by kind, and lists every file with its hash', () => {
  const m = JSON.parse(text('manifest.json')) as {
    files: { name: string; bytes: number; sha256: string }[];
    redacted: Record<string, number>;
    alreadyRedacted: number;
  };
  for (const f of m.files) {
    const e = entries.find(x => x.name === f.name)!;
    expect(e.data.length).toBe(f.bytes);
    expect(createHash('sha256').update(e.data).digest('hex')).toBe(f.sha256);
  }
  expect(m.files.map(f => f.name)).not.toContain('manifest.json');
  // Counts are occurrences over all files. Planted once each in the transcript, which is in the
  // bundle twice (run.json and transcripts/connectivity.txt): the XOAUTH2 blob, the Basic
  // header, the cookie, the URL password, the form password.
  expect(m.redacted).toMatchObject({
    xoauth2: 2,
    authorization: 2,
    cookie: 2,
    urlCredentials: 2,
    credentialField: 2,
  });
  // Known values: the app secret in the summary (run.json only), the refresh token and the
  // probe secret in the transcript (twice each).
  expect(m.redacted.knownSecret).toBe(5);
  // Six references in the inventory: app secret, certificate and key, probe, the mailbox's
  // refresh token, the proxy's credentials (each counted once, whichever rule took it).
  expect((m.redacted.secretReference ?? 0) + (m.redacted.secretField ?? 0)).toBe(6);
  // The marker the run already carried, in both files.
  expect(m.alreadyRedacted).toBe(2);
  // Counts only: no value of any secret in the manifest.
  expect(text('manifest.json')).not.toContain(PROBE_SECRET);
});

test('run ids from outside are parsed: only the shape ecebot makes passes', () => {
  expect(parseRunId('prod-20261203091500-0a1b')).toEqual({
    runId: 'prod-20261203091500-0a1b',
    environment: 'prod',
  });
  expect(parseRunId('my-env_2-20261203091500-ffff')?.environment).toBe('my-env_2');
  for (const bad of [
    '',
    'prod',
    '../prod-20261203091500-0a1b',
    'prod-20261203091500-0a1b/../../x',
    'PROD-20261203091500-0a1b',
    'prod-2026120309150-0a1b',
    'prod-20261203091500-0A1B',
    'prod-20261203091500-0a1b\n',
    `${'a'.repeat(300)}-20261203091500-0a1b`,
    'prod-20261203091500-0a1b*',
  ])
    expect(parseRunId(bad)).toBeUndefined();
});

test('a stored value that is not a run of the id’s environment is no run at all', async () => {
  const store = new MemoryStore();
  const run = leakyRun();
  await store.saveRun(run);
  expect((await storedRun(store, run.id))?.id).toBe(run.id);
  expect(await storedRun(store, 'prod-20261203091500-ffff')).toBeUndefined();
  // A forged value: stored under a prod id, claiming another environment.
  await store.saveRun({ ...run, id: 'prod-20261203091500-beef', environment: 'other' });
  expect(await storedRun(store, 'prod-20261203091500-beef')).toBeUndefined();
  await store.saveRun({ ...run, id: 'prod-20261203091500-cafe', findings: 'x' } as unknown as Run);
  expect(await storedRun(store, 'prod-20261203091500-cafe')).toBeUndefined();
});
