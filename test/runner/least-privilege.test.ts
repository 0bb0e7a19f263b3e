/**
 * Least privilege (docs/security.md): a vantage point's process resolves only the kinds of
 * secret its reads declare. An ECE server never reads the probe app's secret; `central` never
 * reads a refresh token; a read that uses a secret its declaration does not name fails clearly
 * instead of quietly finding nothing.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itemIds } from '../../src/checklist/items';
import { InputError } from '../../src/inventory/errors';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import type { SecretKind } from '../../src/inventory/secrets';
import type { ItemId, ReadName } from '../../src/model/items';
import { observeFrom } from '../../src/runner/observe';
import { prepareRun } from '../../src/runner/prepare';
import { readOf } from '../../src/runner/reads';
import { secretsNeeded } from '../../src/runner/secrets-needed';

const APP_SECRET = 'ece-app-secret-value';
const REFRESH_TOKEN = 'mailbox-refresh-token-value';
const PROBE_SECRET = 'probe-app-secret-value';
const SIGNIN_TOKEN = 'signin-refresh-token-value';

/**
 * An environment with one server of each kind; the probe app's secret is a file that does not
 * exist (yet), and the mailbox's refresh token a file beside the inventory.
 */
function inventory() {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-lp-'));
  mkdirSync(join(dir, 's'));
  writeFileSync(join(dir, 's', 'rt'), `${REFRESH_TOKEN}\n`);
  const path = join(dir, 'inv.yaml');
  writeFileSync(
    path,
    `environments:
  prod:
    ece: { version: "12.6(1)", es: 10, externalUrl: https://ece.example.com }
    servers:
      - { name: services-1, role: services }
      - { name: app-1, role: application }
    tenant: { id: 00000000-0000-0000-0000-000000000000 }
    app: { clientId: 11111111-1111-1111-1111-111111111111, secret: env:ECE_APP_SECRET }
    probe: { clientId: 22222222-2222-2222-2222-222222222222, secret: file:s/probe }
    mailboxes:
      - { address: support@example.com, access: mailbox, retrieve: imap, refreshToken: file:s/rt }
      - { address: sales@example.com, access: mailbox, retrieve: imap }
`,
  );
  const inv = loadInventory(path);
  return { dir, inv, env: pickEnvironment(inv, 'prod', path) };
}

const vars = { ECE_APP_SECRET: APP_SECRET };

/** Prepare a full run as the worker of `vantage` does. */
function prepareFor(fx: ReturnType<typeof inventory>, vantage: string, items = itemIds()) {
  return prepareRun(fx.env, fx.inv, {
    vars,
    items,
    needs: secretsNeeded(fx.env, items, vantage),
    storedRefreshTokens: {
      signin: new Map([['sales@example.com', SIGNIN_TOKEN]]),
      ece: new Map(),
    },
  });
}

function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('each vantage point resolves only the secrets its reads need', () => {
  test.each(['services-1', 'app-1'])(
    '%s runs without the probe secret file and holds no probe secret',
    vantage => {
      const fx = inventory();
      const run = prepareFor(fx, vantage);
      expect(run.secrets.probeSecret).toBeUndefined();
      expect(run.secrets.resolved.has('probeApp')).toBe(false);
      // What it does need, it has: ECE's app secret and the mailboxes' tokens (checklist.md
      // items 5 and 9: the servers redeem ECE's grant with ECE's app, as ECE does).
      expect(run.secrets.appSecret).toBe(APP_SECRET);
      expect(run.mailboxTokens.get('support@example.com')?.refreshToken).toBe(REFRESH_TOKEN);
      expect(run.mailboxTokens.get('sales@example.com')?.refreshToken).toBe(SIGNIN_TOKEN);
      // The redactor still knows every secret that was resolved.
      const text = `${APP_SECRET} ${REFRESH_TOKEN} ${SIGNIN_TOKEN}`;
      expect(run.redactor.text(text)).not.toMatch(/value/);
    },
  );

  test('central needs the probe secret: missing, it fails clearly, naming the field', () => {
    const fx = inventory();
    const err = inputErrorOf(() => prepareFor(fx, 'central'));
    expect(err.message).toMatch(/secret file:s\/probe cannot be read \(ENOENT/);
    expect(err.field).toBe('environments.prod.probe.secret');
    expect(err.describe()).not.toContain(APP_SECRET);
  });

  test('central resolves the probe secret and no refresh token, inventory or kept', () => {
    const fx = inventory();
    writeFileSync(join(fx.dir, 's', 'probe'), PROBE_SECRET);
    // A refresh token reference that cannot be resolved is never looked at from central.
    writeFileSync(join(fx.dir, 's', 'rt'), '');
    const run = prepareFor(fx, 'central');
    expect(run.secrets.probeSecret).toBe(PROBE_SECRET);
    expect(run.secrets.resolved.has('refreshTokens')).toBe(false);
    expect(run.secrets.refreshTokens.size).toBe(0);
    expect(run.mailboxTokens.size).toBe(0);
    expect(run.redactor.text(`${PROBE_SECRET} ${APP_SECRET}`)).not.toMatch(/value/);
  });

  test('a run that covers every vantage point resolves every kind, as one process makes every read', () => {
    const fx = inventory();
    writeFileSync(join(fx.dir, 's', 'probe'), PROBE_SECRET);
    const run = prepareRun(fx.env, fx.inv, { vars });
    expect([...run.secrets.resolved].sort()).toEqual(['eceApp', 'probeApp', 'refreshTokens']);
    expect(run.secrets.probeSecret).toBe(PROBE_SECRET);
    expect(run.secrets.refreshTokens.get('support@example.com')).toBe(REFRESH_TOKEN);
  });
});

describe('what is resolved follows the reads’ declarations', () => {
  /** Take `kind` out of `read`'s declared needs for the length of `fn`. */
  async function without<T>(read: ReadName, kind: SecretKind, fn: () => Promise<T>): Promise<T> {
    const decl = readOf(read);
    if (!decl?.needs?.includes(kind)) throw new Error(`${read} does not declare ${kind}`);
    const before = decl.needs;
    decl.needs = before.filter(k => k !== kind);
    try {
      return await fn();
    } finally {
      decl.needs = before;
    }
  }

  const cases: [ItemId, string, ReadName, SecretKind][] = [
    ['license', 'central', 'graph-token', 'probeApp'],
    ['mailbox-protocols', 'central', 'exchange-token', 'probeApp'],
    ['token', 'services-1', 'mailbox-token', 'refreshTokens'],
    ['connectivity', 'app-1', 'mailbox-token', 'refreshTokens'],
  ];

  test.each(cases)(
    '%s from %s: without %s declaring %s, the part fails saying so',
    async (item, vantage, read, kind) => {
      const fx = inventory();
      writeFileSync(join(fx.dir, 's', 'probe'), PROBE_SECRET);
      expect(secretsNeeded(fx.env, [item], vantage).has(kind)).toBe(true);
      await without(read, kind, async () => {
        expect(secretsNeeded(fx.env, [item], vantage).has(kind)).toBe(false);
        const run = prepareFor(fx, vantage, [item]);
        expect(run.secrets.resolved.has(kind)).toBe(false);
        // The read fails before any probe goes out (no request leaves this machine).
        await expect(observeFrom(run, vantage)).rejects.toThrow(
          new RegExp(`uses the ${kind} secret, which this process did not resolve`),
        );
      });
    },
  );

  test('the ECE app credential is declared by the reads that send it', () => {
    const fx = inventory();
    for (const [vantage, item] of [
      ['central', 'app-registration'],
      ['services-1', 'token'],
      ['app-1', 'connectivity'],
    ] as const)
      expect(secretsNeeded(fx.env, [item], vantage).has('eceApp')).toBe(true);
    // `external-url` and `version` use no secret at all.
    expect([...secretsNeeded(fx.env, ['external-url', 'version'], 'services-1')]).toEqual([]);
  });
});
