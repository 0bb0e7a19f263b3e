/**
 * The secrets canary. Every secret in play has a known value: the client secrets the lab's
 * Entra ID accepts (one referenced from the inventory as `file:`, one as `env:`), a wrong client
 * secret, ECEBOT_SECRET_KEY, the refresh tokens of the inventory, and every token and device
 * code the lab hands out while the runs go on (access, id and refresh tokens, the delegated
 * token of a device-code sign-in). Real `ecebot` processes then run a healthy check, failing
 * checks (a wrong secret; broken mailboxes and a refused port) and the Teams bot with its
 * workers over Redis, sign-in included. Every byte they write (stdout, stderr and their pino
 * logs, the `--json` output, every request the bot makes to the Bot Connector, every command
 * sent to Redis and every key and value left under the prefix) is searched for each secret
 * in each of its encodings, and for anything shaped like a token. So is every entry,
 * decompressed, of the support bundles of those runs: written by `ecebot bundle` and downloaded
 * through the run card's Support bundle button. The README's promise:
 * secrets are never shown in cards, logs, transcripts, error messages or `--json` output, and
 * a token ecebot keeps is encrypted at rest (AES-256-GCM).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { suggest } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { QueueConfig } from '../../src/redis/connection';
import { parseKey, SecretBox } from '../../src/store/crypto';
import { refreshTokenKey } from '../../src/store/tokens';
import { cleanup, freshQueue } from '../queue/support';
import { cardTexts } from '../teams/support/adaptive';
import { message, post } from '../teams/support/bot-client';
import { cardOf, FakeConnector, type Recorded } from '../teams/support/fake-connector';
import {
  base64Core,
  Capture,
  dumpPrefix,
  formsOf,
  monitorRedis,
  runEcebot,
  search,
  spawnEcebot,
  xoauth2Forms,
  type Captured,
  type Hit,
  type Proc,
  type Secret,
} from './support/canary';
import { approveDeviceCode } from '../teams/support/device-code';
import { readZip } from '../bundle/zip-reader';
import { execute } from '../teams/support/bot-client';

/** Distinctive values: a hit can only come from this test. */
const ECE_SECRET = `cnry8Q~${randomBytes(18).toString('base64url')}.ece`;
const PROBE_SECRET = `cnry+probe/${randomBytes(18).toString('base64')}`;
const WRONG_SECRET = `cnry8Q~${randomBytes(18).toString('base64url')}.wrong`;
const KEY_BYTES = randomBytes(32);
const SECRET_KEY = KEY_BYTES.toString('base64');
const MAILBOX_USERS = ['support@example.com', 'sales@example.com', 'svc-ece@example.com'];

interface EnvDoc {
  app: { secret: string };
  probe?: { secret: string };
  mailboxes: { address: string; refreshToken?: string }[];
  endpoints: { caFile?: string };
}

const capture = new Capture();

/** Every entry of a support bundle, decompressed by an independent reader, into the capture. */
function captureBundle(label: string, zipFile: string): number {
  const entries = readZip(zipFile);
  for (const e of entries) capture.add(`${label} ${e.name}`, e.data.toString('utf8'));
  return entries.length;
}

/** The run id a run card's Re-run button carries. */
function runIdOf(rec: Recorded): string {
  const actions = (cardOf(rec)!.actions ?? []) as { verb?: string; data?: { runId?: string } }[];
  return actions.find(a => a.verb === 'rerun')!.data!.runId!;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise(r => s.close(r));
  return port;
}
/** Folders holding secret files (the labs' and this test's), removed at the end. */
const dirs: string[] = [];
let healthy: Lab;
let broken: Lab;
let cfg: QueueConfig;
let redis: Redis;
/** The inventory the CLI checks: the healthy lab, ecebot's own app secret from the environment. */
let cliInventory: string;
/** The same with a client secret Entra does not know. */
let wrongInventory: string;
/** The bot's workers: both environments' servers, by queue identity, and central. */
const VANTAGES = ['lab/services-1', 'lab/app-1', 'broken/services-1', 'broken/app-1', 'central'];
/** The broken lab's inventory for the CLI. */
let brokenInventory: string;
/** For the bot: `lab` (healthy, no token for support@ until a sign-in) and `broken`. */
let botInventory: string;

function readEnv(path: string): EnvDoc {
  const doc = parse(readFileSync(path, 'utf8')) as { environments: { lab: EnvDoc } };
  return doc.environments.lab;
}

/** Relative `file:` references and the CA path, made absolute (for an inventory elsewhere). */
function absolute(env: EnvDoc, dir: string): EnvDoc {
  const abs = (ref: string) =>
    ref.startsWith('file:') ? `file:${resolve(dir, ref.slice(5))}` : ref;
  env.app.secret = abs(env.app.secret);
  if (env.probe) env.probe.secret = abs(env.probe.secret);
  for (const m of env.mailboxes) if (m.refreshToken) m.refreshToken = abs(m.refreshToken);
  if (env.endpoints.caFile) env.endpoints.caFile = resolve(dir, env.endpoints.caFile);
  return env;
}

function writeInventory(dir: string, name: string, envs: Record<string, EnvDoc>): string {
  const path = join(dir, name);
  writeFileSync(path, stringify({ environments: envs }));
  return path;
}

/** What every ecebot process gets: the probe secret the inventory names, the store's key. */
const ENV = { ECEBOT_PROBE_SECRET: PROBE_SECRET, ECEBOT_SECRET_KEY: SECRET_KEY };

/** `ecebot check lab` against one inventory, its output recorded under `label`. */
const checkLab = (label: string, inventory: string, flags: string[], env = ENV) =>
  runEcebot(label, ['check', 'lab', '--config', inventory, ...flags], env, capture);

/** Every secret known now (the labs keep handing out tokens, so ask again before each search). */
function secrets(): Secret[] {
  const out: Secret[] = [
    { label: 'ECE app client secret', value: ECE_SECRET },
    { label: 'probe app client secret', value: PROBE_SECRET },
    { label: 'wrong client secret', value: WRONG_SECRET },
    {
      label: 'ECEBOT_SECRET_KEY',
      value: SECRET_KEY,
      forms: [
        { encoding: 'key bytes hex', text: KEY_BYTES.toString('hex') },
        { encoding: 'key bytes HEX', text: KEY_BYTES.toString('hex').toUpperCase() },
        ...[0, 1, 2].flatMap(o => [
          {
            encoding: `key bytes base64@${o}`,
            text: base64Core(KEY_BYTES, o, false),
          },
          {
            encoding: `key bytes base64url@${o}`,
            text: base64Core(KEY_BYTES, o, true),
          },
        ]),
      ],
    },
  ];
  for (const [name, lab] of [
    ['healthy lab', healthy],
    ['broken lab', broken],
  ] as const) {
    if (!lab) continue;
    const tokens = new Set<string>([
      ...Object.keys(lab.tenant.refreshTokens),
      ...Object.values(lab.info.tokens),
      ...lab.issued,
    ]);
    let i = 0;
    for (const t of tokens) {
      const kind = t.startsWith('eyJ') ? 'JWT' : t.startsWith('0.A') ? 'refresh token' : 'code';
      out.push({
        label: `${name} ${kind} #${++i}`,
        value: t,
        forms: t.startsWith('eyJ') ? MAILBOX_USERS.flatMap(u => xoauth2Forms(u, t)) : [],
      });
    }
  }
  return out;
}

function describeHits(hits: Hit[]): string {
  return hits
    .slice(0, 20)
    .map(h => `${h.secret} [${h.encoding}] in ${h.source}: …${h.context}…`)
    .join('\n');
}

/** Search `captured` and fail with where each secret was found. */
function expectClean(captured: Captured[], opts: { shapes?: boolean } = {}) {
  const hits = search(captured, secrets(), opts.shapes === false ? [] : undefined);
  if (hits.length) throw new Error(`secrets written (${hits.length}):\n${describeHits(hits)}`);
}

beforeAll(async () => {
  const secretsOpt = { eceApp: ECE_SECRET, probeApp: PROBE_SECRET };
  healthy = await startLab({ scenarios: pickScenarios('healthy', suggest), secrets: secretsOpt });
  broken = await startLab({
    scenarios: pickScenarios(
      'smtp-auth-disabled,pop-disabled,port-993-blocked-on-services',
      suggest,
    ),
    secrets: secretsOpt,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-canary-'));
  dirs.push(healthy.dir, broken.dir, dir);

  // ecebot's own app secret comes from the environment (`env:`), the ECE app's from a file.
  const h = absolute(readEnv(healthy.info.inventory), healthy.dir);
  h.probe!.secret = 'env:ECEBOT_PROBE_SECRET';
  cliInventory = writeInventory(dir, 'healthy.yaml', { lab: h });
  const wrongFile = join(dir, 'ece-app-secret.wrong');
  writeFileSync(wrongFile, `${WRONG_SECRET}\n`, { mode: 0o600 });
  wrongInventory = writeInventory(dir, 'wrong-secret.yaml', {
    lab: { ...h, app: { ...h.app, secret: `file:${wrongFile}` } },
  });
  const b = absolute(readEnv(broken.info.inventory), broken.dir);
  b.probe!.secret = 'env:ECEBOT_PROBE_SECRET';
  brokenInventory = writeInventory(dir, 'broken.yaml', { lab: b });
  // The bot's lab holds no token for support@: only the sign-in below gives it one.
  const withoutSupport = {
    ...h,
    mailboxes: h.mailboxes.map(m => {
      if (!m.address.startsWith('support@')) return m;
      const { refreshToken: _drop, ...rest } = m;
      return rest;
    }),
  };
  botInventory = writeInventory(dir, 'bot.yaml', { lab: withoutSupport, broken: b });

  cfg = freshQueue();
  redis = new Redis(cfg.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await cleanup(cfg);
  redis?.disconnect();
  await healthy?.stop();
  await broken?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the search finds a secret in each encoding, wherever it sits in the text', () => {
  const s: Secret = { label: 'planted', value: `cnry+/~${randomBytes(20).toString('base64')}` };
  for (const f of formsOf(s)) {
    for (const pad of ['', 'a', 'ab']) {
      const hits = search([{ source: 'planted', text: `${pad}…${f.text}…` }], [s], []);
      expect(hits.map(h => h.encoding)).toContain(f.encoding);
    }
  }
  // Base64 of a longer text that contains the secret at any offset is found too.
  for (const pad of ['', 'x', 'xy', 'xyz']) {
    const text = Buffer.from(`${pad}secret=${s.value}&more`).toString('base64');
    expect(search([{ source: 'b64', text }], [s], []).length).toBeGreaterThan(0);
    const url = Buffer.from(`${pad}secret=${s.value}&more`).toString('base64url');
    expect(search([{ source: 'b64url', text: url }], [s], []).length).toBeGreaterThan(0);
  }
  // The XOAUTH2 string and a bare JWT are found by shape, even when nobody said their value.
  const jwt = `eyJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJ4QHkifQ.${randomBytes(40).toString('base64url')}`;
  const blob = Buffer.from(`user=x@y\x01auth=Bearer ${jwt}\x01\x01`).toString('base64');
  expect(search([{ source: 'shape', text: `AUTHENTICATE XOAUTH2 ${blob}` }], []).length).toBe(1);
  expect(search([{ source: 'shape', text: `token ${jwt}` }], []).length).toBe(1);
  expect(search([{ source: 'clean', text: 'AUTHENTICATE XOAUTH2 <redacted>' }], [s])).toEqual([]);
});

test('CLI on a healthy lab: check --json and check --details write no secret', async () => {
  const json = await checkLab('check --json', cliInventory, ['--json']);
  expect(json.stderr).toBe('');
  const run = JSON.parse(json.stdout) as { findings: { item: string; status: string }[] };
  expect(run.findings.map(f => `${f.item}:${f.status}`)).toEqual(
    run.findings.map(f => `${f.item}:pass`),
  );
  expect(run.findings).toHaveLength(9);
  expect(json.code).toBe(0);
  // The transcripts are there, with the credentials cut out of them.
  expect(json.stdout).toMatch(/AUTHENTICATE XOAUTH2 <redacted/);
  expect(json.stdout).toMatch(/AUTH XOAUTH2 <redacted/);

  const details = await checkLab('check --details', cliInventory, ['--details']);
  expect(details.code).toBe(0);
  expect(details.stdout).toMatch(/PASS: 9 pass/);
  // The mail logins really happened: the lab handed out access tokens to redeem.
  expect(healthy.issued.filter(t => t.startsWith('eyJ')).length).toBeGreaterThan(2);
  expectClean(capture.from('check'));
});

test('CLI failing checks: a wrong client secret, broken mailboxes and a refused port', async () => {
  const wrong = await checkLab('wrong secret --json', wrongInventory, ['--json']);
  expect(wrong.code).toBe(1);
  const run = JSON.parse(wrong.stdout) as {
    findings: { item: string; status: string; code?: string; codes?: string[] }[];
  };
  const app = run.findings.find(f => f.item === 'app-registration')!;
  expect(app.status).toBe('fail');
  expect(JSON.stringify(app)).toMatch(/7000215/);

  const wrongText = await checkLab('wrong secret --details', wrongInventory, ['--details']);
  expect(wrongText.code).toBe(1);
  expect(wrongText.stdout).toMatch(/AADSTS7000215/);

  const failing = await checkLab('broken --json --details', brokenInventory, [
    '--json',
    '--details',
  ]);
  expect(failing.code).toBe(1);
  const f = JSON.parse(failing.stdout) as { findings: { item: string; status: string }[] };
  const status = Object.fromEntries(f.findings.map(x => [x.item, x.status]));
  expect(status['mailbox-protocols']).toBe('fail');
  expect(status.network).toBe('fail');
  // Tokens were redeemed and offered to the servers that refused them.
  expect(broken.issued.filter(t => t.startsWith('eyJ')).length).toBeGreaterThan(1);

  // A missing secret stops the run before anything happens: its error names the reference only.
  const missing = await checkLab('missing secret', cliInventory, [], {
    ECEBOT_SECRET_KEY: SECRET_KEY,
    ECEBOT_PROBE_SECRET: '',
  });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/ECEBOT_PROBE_SECRET/);
  expectClean(capture.from('wrong secret'));
  expectClean(capture.from('broken'));
  expectClean(capture.from('missing secret'));
});

test('CLI probe: a token given on the command line or in a file is never printed', async () => {
  const imap = healthy.info.endpoints.imap;
  const smtp = healthy.info.endpoints.smtp;
  const support = healthy.info.tokens['support@example.com']!;
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-canary-probe-'));
  dirs.push(dir);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${support}\n`, { mode: 0o600 });
  const lab = (ep: { host: string; port: number }) => [
    '--host',
    ep.host,
    '--port',
    String(ep.port),
    '--ca',
    healthy.info.ca,
    '--resolve',
    `${ep.host}=127.0.0.1`,
  ];
  const ok = await runEcebot(
    'probe imap --token',
    ['probe', 'imap', ...lab(imap), '--user', 'support@example.com', '--token', support, '--json'],
    ENV,
    capture,
  );
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ protocol: 'imap', ok: true });
  expect(ok.stdout).toMatch(/AUTHENTICATE XOAUTH2 <redacted/);
  // The mailbox's token offered for another mailbox: Exchange refuses it, and says so.
  const refused = await runEcebot(
    'probe smtp --token-file',
    ['probe', 'smtp', ...lab(smtp), '--user', 'sales@example.com', '--token-file', tokenFile],
    ENV,
    capture,
  );
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(/535|AUTH/);
  // And from the environment (ECEBOT_TOKEN), as the probe's help suggests.
  const pop3 = await runEcebot(
    'probe pop3 ECEBOT_TOKEN',
    ['probe', 'pop3', ...lab(healthy.info.endpoints.pop3), '--user', 'sales@example.com'],
    { ...ENV, ECEBOT_TOKEN: healthy.info.tokens['sales@example.com']! },
    capture,
  );
  expect(pop3.code).toBe(0);
  expect(pop3.stdout).toMatch(/OK/);
  expectClean(capture.from('probe'));
});

/** The lab's stand-in for a person entering the code at the verification URL. */
function signInAt(url: string, userCode: string, upn: string): Promise<number> {
  return approveDeviceCode(url, userCode, upn, healthy.info.ca);
}

test('serve and workers over Redis: checks, a failing check and a device-code sign-in write no secret, and the kept token is sealed', async () => {
  const monitor = await monitorRedis(cfg.url);
  const fake = await FakeConnector.start();
  const procs: Proc[] = [];
  const answers: Captured[] = [];
  const botPort = await freePort();
  const queueEnv = {
    ...ENV,
    REDIS_URL: cfg.url,
    ECEBOT_QUEUE_PREFIX: cfg.prefix,
    ECEBOT_HEARTBEAT_MS: '500',
    // Where the bot's support bundle links point (its own port, chosen here).
    ECEBOT_PUBLIC_URL: `http://127.0.0.1:${botPort}`,
  };
  try {
    // One worker per environment's server (queue identities ENV/SERVER) and the shared central.
    for (const v of VANTAGES)
      procs.push(
        spawnEcebot(
          `worker ${v}`,
          ['worker', '--vantage', v, '--config', botInventory],
          queueEnv,
          capture,
        ),
      );
    await Promise.all(procs.map(p => p.waitFor(/ready: queue/)));
    const bot = spawnEcebot(
      'serve',
      ['serve', '--config', botInventory, '--port', String(botPort)],
      queueEnv,
      capture,
    );
    procs.push(bot);
    const url = /listening on (http:\/\/\S+)/.exec(await bot.waitFor(/listening on/))![1]!;
    await bot.waitFor(/queue at 127\.0\.0\.1/);

    const where = { conversationId: 'a:canary' };
    const say = async (text: string) => {
      const from = fake.requests.length;
      const res = await post(url, message(fake.url, where, text));
      answers.push({ source: `bot answer to "${text}"`, text: JSON.stringify(res.body) });
      expect(res.status).toBeLessThan(300);
      const first = await fake.waitFor(
        r => r.conversationId === where.conversationId && r.method === 'POST',
        `the card for ${text}`,
        from,
      );
      return { first, from };
    };
    const finalCard = async (text: string): Promise<Recorded> => {
      const { first, from } = await say(text);
      return fake.waitFor(
        r =>
          r.method === 'PUT' &&
          r.activityId === first.answer &&
          cardTexts(cardOf(r)).some(t => t.includes('Re-run')),
        `the final card of ${text}`,
        from,
        60_000,
      );
    };

    // A healthy check, and a failing one.
    const healthyRun = await finalCard('check lab');
    const failed = await finalCard('check broken');
    expect(cardTexts(cardOf(failed)).join('\n')).toMatch(/EXO_SMTP_AUTH_DISABLED|SMTP AUTH/i);

    // Device-code sign-in as support@: the bot keeps the refresh token, sealed in Redis.
    const { first: signinCard, from } = await say('signin lab support@example.com');
    const text = cardTexts(cardOf(signinCard)).join('\n');
    const code = /\*\*([A-Z0-9]{8})\*\*/.exec(text)?.[1];
    const link = (cardOf(signinCard)!.actions as { type: string; url?: string }[]).find(
      a => a.type === 'Action.OpenUrl',
    )?.url;
    expect(code).toBeDefined();
    expect(link).toBeDefined();
    expect(await signInAt(link!, code!, 'support@example.com')).toBe(200);
    const signedIn = await fake.waitFor(
      r =>
        r.method === 'PUT' &&
        r.activityId === signinCard.answer &&
        cardTexts(cardOf(r)).some(t => t.includes('Signed in as')),
      'the sign-in outcome',
      from,
    );
    expect(cardTexts(cardOf(signedIn)).join('\n')).toContain(
      'Signed in as support@example.com: the mailbox itself.',
    );

    // Signing in as the wrong account: the token Entra handed out is dropped, not kept.
    const wrongAccount = await say('signin lab sales@example.com');
    const wrongText = cardTexts(cardOf(wrongAccount.first)).join('\n');
    const wrongCode = /\*\*([A-Z0-9]{8})\*\*/.exec(wrongText)?.[1];
    expect(await signInAt(link!, wrongCode!, 'support@example.com')).toBe(200);
    const refused = await fake.waitFor(
      r =>
        r.method === 'PUT' &&
        r.activityId === wrongAccount.first.answer &&
        cardTexts(cardOf(r)).some(t => t.includes('Signed in as')),
      'the refused sign-in',
      wrongAccount.from,
    );
    expect(cardTexts(cardOf(refused)).join('\n')).toContain('The token was not kept');

    // The services server's worker redeems the kept token: the token item passes for support@.
    const tokenRun = await finalCard('check lab token');
    const texts = cardTexts(cardOf(tokenRun));
    // A passing item sits under the card's passed line as "✔ **Title** — summary".
    const passed = texts.find(t => t.startsWith('✔ **Token generation**'));
    expect(passed).toMatch(/support@example\.com/);
    expect(passed).not.toContain('no token configured');

    // The kept token: in Redis only sealed (v2.<key id>.<iv>.<tag>.<ciphertext>), and it opens with the
    // key to a refresh token the lab issued to the sign-in, not one from the inventory.
    const name = refreshTokenKey('lab', 'support@example.com');
    const sealed = await redis.hget(`${cfg.prefix}:store:secrets`, name);
    expect(sealed).toMatch(/^v2\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const kept = new SecretBox(parseKey(SECRET_KEY)).open(name, sealed!);
    expect(healthy.tenant.refreshTokens[kept]?.upn).toBe('support@example.com');
    expect(healthy.issued).toContain(kept);
    expect(secrets().map(s => s.value)).toContain(kept);

    // The CLI through the queue (REDIS_URL set): the same workers observe, the CLI judges.
    const viaQueue = await runEcebot(
      'check through the queue --json',
      ['check', 'broken', '--config', botInventory, '--json'],
      queueEnv,
      capture,
    );
    expect(viaQueue.code).toBe(1);
    expect(JSON.parse(viaQueue.stdout)).toMatchObject({ environment: 'broken' });

    // Stored runs read back into cards.
    await say('status lab');
    await say('history lab');

    // Support bundles of those runs: by the CLI (from the Redis store, with the key that opens
    // the kept token), and through the run card's button and its download link.
    const bundleDir = mkdtempSync(join(tmpdir(), 'ecebot-canary-bundles-'));
    dirs.push(bundleDir);
    let bundled = 0;
    for (const [name, rec] of [
      ['healthy', healthyRun],
      ['failing', failed],
      ['token', tokenRun],
    ] as const) {
      const file = join(bundleDir, `${name}.zip`);
      const cli = await runEcebot(
        `bundle ${name}`,
        ['bundle', runIdOf(rec), '--config', botInventory, '--out', file],
        queueEnv,
        capture,
      );
      expect(cli.code).toBe(0);
      bundled += captureBundle(`bundle ${name} (CLI)`, file);
    }
    const pressed = await post(
      url,
      execute(fake.url, where, tokenRun.activityId ?? 'card', 'bundle', {
        runId: runIdOf(tokenRun),
      }),
    );
    answers.push({ source: 'bot answer to the bundle button', text: JSON.stringify(pressed.body) });
    const bundleLink = (
      pressed.body as { value: { actions: { type: string; url?: string }[] } }
    ).value.actions.find(a => a.type === 'Action.OpenUrl')?.url;
    expect(bundleLink).toMatch(/\/bundles\//);
    const download = await fetch(bundleLink!, { method: 'POST' });
    expect(download.status).toBe(200);
    const downloaded = join(bundleDir, 'downloaded.zip');
    writeFileSync(downloaded, Buffer.from(await download.arrayBuffer()));
    bundled += captureBundle('bundle token (bot download)', downloaded);
    // run.json, transcripts, versions, inventory, facts and manifest of four bundles.
    expect(bundled).toBeGreaterThanOrEqual(4 * 6);
    expect(capture.from('bundle token (CLI) transcripts/').length).toBeGreaterThan(0);

    // What is left under the prefix, while the processes still run.
    for (const e of await dumpPrefix(redis, cfg.prefix))
      capture.add(`redis ${e.type} ${e.key}`, `${e.key}\n${e.text}`);

    for (const p of procs.reverse()) expect(await p.stop()).toBe(0);
  } finally {
    for (const p of procs) await p.stop();
    await fake.close();
    await monitor.stop();
  }

  for (const r of fake.requests)
    capture.add(
      `connector ${r.method} ${r.path}`,
      `${r.path}\n${r.authorization ?? ''}\n${JSON.stringify(r.body)}`,
    );
  for (const a of answers) capture.add(a.source, a.text);
  // Every command any client sent to Redis meanwhile: ours (under the prefix) are searched for
  // secret shapes too; others' traffic only for our secrets' values.
  const ours = monitor.lines.filter(l => l.includes(`${cfg.prefix}:`));
  capture.add('redis commands under the prefix', ours.join('\n'));
  const all = monitor.lines.join('\n');

  // The capture is what it should be: cards, logs, job traffic and the sealed secret.
  expect(fake.requests.filter(r => cardOf(r)).length).toBeGreaterThanOrEqual(8);
  for (const v of VANTAGES)
    expect(capture.from(`worker ${v}: stdout`)[0]!.text).toMatch(/observations from/);
  expect(capture.from('serve: stdout')[0]!.text).toMatch(/kept a refresh token/);
  expect(ours.length).toBeGreaterThan(100);
  expect(ours.join('\n')).toMatch(/:store:secrets .*rt:lab:support@example\.com v2\./);
  expect(capture.from('redis hash').length).toBeGreaterThan(0);

  expectClean(
    capture.items.filter(
      c => !c.source.startsWith('check') && !/^(wrong|broken|missing)/.test(c.source),
    ),
  );
  expectClean([{ source: 'redis commands (all clients)', text: all }], { shapes: false });
});

test('in all, every byte written was searched: no secret in any of it', () => {
  const sources = new Set(capture.items.map(c => c.source.split(':')[0]!));
  expect([...sources]).toEqual(
    expect.arrayContaining([
      'check --json',
      'check --details',
      'serve',
      'worker central',
      'bundle token (CLI) run.json',
      'bundle token (bot download) inventory.json',
    ]),
  );
  const bytes = capture.items.reduce((n, c) => n + c.text.length, 0);
  expect(bytes).toBeGreaterThan(50_000);
  expectClean(capture.items);
});
