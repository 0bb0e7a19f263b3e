/**
 * The support bundle from plain fixtures: what goes in, what is cut out, and the manifest's
 * account of it, read back with an independent zip reader (./zip-reader.ts). The planted
 * values follow the wire formats they imitate: XOAUTH2's `user=…^Aauth=Bearer …^A^A`
 * (o365-facts.md §1.5, RFC 7628), HTTP Basic (RFC 7617), cookies (RFC 6265), an OAuth 2.0
 * token request body (RFC 6749 §6) and URL userinfo (RFC 3986 §3.2.1).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildBundle, knownSecretsOf, parseRunId, storedRun } from '../../src/bundle/bundle';
import { loadInventory } from '../../src/inventory/load';
import type { Run } from '../../src/model';
import { MemoryStore } from '../../src/store/memory';
import { readZip, type ReadEntry } from './zip-reader';

const dir = mkdtempSync(join(tmpdir(), 'ecebot-bundle-'));
const APP_SECRET = `app~${randomBytes(18).toString('base64url')}`;
const PROBE_SECRET = `probe+${randomBytes(18).toString('base64')}`;
const REFRESH = `0.A${randomBytes(60).toString('base64url')}`;
const JWT = `eyJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJzdXBwb3J0QGV4YW1wbGUuY29tIn0.${randomBytes(40).toString('base64url')}`;
const BASIC = Buffer.from(`proxyuser:${randomBytes(9).toString('hex')}`).toString('base64');
const COOKIE = `ESTSAUTH=${randomBytes(24).toString('hex')}`;
const FORM_PASSWORD = randomBytes(12).toString('hex');
const URL_PASSWORD = randomBytes(12).toString('hex');
const XOAUTH2 = Buffer.from(`user=support@example.com\x01auth=Bearer ${JWT}\x01\x01`).toString(
  'base64',
);
const GUID = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;

function inventoryFile(): string {
  writeFileSync(join(dir, 'app-secret.txt'), `${APP_SECRET}\n`);
  const env = (tenant: number) => ({
    ece: { version: '12.6(1)', es: 4 },
    servers: [{ name: 'services-1', role: 'services' }],
    tenant: { id: GUID(tenant) },
    app: {
      clientId: GUID(tenant + 1),
      secret: 'file:app-secret.txt',
      // Under keys no secret-key rule knows (`cert`, `key`): only the reference rule takes them.
      certificate: { cert: 'file:ece-app.crt', key: 'file:ece-app.key' },
    },
    probe: { clientId: GUID(tenant + 2), secret: 'env:BUNDLE_TEST_PROBE_SECRET' },
    mailboxes: [
      {
        address: 'support@example.com',
        access: 'mailbox',
        retrieve: 'imap',
        refreshToken: 'env:BUNDLE_TEST_REFRESH',
      },
    ],
    endpoints: { proxy: 'http://proxy.example.com:3128', proxyCredentials: 'env:NOT_SET_HERE' },
  });
  const path = join(dir, 'inventory.yaml');
  writeFileSync(path, stringify({ environments: { prod: env(1), other: env(5) } }));
  return path;
}

const VARS = { BUNDLE_TEST_PROBE_SECRET: PROBE_SECRET, BUNDLE_TEST_REFRESH: REFRESH };

/** A run whose transcripts carry every kind of secret a careless probe could have kept. */
function leakyRun(): Run {
  return {
    id: 'prod-20261203091500-0a1b',
    environment: 'prod',
    startedAt: '2026-12-03T09:15:00.000Z',
    finishedAt: '2026-12-03T09:15:09.000Z',
    status: 'fail',
    ece: { version: '12.6(1)', es: 4 },
    findings: [
      {
        item: 'connectivity',
        title: 'Connectivity',
        status: 'fail',
        summary: `login failed for ${APP_SECRET}`,
        code: 'AUTH_FAILED',
        codes: ['AUTH_FAILED'],
        evidence: [
          {
            vantage: 'services-1',
            target: 'outlook.office365.com:993',
            text: 'NO AUTHENTICATE failed',
            code: 'AUTH_FAILED',
            ok: false,
            durationMs: 120,
            transcript: [
              'S: * OK The Microsoft Exchange IMAP4 service is ready.',
              `C: A1 AUTHENTICATE XOAUTH2 ${XOAUTH2}`,
              'S: A1 NO AUTHENTICATE failed.',
              `C: Authorization: Basic ${BASIC}`,
              `S: Set-Cookie: ${COOKIE}; path=/; secure`,
              `C: grant_type=refresh_token&refresh_token=${REFRESH}&client_secret=${PROBE_SECRET}`,
              `C: POST https://proxyuser:${URL_PASSWORD}@proxy.example.com/ password=${FORM_PASSWORD}`,
              'S: <redacted token 1200 chars> stays as it was',
            ],
          },
        ],
        remediation: [],
        failedOn: ['services-1'],
        vantages: ['services-1'],
        durationMs: 120,
      },
      {
        item: 'version',
        title: 'ECE version',
        status: 'pass',
        summary: '12.6(1) ES4',
        code: 'OK',
        codes: [],
        evidence: [
          { vantage: 'inventory', target: 'ece', text: '12.6(1) ES4', code: 'OK', ok: true },
        ],
        remediation: [],
        failedOn: [],
        vantages: ['inventory'],
        durationMs: 0,
      },
    ],
  } as Run;
}

let entries: ReadEntry[];
let bytes: Buffer;
const text = (name: string) => entries.find(e => e.name === name)!.data.toString('utf8');

beforeAll(async () => {
  const inv = loadInventory(inventoryFile());
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
  for (const s of [
    APP_SECRET,
    PROBE_SECRET,
    REFRESH,
    JWT,
    XOAUTH2,
    BASIC,
    COOKIE,
    FORM_PASSWORD,
    URL_PASSWORD,
  ])
    expect(all).not.toContain(s);
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
