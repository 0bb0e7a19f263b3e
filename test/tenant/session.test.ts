/**
 * The tenant session against the lab's Entra ID, Graph and Exchange admin API: ecebot's read
 * app asks Entra once per scope and its token serves every read until shortly before it
 * expires (msal's renewal offset), concurrent reads share one request, a refusal is never kept,
 * no probe app means no request and no observation, and no token or secret reaches anything the
 * session yields.
 */
import { loadInventory, pickEnvironment, suggest, type Inventory } from '../../src/inventory/load';
import { InputError } from '../../src/inventory/errors';
import type { Environment } from '../../src/inventory/types';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { ProbeContext } from '../../src/probes/context';
import { getMailboxPermission } from '../../src/probes/exo';
import { readApplication } from '../../src/probes/graph';
import { decodeClaims } from '../../src/probes/jwt-claims';
import type { EntraTokenObservation, Observation } from '../../src/model';
import { EXO_SCOPE, GRAPH_SCOPE } from '../../src/runner/observe';
import { openTenantSession, type TenantSession } from '../../src/tenant/session';

/**
 * msal-node renews a kept token this long before `exp` (msal-common Constants
 * DEFAULT_TOKEN_RENEWAL_OFFSET_SEC = 300); the session follows it.
 */
const RENEWAL_OFFSET_MS = 300 * 1000;

let lab: Lab;
let inv: Inventory;
let env: Environment;

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  inv = loadInventory(lab.info.inventory);
  env = pickEnvironment(inv, 'lab', 'lab');
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

/** How many tokens the lab's Entra ID has handed ecebot's read app for `audience` so far. */
function probeTokens(audience: string): number {
  return lab.issued.filter(t => {
    const c = decodeClaims(t);
    return c?.appid === lab.tenant.probeApp.appId && !!c.aud?.includes(audience);
  }).length;
}

/** A Graph read of the ECE app's registration that remembers the token it was given. */
function appRead(session: TenantSession, given: string[]) {
  return (token: string, tctx: ProbeContext): Promise<Observation[]>[] => {
    given.push(token);
    return [
      readApplication(tctx, { graph: session.endpoints().graph, token }, env.app.clientId).then(
        o => [o],
      ),
    ];
  };
}

function tokenOf(seen: Observation[]): EntraTokenObservation {
  const t = seen.find((o): o is EntraTokenObservation => o.kind === 'entra-token');
  if (!t) throw new Error(`no token observation in ${JSON.stringify(seen.map(o => o.kind))}`);
  return t;
}

test('two concurrent reads share one token request, and a later read reuses the token', async () => {
  const session = openTenantSession(env, inv, {});
  const before = probeTokens('graph.microsoft.com');
  const given: string[] = [];
  const [a, b] = await Promise.all([
    session.withAppToken(GRAPH_SCOPE, appRead(session, given)),
    session.withAppToken(GRAPH_SCOPE, appRead(session, given)),
  ]);
  expect(probeTokens('graph.microsoft.com') - before).toBe(1);
  for (const seen of [a, b]) {
    expect(seen.map(o => [o.kind, o.ok])).toEqual([
      ['entra-token', true],
      ['graph', true],
    ]);
    expect(tokenOf(seen)).toMatchObject({ purpose: 'probe-app', clientId: env.probe!.clientId });
  }
  expect(given).toHaveLength(2);
  expect(given[1]).toBe(given[0]);

  const later = await session.withAppToken(GRAPH_SCOPE, appRead(session, given));
  expect(later.map(o => [o.kind, o.ok])).toEqual([
    ['entra-token', true],
    ['graph', true],
  ]);
  expect(given[2]).toBe(given[0]);
  expect(probeTokens('graph.microsoft.com') - before).toBe(1);

  // Another resource is another token.
  const exoBefore = probeTokens('outlook.office365.com');
  const exo = await session.appToken(EXO_SCOPE);
  expect(exo?.observation.ok).toBe(true);
  expect(exo?.accessToken).not.toBe(given[0]);
  expect(probeTokens('outlook.office365.com') - exoBefore).toBe(1);
});

test('a kept token is asked for again once it is within the renewal offset of its expiry', async () => {
  let now = Date.now();
  const session = openTenantSession(env, inv, {}, { now: () => now });
  const before = probeTokens('graph.microsoft.com');
  const first = await session.appToken(GRAPH_SCOPE);
  const exp = first?.observation.claims?.exp;
  expect(exp).toEqual(expect.any(Number));

  now = exp! * 1000 - RENEWAL_OFFSET_MS - 1;
  expect((await session.appToken(GRAPH_SCOPE))?.accessToken).toBe(first?.accessToken);
  expect(probeTokens('graph.microsoft.com') - before).toBe(1);

  now = exp! * 1000 - RENEWAL_OFFSET_MS;
  const renewed = await session.appToken(GRAPH_SCOPE);
  expect(renewed?.observation.ok).toBe(true);
  expect(probeTokens('graph.microsoft.com') - before).toBe(2);
  expect(renewed?.accessToken).not.toBe(first?.accessToken);
});

test('a refused secret is not kept: the next call asks Entra again', async () => {
  const session = openTenantSession(env, inv, {});
  const before = probeTokens('graph.microsoft.com');
  const secret = lab.tenant.probeApp.secret;
  // Entra now expects another secret than the inventory's (a rotated secret).
  lab.tenant.probeApp.secret = `${secret}-rotated`;
  const given: string[] = [];
  let refused: Observation[];
  try {
    refused = await session.withAppToken(GRAPH_SCOPE, appRead(session, given));
  } finally {
    lab.tenant.probeApp.secret = secret;
  }
  // AADSTS7000215: invalid client secret provided (o365-facts.md §2.3).
  expect(refused).toHaveLength(1);
  expect(tokenOf(refused)).toMatchObject({ ok: false, aadsts: 7000215, purpose: 'probe-app' });
  expect(given).toEqual([]);

  const again = await session.withAppToken(GRAPH_SCOPE, appRead(session, given));
  expect(again.map(o => [o.kind, o.ok])).toEqual([
    ['entra-token', true],
    ['graph', true],
  ]);
  expect(given).toHaveLength(1);
  expect(probeTokens('graph.microsoft.com') - before).toBe(1);
});

test('without a probe app there is no request and no observation', async () => {
  const { probe: _probe, ...rest } = env;
  const bare: Environment = rest;
  const session = openTenantSession(bare, inv, {});
  const before = lab.issued.length;
  let called = false;
  const seen = await session.withAppToken(GRAPH_SCOPE, () => {
    called = true;
    return [];
  });
  expect(seen).toEqual([]);
  expect(called).toBe(false);
  expect(await session.appToken(GRAPH_SCOPE)).toBeUndefined();
  expect(session.hasProbeApp).toBe(false);
  expect(lab.issued.length).toBe(before);
});

test('a probe secret that cannot be resolved is refused with where and how to fix it', () => {
  const fromVar: Environment = { ...env, probe: { ...env.probe!, secret: 'env:ECEBOT_T_PROBE' } };
  let err: unknown;
  try {
    openTenantSession(fromVar, inv, {});
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).message).toBe(
    'secret env:ECEBOT_T_PROBE is not set in the environment',
  );
  expect((err as InputError).field).toBe('environments.lab.probe.secret');
  expect(
    openTenantSession(fromVar, inv, { ECEBOT_T_PROBE: lab.tenant.probeApp.secret }).hasProbeApp,
  ).toBe(true);
});

test('no token or secret appears in anything the session yields, even when a read echoes it', async () => {
  const session = openTenantSession(env, inv, {});
  const shared = env.mailboxes.find(m => m.access === 'shared')!.address;
  const graph = await session.withAppToken(GRAPH_SCOPE, (token, tctx) => [
    readApplication(tctx, { graph: session.endpoints().graph, token }, env.app.clientId).then(o => [
      o,
    ]),
    // A read whose server echoed the token back, described through the context it was given.
    Promise.resolve([
      {
        kind: 'graph',
        resource: 'application',
        vantage: tctx.vantage,
        target: 'echo',
        ok: false,
        code: 'HTTP_ERROR',
        stage: 'read',
        server: tctx.redactor.text(`the server said: token ${token} is not welcome`),
        startedAt: new Date().toISOString(),
        durationMs: 0,
        steps: [],
      } satisfies Observation,
    ]),
  ]);
  const exo = await session.withAppToken(EXO_SCOPE, (token, tctx) => [
    getMailboxPermission(
      tctx,
      { exo: session.endpoints().exo, token, tenantId: env.tenant.id },
      shared,
    ).then(o => [o]),
  ]);
  // A read that throws with the token in its message becomes one CHECK_CRASHED observation.
  const crashed = await session.withAppToken(GRAPH_SCOPE, token => {
    throw new Error(`read failed with ${token}`);
  });
  expect(crashed).toEqual([
    expect.objectContaining({ kind: 'entra-token', ok: false, code: 'CHECK_CRASHED' }),
  ]);
  expect(graph.map(o => o.ok)).toEqual([true, true, false]);
  expect(exo.map(o => o.ok)).toEqual([true, true]);

  const text = JSON.stringify([graph, exo, crashed]);
  expect(lab.issued.length).toBeGreaterThan(0);
  for (const t of lab.issued) expect(text).not.toContain(t);
  expect(text).not.toContain(lab.tenant.probeApp.secret);
  expect(text).toContain('the server said: token <redacted');
});
