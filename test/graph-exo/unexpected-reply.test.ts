/**
 * Through the lab's Graph server: when the tenant holds a value of the wrong type, Graph's 200
 * reply carries it, the probe reports GRAPH_UNEXPECTED_REPLY (issues and shape kept, no value,
 * no secret) instead of crashing, and the items fed by that read are errors, not verdicts.
 */
import { appRegistration } from '../../src/checklist/app-registration';
import { license } from '../../src/checklist/license';
import { transcriptOf } from '../../src/checklist/evidence';
import { startGraphServer } from '../../src/lab/graph-server';
import type { RunningServer } from '../../src/lab/server-types';
import { forecasts } from '../../src/notify/forecast';
import { readApplication, readLicenseDetails, type GraphTarget } from '../../src/probes/graph';
import { facts } from '../checklist/fixtures';
import { newLab, probeToken } from './lab-fixture';

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

afterEach(() => {
  Object.assign(tenant, structuredClone(healthy));
});

const env = () =>
  facts({
    tenantId: tenant.tenantId,
    app: { clientId: tenant.eceApp.appId },
    mailboxes: [
      { address: 'support@example.com', access: 'mailbox', retrieve: 'imap', hasToken: true },
    ],
  });

test('a secret whose endDateTime is a number: reported, judged as an error, no crash', async () => {
  // The lab serialises what the tenant holds, so a number goes out as Graph would never send it.
  Object.assign(tenant.eceApp.secrets[0]!, { endDateTime: 5 });
  const obs = await readApplication(ctx, t, tenant.eceApp.appId);
  expect(obs).toMatchObject({
    kind: 'graph',
    resource: 'application',
    ok: false,
    code: 'GRAPH_UNEXPECTED_REPLY',
    status: 200,
    server:
      'reply not understood: value[0].passwordCredentials[0].endDateTime: expected string, got number',
  });
  expect(obs.data).toBeUndefined();
  expect(obs.unexpected!.shape).toContain('passwordCredentials: [1 × { customKeyIdentifier: null');
  expect(obs.unexpected!.shape).toContain('endDateTime: number');
  expect(obs.steps[0]).toMatchObject({ ok: false, code: 'GRAPH_UNEXPECTED_REPLY' });
  // The transcript a person sees holds the issues and the outline, and no value of the reply.
  const transcript = transcriptOf(obs.steps);
  expect(transcript).toContain('S: HTTP 200');
  expect(transcript.some(l => l.startsWith('S: reply shape: { @odata.context: string'))).toBe(true);
  const json = JSON.stringify(obs);
  expect(json).not.toContain(tenant.eceApp.secrets[0]!.value);
  expect(json).not.toContain(tenant.eceApp.secrets[0]!.displayName);
  expect(json).not.toContain(tenant.eceApp.displayName);
  expect(json).not.toContain(t.token);

  const f = appRegistration({ env: env(), observations: [obs], now: new Date() });
  expect(f.status).toBe('error');
  expect(f.code).toBe('GRAPH_UNEXPECTED_REPLY');
  expect(f.summary).toBe("app registration not judged: Graph's reply was not understood");
  expect(f.remediation[0]!.text).toMatch(/^ecebot could not read Microsoft Graph's answer/);
  expect(forecasts([obs], new Date())).toEqual([]);
});

test('service plans as an object: the licence item is an error, not "no licence"', async () => {
  const user = tenant.users.find(u => u.userPrincipalName === 'support@example.com')!;
  Object.assign(user.licenses[0]!, { servicePlans: { EXCHANGE_S_ENTERPRISE: 'Success' } });
  const obs = await readLicenseDetails(ctx, t, 'support@example.com');
  expect(obs).toMatchObject({ ok: false, code: 'GRAPH_UNEXPECTED_REPLY', status: 200 });
  expect(obs.unexpected!.issues).toEqual(['value[0].servicePlans: expected array, got object']);

  const f = license({ env: env(), observations: [obs], now: new Date() });
  expect(f).toMatchObject({ status: 'error', code: 'GRAPH_UNEXPECTED_REPLY' });
  expect(f.codes).not.toContain('EXO_LICENSE_MISSING');
});

test('the same reads are understood again once the tenant is sane', async () => {
  const obs = await readApplication(ctx, t, tenant.eceApp.appId);
  expect(obs).toMatchObject({ ok: true, code: 'OK' });
  expect(obs.unexpected).toBeUndefined();
});
