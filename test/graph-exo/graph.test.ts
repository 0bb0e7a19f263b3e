/**
 * The Graph probes against the lab's Graph server: shapes of every read, not-found, permission
 * and licence refusals, token refusals, tenant changes, a stopped server, and no token or secret
 * in any observation.
 */
import { z } from 'zod';
import { startGraphServer } from '../../src/lab/graph-server';
import type { RunningServer } from '../../src/lab/server-types';
import { createKeys } from '../../src/lab/tokens';
import { PLAN, RESOURCE, SCOPE_ID } from '../../src/lab/tenant';
import { httpsRequest } from '../../src/probes/http-client';
import {
  readApplication,
  readDirectoryUser,
  readGrants,
  readLicenseDetails,
  readResourceServicePrincipal,
  readServicePrincipal,
  readSignIns,
  type GraphTarget,
} from '../../src/probes/graph';
import type { GraphObservation } from '../../src/model';
import { newLab, probeToken, twoHoursAgo } from './lab-fixture';

const { state, ca, ctx } = newLab();
const tenant = state.tenant;
const healthy = structuredClone(tenant);
let server: RunningServer;
let t: GraphTarget;

beforeAll(async () => {
  server = await startGraphServer({ state, tls: ca.issue({ names: ['graph.microsoft.com'] }) });
  t = {
    graph: { host: 'graph.microsoft.com', port: server.port },
    token: probeToken(state, { aud: 'https://graph.microsoft.com' }),
  };
});

afterAll(() => server.close());

// Scenario-style mutations are undone after each test, so every test starts healthy.
afterEach(() => {
  Object.assign(tenant, structuredClone(healthy));
});

/** Neither the bearer token nor any client secret value may appear in an observation. */
function expectNoSecrets(obs: GraphObservation, token = t.token): void {
  const json = JSON.stringify(obs);
  expect(json).not.toContain(token);
  // The claims part alone would leak the token's contents too.
  const claims = token.split('.')[1];
  if (claims) expect(json).not.toContain(claims);
  for (const s of tenant.eceApp.secrets) expect(json).not.toContain(s.value);
  expect(json).not.toContain(tenant.probeApp.secret);
}

/** A raw GET against the lab's Graph, for what the probe does not keep (the lab's own shape). */
function get(path: string) {
  return httpsRequest(ctx, {
    method: 'GET',
    target: t.graph,
    path,
    headers: { authorization: `Bearer ${t.token}` },
  });
}

function withRoles(roles: string[]): GraphTarget {
  return { ...t, token: probeToken(state, { aud: 'https://graph.microsoft.com', roles }) };
}

describe('application', () => {
  test('reads the app registration with redirect URIs, secret metadata and permissions', async () => {
    const obs = await readApplication(ctx, t, tenant.eceApp.appId);
    expect(obs).toMatchObject({
      kind: 'graph',
      resource: 'application',
      vantage: 'central',
      target: `graph.microsoft.com:${server.port}`,
      ok: true,
      code: 'OK',
      status: 200,
    });
    const app = obs.data!;
    expect(app.appId).toBe(tenant.eceApp.appId);
    expect(app.id).toBe(tenant.eceApp.id);
    expect(app.web?.redirectUris).toEqual(tenant.eceApp.redirectUris);
    expect(app.spa?.redirectUris).toEqual([]);
    expect(app.publicClient?.redirectUris).toEqual([]);
    expect(app.keyCredentials).toEqual([]);
    const secret = tenant.eceApp.secrets[0]!;
    // Only the judged fields are kept: Graph's hint and secretText (null) are dropped.
    expect(app.passwordCredentials).toEqual([
      {
        keyId: secret.keyId,
        displayName: secret.displayName,
        startDateTime: secret.startDateTime,
        endDateTime: secret.endDateTime,
      },
    ]);
    const raw = await get(
      `/v1.0/applications?$filter=${encodeURIComponent(`appId eq '${tenant.eceApp.appId}'`)}`,
    );
    expect(raw.json).toMatchObject({
      value: [
        {
          signInAudience: 'AzureADMyOrg',
          passwordCredentials: [{ hint: secret.hint, secretText: null }],
        },
      ],
    });
    expect(app.requiredResourceAccess).toEqual([
      {
        resourceAppId: RESOURCE.GRAPH,
        resourceAccess: tenant.eceApp.requiredScopes.map(name => ({
          id: SCOPE_ID[name as keyof typeof SCOPE_ID],
          type: 'Scope',
        })),
      },
    ]);
    expect(obs.steps).toHaveLength(1);
    expect(obs.steps[0]).toMatchObject({ name: 'request', ok: true });
    expect(obs.steps[0]!.sent).toContain('/v1.0/applications?$filter=');
    expect(obs.steps[0]!.received).toEqual(['HTTP 200']);
    expect(typeof obs.steps[0]!.durationMs).toBe('number');
    expectNoSecrets(obs);
  });

  test('reflects a changed redirect URI and a dropped permission', async () => {
    tenant.eceApp.redirectUris = ['https://ece-internal.example.com/system/oauth2/callback'];
    tenant.eceApp.requiredScopes = ['IMAP.AccessAsUser.All'];
    const obs = await readApplication(ctx, t, tenant.eceApp.appId);
    const app = obs.data!;
    expect(app.web?.redirectUris).toEqual([
      'https://ece-internal.example.com/system/oauth2/callback',
    ]);
    expect(app.requiredResourceAccess?.[0]!.resourceAccess).toEqual([
      { id: SCOPE_ID['IMAP.AccessAsUser.All'], type: 'Scope' },
    ]);
  });

  test('an unknown appId is GRAPH_NOT_FOUND, including one with a quote in it', async () => {
    for (const appId of ['00000000-1111-2222-3333-444444444444', "o'brien"]) {
      const obs = await readApplication(ctx, t, appId);
      expect(obs).toMatchObject({ ok: false, code: 'GRAPH_NOT_FOUND', status: 200 });
      expect(obs.data).toBeUndefined();
    }
  });

  test('without Application.Read.All Graph refuses with 403 and its own words', async () => {
    const roles = tenant.probeApp.roles.filter(r => r !== 'Application.Read.All');
    const target = withRoles(roles);
    const obs = await readApplication(ctx, target, tenant.eceApp.appId);
    expect(obs).toMatchObject({ ok: false, code: 'GRAPH_FORBIDDEN', status: 403 });
    expect(obs.server).toBe(
      'Authorization_RequestDenied: Insufficient privileges to complete the operation.',
    );
    expect(obs.steps[0]!.code).toBe('GRAPH_FORBIDDEN');
    expectNoSecrets(obs, target.token);
  });
});

describe('bad tokens', () => {
  test('an expired token gets 401 InvalidAuthenticationToken', async () => {
    const target = {
      ...t,
      token: probeToken(state, { aud: 'https://graph.microsoft.com', iat: twoHoursAgo() }),
    };
    const obs = await readApplication(ctx, target, tenant.eceApp.appId);
    expect(obs).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 401 });
    expect(obs.server).toBe(
      'InvalidAuthenticationToken: Access token has expired or is not yet valid.',
    );
    expectNoSecrets(obs, target.token);
  });

  test('an Exchange-audience token, a foreign signature and garbage all get 401', async () => {
    const tokens = [
      probeToken(state, { aud: 'https://outlook.office365.com' }),
      probeToken(state, { aud: 'https://graph.microsoft.com', keys: createKeys() }),
      'not-a-jwt',
    ];
    for (const token of tokens) {
      const obs = await readServicePrincipal(ctx, { ...t, token }, tenant.eceApp.appId);
      expect(obs).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 401 });
      expect(obs.server).toMatch(/^InvalidAuthenticationToken: /);
      expectNoSecrets(obs, token);
    }
  });
});

describe('service principals and consent', () => {
  test("the ECE app's service principal", async () => {
    const obs = await readServicePrincipal(ctx, t, tenant.eceApp.appId);
    expect(obs).toMatchObject({ ok: true, code: 'OK', resource: 'servicePrincipal' });
    expect(obs.data).toEqual({ id: tenant.eceApp.spId, appId: tenant.eceApp.appId });
  });

  test('Exchange Online and Graph resource SPs list their delegated scopes', async () => {
    const exo = await readResourceServicePrincipal(ctx, t, RESOURCE.EXCHANGE);
    expect(exo).toMatchObject({ ok: true, resource: 'resourceServicePrincipal' });
    expect(exo.data!.appId).toBe(RESOURCE.EXCHANGE);
    expect(exo.data!.oauth2PermissionScopes!.map(s => s.value).sort()).toEqual(
      ['IMAP.AccessAsUser.All', 'POP.AccessAsUser.All', 'SMTP.Send'].sort(),
    );

    const graph = await readResourceServicePrincipal(ctx, t, RESOURCE.GRAPH);
    expect(graph.data!.appId).toBe(RESOURCE.GRAPH);
    expect(graph.data!.oauth2PermissionScopes).toContainEqual({
      id: SCOPE_ID.offline_access,
      value: 'offline_access',
    });
  });

  test('the lab honours $select and keeps resource SP ids apart', async () => {
    const select = '$select=id,appId,displayName,appRoles,oauth2PermissionScopes';
    const sp = async (appId: string) => {
      const a = await get(
        `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId}'`)}&${select}`,
      );
      const value = z.object({ value: z.array(z.record(z.string(), z.unknown())) }).parse(a.json);
      return value.value[0]!;
    };
    const exo = await sp(RESOURCE.EXCHANGE);
    expect(Object.keys(exo).sort()).toEqual(
      ['appId', 'appRoles', 'displayName', 'id', 'oauth2PermissionScopes'].sort(),
    );
    expect((await sp(RESOURCE.GRAPH)).id).not.toBe(exo.id);
  });

  test('without Directory.Read.All the SP read is GRAPH_FORBIDDEN', async () => {
    const obs = await readServicePrincipal(
      ctx,
      withRoles(['Application.Read.All']),
      tenant.eceApp.appId,
    );
    expect(obs).toMatchObject({ ok: false, code: 'GRAPH_FORBIDDEN', status: 403 });
  });

  test('admin consent is one AllPrincipals grant to Graph with the consented scopes', async () => {
    const obs = await readGrants(ctx, t, tenant.eceApp.spId);
    expect(obs).toMatchObject({ ok: true, code: 'OK', resource: 'grants' });
    expect(obs.data).toEqual([
      {
        consentType: 'AllPrincipals',
        principalId: null,
        scope: tenant.eceApp.consentedScopes.join(' '),
      },
    ]);
    // The grant names the client SP and Graph's SP by object id (o365-facts.md §3.2).
    const raw = await get(
      `/v1.0/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${tenant.eceApp.spId}'`)}`,
    );
    const graphSp = await get(
      `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${RESOURCE.GRAPH}'`)}`,
    );
    const ids = z.object({ value: z.array(z.object({ id: z.string() })) });
    expect(raw.json).toMatchObject({
      value: [{ clientId: tenant.eceApp.spId, resourceId: ids.parse(graphSp.json).value[0]!.id }],
    });
  });

  test('partial and withdrawn consent are reflected; no grant is OK with no data', async () => {
    tenant.eceApp.consentedScopes = ['IMAP.AccessAsUser.All', 'offline_access'];
    const partial = await readGrants(ctx, t, tenant.eceApp.spId);
    expect(partial.data![0]!.scope).toBe('IMAP.AccessAsUser.All offline_access');

    tenant.eceApp.consentedScopes = [];
    const none = await readGrants(ctx, t, tenant.eceApp.spId);
    expect(none).toMatchObject({ ok: true, code: 'OK', data: [] });
  });

  test('grants are filtered by the SP object id, not the appId', async () => {
    const obs = await readGrants(ctx, t, tenant.eceApp.appId);
    expect(obs).toMatchObject({ ok: true, data: [] });
  });
});

describe('licenses', () => {
  test('a licensed mailbox user has the Exchange Online plan', async () => {
    const obs = await readLicenseDetails(ctx, t, 'support@example.com');
    expect(obs).toMatchObject({
      ok: true,
      code: 'OK',
      resource: 'licenseDetails',
      mailbox: 'support@example.com',
    });
    const licenses = obs.data!;
    expect(licenses).toHaveLength(1);
    expect(licenses[0]!.skuPartNumber).toBe('ENTERPRISEPACK');
    expect(licenses[0]!.servicePlans).toEqual([
      expect.objectContaining({
        servicePlanId: PLAN.EXCHANGE_S_ENTERPRISE,
        servicePlanName: 'EXCHANGE_S_ENTERPRISE',
        provisioningStatus: 'Success',
      }),
    ]);
  });

  test('removed licences read as an empty list', async () => {
    tenant.users.find(u => u.userPrincipalName === 'support@example.com')!.licenses = [];
    const obs = await readLicenseDetails(ctx, t, 'support@example.com');
    expect(obs).toMatchObject({ ok: true, code: 'OK', data: [] });
  });

  test('an unknown user is GRAPH_NOT_FOUND with Graph 404 words', async () => {
    const obs = await readLicenseDetails(ctx, t, 'nobody@example.com');
    expect(obs).toMatchObject({
      ok: false,
      code: 'GRAPH_NOT_FOUND',
      status: 404,
      mailbox: 'nobody@example.com',
    });
    expect(obs.server).toMatch(/^Request_ResourceNotFound: Resource 'nobody@example.com'/);
  });

  test('without User.Read.All the licence read is GRAPH_FORBIDDEN', async () => {
    const roles = tenant.probeApp.roles.filter(r => r !== 'User.Read.All');
    const obs = await readLicenseDetails(ctx, withRoles(roles), 'support@example.com');
    expect(obs).toMatchObject({ ok: false, code: 'GRAPH_FORBIDDEN', status: 403 });
  });
});

describe("sign-in logs (Graph beta, ECE's interactive and non-interactive sign-ins)", () => {
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60000).toISOString();
  const dayAgo = () => new Date(Date.now() - 24 * 3600000);

  test("newest first, this app's only, both user event types, with the beta fields", async () => {
    const appId = tenant.eceApp.appId;
    tenant.signIns = [
      {
        createdDateTime: at(30),
        userPrincipalName: 'jdoe@example.com',
        appId,
        errorCode: 0,
        eventType: 'interactiveUser',
        ipAddress: '192.0.2.50',
        authenticationMethod: 'Password',
      },
      {
        createdDateTime: at(5),
        userPrincipalName: 'support@example.com',
        appId,
        errorCode: 0,
        eventType: 'nonInteractiveUser',
        ipAddress: '10.0.0.11',
      },
      {
        createdDateTime: at(1),
        userPrincipalName: 'support@example.com',
        appId: tenant.probeApp.appId,
        errorCode: 0,
        eventType: 'nonInteractiveUser',
      },
      {
        createdDateTime: at(10),
        userPrincipalName: 'svc-ece@example.com',
        appId,
        errorCode: 700082,
        eventType: 'nonInteractiveUser',
      },
      // Outside the window.
      {
        createdDateTime: at(25 * 60),
        userPrincipalName: 'support@example.com',
        appId,
        errorCode: 0,
        eventType: 'nonInteractiveUser',
      },
    ];
    const all = await readSignIns(ctx, t, appId, { since: dayAgo() });
    expect(all).toMatchObject({ ok: true, code: 'OK', resource: 'signIns' });
    expect(all.window).toEqual({ since: expect.any(String), pages: 1 });
    const rows = all.data!;
    expect(rows.map(r => [r.userPrincipalName, r.isInteractive, r.signInEventTypes])).toEqual([
      ['support@example.com', false, ['nonInteractiveUser']],
      ['svc-ece@example.com', false, ['nonInteractiveUser']],
      ['jdoe@example.com', true, ['interactiveUser']],
    ]);
    expect(rows[0]!.ipAddress).toBe('10.0.0.11');
    expect(rows[1]!.status?.errorCode).toBe(700082);
    expect(rows[2]!.authenticationDetails?.[0]?.authenticationMethod).toBe('Password');
    // The request is the documented beta form (o365-facts.md §3.4).
    const sent = decodeURIComponent(all.steps[0]!.sent!);
    expect(sent).toMatch(/^GET \/beta\/auditLogs\/signIns\?\$filter=appId eq '[-0-9a-f]+' and /);
    expect(sent).toContain(
      "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')",
    );
    expect(sent).toMatch(/createdDateTime ge \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/);
    expectNoSecrets(all);
  });

  test('v1.0 lists interactive sign-ins only, as Microsoft documents', async () => {
    const appId = tenant.eceApp.appId;
    const raw = await get(
      `/v1.0/auditLogs/signIns?$filter=${encodeURIComponent(`appId eq '${appId}'`)}`,
    );
    // The healthy tenant holds only ECE's non-interactive redemptions.
    expect(tenant.signIns.length).toBeGreaterThan(0);
    expect(raw.json).toMatchObject({ value: [] });
    // beta without an event-type filter: interactive only as well.
    const beta = await get(
      `/beta/auditLogs/signIns?$filter=${encodeURIComponent(`appId eq '${appId}'`)}`,
    );
    expect(beta.json).toMatchObject({ value: [] });
  });

  test('follows @odata.nextLink page by page, up to the page cap', async () => {
    const appId = tenant.eceApp.appId;
    tenant.signIns = Array.from({ length: 7 }, (_, i) => ({
      createdDateTime: at(i + 1),
      userPrincipalName: 'support@example.com',
      appId,
      errorCode: 0,
      eventType: 'nonInteractiveUser' as const,
    }));
    const all = await readSignIns(ctx, t, appId, { since: dayAgo(), pageSize: 3 });
    expect(all.window).toMatchObject({ pages: 3 });
    expect(all.window?.truncated).toBeUndefined();
    expect(all.data).toHaveLength(7);
    expect(all.steps.map(s => decodeURIComponent(s.sent ?? ''))).toEqual([
      expect.stringContaining('$top=3'),
      expect.stringContaining('$skiptoken=3'),
      expect.stringContaining('$skiptoken=6'),
    ]);
    const capped = await readSignIns(ctx, t, appId, { since: dayAgo(), pageSize: 3, maxPages: 2 });
    expect(capped.window).toMatchObject({ pages: 2, truncated: 'pages' });
    expect(capped.data!.map(r => r.createdDateTime)).toEqual(
      tenant.signIns.slice(0, 6).map(s => s.createdDateTime),
    );
  });

  test('a malformed filter is refused with 400, as Graph refuses a clause it cannot parse', async () => {
    for (const f of [
      "signInEventTypes/any(t: t eq 'nobody')",
      "signInEventTypes/any(t: t eq 'interactiveUser'",
      "appId eq 'x' and displayName eq 'y'",
    ]) {
      const r = await get(`/beta/auditLogs/signIns?$filter=${encodeURIComponent(f)}`);
      expect({
        f,
        status: r.status,
        code: (r.json as { error: { code: string } }).error.code,
      }).toEqual({
        f,
        status: 400,
        code: 'BadRequest',
      });
    }
  });

  test('a tenant without Entra ID P1 gets GRAPH_NO_PREMIUM with the real error code', async () => {
    tenant.hasP1 = false;
    const obs = await readSignIns(ctx, t, tenant.eceApp.appId, { since: dayAgo() });
    expect(obs).toMatchObject({ ok: false, code: 'GRAPH_NO_PREMIUM', status: 403 });
    expect(obs.server).toBe(
      "Authentication_RequestFromNonPremiumTenantOrB2CTenant: Neither tenant is B2C or tenant doesn't have premium license",
    );
    expectNoSecrets(obs);
  });

  test.each(['AuditLog.Read.All', 'Directory.Read.All'])(
    'without %s the sign-in read is SIGN_IN_LOG_FORBIDDEN',
    async missing => {
      const roles = tenant.probeApp.roles.filter(r => r !== missing);
      const obs = await readSignIns(ctx, withRoles(roles), tenant.eceApp.appId, {
        since: dayAgo(),
      });
      expect(obs).toMatchObject({ ok: false, code: 'SIGN_IN_LOG_FORBIDDEN', status: 403 });
      expect(obs.server).toMatch(/^Authorization_RequestDenied/);
    },
  );
});

describe('the server itself', () => {
  test('answers unsupported filters and unknown segments with Graph 400s', async () => {
    const unsupported = await get(
      `/v1.0/applications?$filter=${encodeURIComponent("displayName eq 'x'")}`,
    );
    expect(unsupported.status).toBe(400);
    expect(unsupported.json).toMatchObject({ error: { code: 'Request_UnsupportedQuery' } });
    const unknown = await get('/v1.0/groups');
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({
      error: { code: 'BadRequest', message: "Resource not found for the segment 'groups'." },
    });
    const list = await get('/v1.0/applications');
    expect(list.json).toMatchObject({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#applications',
    });
  });

  test('a stopped server is CONNECT_REFUSED', async () => {
    const other = await startGraphServer({
      state,
      tls: ca.issue({ names: ['graph.microsoft.com'] }),
    });
    const target = { ...t, graph: { host: 'graph.microsoft.com', port: other.port } };
    expect((await readApplication(ctx, target, tenant.eceApp.appId)).code).toBe('OK');
    await other.close();
    const obs = await readApplication(ctx, target, tenant.eceApp.appId);
    expect(obs).toMatchObject({ ok: false, code: 'CONNECT_REFUSED', stage: 'request' });
    expect(obs.status).toBeUndefined();
    expect(obs.steps[0]).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
    expectNoSecrets(obs);
  });
});

describe('directory users', () => {
  const setUpnDiffers = () => {
    const u = tenant.users.find(x => x.userPrincipalName === 'support@example.com')!;
    u.userPrincipalName = 'j.support@example.onmicrosoft.com';
    u.mail = 'support@example.com';
    u.proxyAddresses = ['SMTP:support@example.com', 'smtp:j.support@example.onmicrosoft.com'];
    return u;
  };

  test('finds a user by UPN with its mail and proxyAddresses', async () => {
    const obs = await readDirectoryUser(ctx, t, 'svc-ece@example.com');
    expect(obs).toMatchObject({
      ok: true,
      resource: 'directoryUsers',
      mailbox: 'svc-ece@example.com',
    });
    expect(obs.data).toEqual([
      expect.objectContaining({
        userPrincipalName: 'svc-ece@example.com',
        mail: 'svc-ece@example.com',
        proxyAddresses: ['SMTP:svc-ece@example.com'],
      }),
    ]);
    expectNoSecrets(obs);
  });

  test('finds a user whose UPN is not its SMTP address by the SMTP address', async () => {
    const u = setUpnDiffers();
    const obs = await readDirectoryUser(ctx, t, 'SUPPORT@example.com');
    expect(obs.data?.map(x => [x.id, x.userPrincipalName])).toEqual([
      [u.id, 'j.support@example.onmicrosoft.com'],
    ]);
    // licenseDetails takes the object id (or UPN), not the SMTP address (Graph user-get).
    const lic = await readLicenseDetails(ctx, t, u.id, 'support@example.com');
    expect(lic).toMatchObject({ ok: true, mailbox: 'support@example.com' });
    const bySmtp = await readLicenseDetails(ctx, t, 'support@example.com');
    expect(bySmtp).toMatchObject({ ok: false, code: 'GRAPH_NOT_FOUND' });
  });

  test('nobody with that address is OK with no users', async () => {
    const obs = await readDirectoryUser(ctx, t, "o'nobody@example.com");
    expect(obs).toMatchObject({ ok: true, data: [] });
  });

  test('a filter the lab does not know is refused like Graph refuses it', async () => {
    const r = await get(`/v1.0/users?$filter=${encodeURIComponent("displayName eq 'Sales'")}`);
    expect(r.status).toBe(400);
  });
});
