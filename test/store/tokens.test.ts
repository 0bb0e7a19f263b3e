/**
 * Refresh tokens ecebot keeps (src/store/tokens.ts), with the real Redis store (sealed) and the
 * lab's Entra: Entra hands out a new refresh token on every redemption and each one dies 90 days
 * after its own issue (learn.microsoft.com/entra/identity-platform/refresh-tokens; AADSTS700082,
 * o365-facts.md §2.3), so whoever redeems keeps the newest. A run redeems the inventory's copy of
 * ECE's grant and keeps the successor; later runs redeem the newest successor, past the day the
 * inventory's copy itself dies; a copy regenerated in ECE starts a new line.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { refreshTokenOf } from '../../src/lab/tenant';
import type { QueueConfig } from '../../src/redis/connection';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import { SecretBox } from '../../src/store/crypto';
import { RedisStore } from '../../src/store/redis';
import {
  eceRefreshTokenKey,
  lineageOf,
  refreshTokenKeeper,
  refreshTokenKey,
  storedRefreshTokens,
} from '../../src/store/tokens';
import { cleanup, freshQueue } from '../queue/support';

const DAY = 86_400_000;
let lab: Lab;
let cfg: QueueConfig;
let store: RedisStore;
const warnings: { obj: object; msg: string }[] = [];
const log = { warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };

beforeAll(async () => {
  lab = await startLab({ scenarios: [] });
});

afterAll(async () => {
  await lab?.stop();
});

beforeEach(() => {
  cfg = freshQueue();
  store = new RedisStore({ queue: cfg, secrets: new SecretBox(randomBytes(32)) });
  warnings.length = 0;
});

afterEach(async () => {
  await store.close();
  await cleanup(cfg);
});

const inventory = () => loadInventory(lab.info.inventory);
const env = () => pickEnvironment(inventory(), 'lab', lab.info.inventory);

/** One token run, feeding it what the store keeps and keeping what Entra rotates to. */
async function tokenRun() {
  const e = env();
  const run = await runInProcess(
    prepareRun(e, inventory(), {
      vars: {},
      items: ['token'],
      storedRefreshTokens: await storedRefreshTokens(store, e),
      keepRefreshTokens: refreshTokenKeeper(store, log),
    }),
  );
  return run.findings.find(f => f.item === 'token')!;
}

test('the successor of ECE’s grant is kept sealed, and keeps the grant alive past its copy’s 90 days', async () => {
  const copy = refreshTokenOf(lab.tenant, 'support@example.com')!;
  expect((await tokenRun()).status).toBe('pass');

  const e = env();
  const kept = await storedRefreshTokens(store, e);
  const successor = kept.ece.get('support@example.com')!;
  expect(successor.lineage).toBe(lineageOf(copy));
  expect(successor.refreshToken).not.toBe(copy);
  expect(lab.tenant.refreshTokens[successor.refreshToken]).toMatchObject({
    upn: 'support@example.com',
    clientId: lab.tenant.eceApp.appId,
  });
  // In Redis only sealed: neither token, nor the fingerprint, readable there.
  const r = new Redis(cfg.url);
  try {
    const sealed = await r.hget(
      `${cfg.prefix}:store:secrets`,
      eceRefreshTokenKey('lab', 'support@example.com'),
    );
    expect(sealed).toMatch(/^v2\.[0-9a-f]{8}\./);
    for (const s of [successor.refreshToken, copy, successor.lineage])
      expect(sealed).not.toContain(s);
  } finally {
    r.disconnect();
  }

  // 85 days on: the inventory's copy (issued 10 days before the lab started) is past its 90
  // days, the kept successor is not. The run redeems the successor and keeps the next one.
  lab.clock.advance(85 * DAY);
  try {
    const direct = await runInProcess(
      prepareRun(env(), inventory(), { vars: {}, items: ['token'] }),
    );
    // Without what was kept the run redeems the copy, which Entra now refuses.
    expect(direct.findings.find(f => f.item === 'token')).toMatchObject({
      status: 'fail',
      code: 'AADSTS700082',
    });
    const finding = await tokenRun();
    expect(finding.status).toBe('pass');
    const next = (await storedRefreshTokens(store, env())).ece.get('support@example.com')!;
    expect(next.refreshToken).not.toBe(successor.refreshToken);
    expect(next.lineage).toBe(successor.lineage);
  } finally {
    lab.clock.advance(-85 * DAY);
  }
});

test('a copy regenerated in ECE and put in the inventory starts a new line', async () => {
  await tokenRun();
  const old = (await storedRefreshTokens(store, env())).ece.get('support@example.com')!;
  // ECE generated a new token: a new grant, pasted into ecebot's inventory file.
  const fresh = '0.Afresh-from-ece';
  lab.tenant.refreshTokens[fresh] = {
    upn: 'support@example.com',
    clientId: lab.tenant.eceApp.appId,
    amr: ['pwd'],
    issuedAt: lab.clock.now().toISOString(),
  };
  const file = `${lab.dir}/secrets/support.refresh-token`;
  const before = readFileSync(file, 'utf8');
  writeFileSync(file, `${fresh}\n`);
  try {
    const e = env();
    const run = prepareRun(e, inventory(), {
      vars: {},
      storedRefreshTokens: await storedRefreshTokens(store, e),
    });
    const t = run.mailboxTokens.get('support@example.com')!;
    expect(t).toMatchObject({ refreshToken: fresh, origin: 'ece', lineage: lineageOf(fresh) });
    expect(t.refreshToken).not.toBe(old.refreshToken);
  } finally {
    writeFileSync(file, before);
  }
});

test('a sign-in token is redeemed as ecebot’s own, and its successor replaces it', async () => {
  // ecebot holds a sign-in token for sales@ (no inventory token for it here).
  const signedIn = '0.Asignin-sales';
  lab.tenant.refreshTokens[signedIn] = {
    upn: 'svc-ece@example.com',
    clientId: lab.tenant.signinApp.appId,
    amr: ['pwd'],
    issuedAt: lab.clock.now().toISOString(),
    publicClient: true,
  };
  await store.putSecret(refreshTokenKey('lab', 'sales@example.com'), signedIn);
  const e = env();
  const withoutSalesToken = {
    ...e,
    mailboxes: e.mailboxes.map(m =>
      m.address.startsWith('sales@') ? { ...m, refreshToken: undefined } : m,
    ),
  };
  const prepared = prepareRun(withoutSalesToken, inventory(), {
    vars: {},
    items: ['token'],
    storedRefreshTokens: await storedRefreshTokens(store, e),
    keepRefreshTokens: refreshTokenKeeper(store, log),
  });
  expect(prepared.mailboxTokens.get('sales@example.com')).toMatchObject({
    origin: 'signin',
    clientId: lab.tenant.signinApp.appId,
  });
  const run = await runInProcess(prepared);
  expect(run.findings.find(f => f.item === 'token')?.status).toBe('pass');
  const now = await store.getSecret(refreshTokenKey('lab', 'sales@example.com'));
  expect(now).not.toBe(signedIn);
  expect(lab.tenant.refreshTokens[now!]).toMatchObject({
    clientId: lab.tenant.signinApp.appId,
    publicClient: true,
  });
});

test('a store that cannot keep a token says so in the log, without the token, and resolves', async () => {
  const noKey = new RedisStore({ queue: cfg, secrets: undefined });
  try {
    const keep = refreshTokenKeeper(noKey, log);
    await keep(
      'lab',
      'support@example.com',
      { refreshToken: 'old', origin: 'signin', clientId: 'x' },
      '0.Arotated-secret-value',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/could not be kept/);
    expect(JSON.stringify(warnings)).not.toContain('0.Arotated-secret-value');
    expect(warnings[0]!.obj).toMatchObject({ environment: 'lab', mailbox: 'support@example.com' });
  } finally {
    await noKey.close();
  }
});

test('a kept token sealed with another key fails that mailbox only; the others keep theirs', async () => {
  const e = env();
  const first = e.mailboxes[0]!;
  const other = { ...first, address: 'other@example.com' };
  const two = { ...e, mailboxes: [first, other] };
  await store.putSecret(refreshTokenKey(e.name, first.address.toLowerCase()), 'rt-first');
  // The same key written by a process with another ECEBOT_SECRET_KEY (a stale value).
  const stale = new RedisStore({ queue: cfg, secrets: new SecretBox(randomBytes(32)) });
  try {
    await stale.putSecret(refreshTokenKey(e.name, other.address), 'rt-other');
  } finally {
    await stale.close();
  }
  const kept = await storedRefreshTokens(store, two);
  expect(kept.signin.get(first.address.toLowerCase())).toBe('rt-first');
  expect(kept.signin.has(other.address)).toBe(false);
  expect([...(kept.unreadable?.keys() ?? [])]).toEqual([other.address]);
  const why = kept.unreadable!.get(other.address)!;
  // The value names a key this process does not hold: the message says which, and the fix.
  expect(why).toMatch(/sealed with key id [0-9a-f]{8}, which is neither ECEBOT_SECRET_KEY/);
  expect(why).toMatch(/ECEBOT_SECRET_KEY_OLD, or sign in again/);
  expect(why).not.toContain('rt-other');
});
