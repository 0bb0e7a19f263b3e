/**
 * The Exchange admin probes against the lab's InvokeCommand server: rows of each cmdlet, tenant
 * changes, unknown mailbox and cmdlet, token refusals, a stopped server; and, against a small
 * local HTTPS server that answers what a live tenant may (403 with NUL bytes, 429 with
 * Rate-Limit headers), the headers the probe sends and how it reads those answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { startExoServer } from '../../src/lab/exo-server';
import { sendEmpty, startHttpsServer } from '../../src/lab/http-util';
import type { RunningServer } from '../../src/lab/server-types';
import { createKeys } from '../../src/lab/tokens';
import {
  getCasMailbox,
  getMailboxPermission,
  getRecipientPermission,
  getTransportConfig,
  invokeCommand,
  type ExoCmdlet,
  type ExoTarget,
} from '../../src/probes/exo';
import { httpsRequest } from '../../src/probes/http-client';
import type { ExoObservation } from '../../src/model';
import { newLab, probeToken, twoHoursAgo } from './lab-fixture';

const { state, ca, ctx } = newLab();
const tenant = state.tenant;
const healthy = structuredClone(tenant);
const exoTls = ca.issue({ names: ['outlook.office365.com'] });
let server: RunningServer;
let t: ExoTarget;

beforeAll(async () => {
  server = await startExoServer({ state, tls: exoTls });
  t = {
    exo: { host: 'outlook.office365.com', port: server.port },
    token: probeToken(state, { aud: 'https://outlook.office365.com' }),
    tenantId: tenant.tenantId,
  };
});

afterAll(() => server.close());

afterEach(() => {
  Object.assign(tenant, structuredClone(healthy));
});

function expectNoSecrets(obs: ExoObservation, token = t.token): void {
  const json = JSON.stringify(obs);
  expect(json).not.toContain(token);
  // The claims part alone would leak the token's contents too.
  const claims = token.split('.')[1];
  if (claims) expect(json).not.toContain(claims);
  expect(json).not.toContain(tenant.probeApp.secret);
}

function mailbox(address: string) {
  return tenant.mailboxes.find(m => m.address === address)!;
}

describe('Get-CASMailbox', () => {
  test('reads the protocol switches of a mailbox', async () => {
    const obs = await getCasMailbox(ctx, t, 'support@example.com');
    expect(obs).toMatchObject({
      kind: 'exo',
      cmdlet: 'Get-CASMailbox',
      identity: 'support@example.com',
      mailbox: 'support@example.com',
      vantage: 'central',
      target: `outlook.office365.com:${server.port}`,
      ok: true,
      code: 'OK',
      status: 200,
    });
    // The judged properties, typed; Identity and PrimarySmtpAddress are read past.
    expect(obs.data).toEqual([
      { ImapEnabled: true, PopEnabled: true, SmtpClientAuthenticationDisabled: false },
    ]);
    expect(obs.steps).toHaveLength(1);
    expect(obs.steps[0]).toMatchObject({ name: 'invoke', ok: true, received: ['HTTP 200'] });
    expect(obs.steps[0]!.sent).toContain('"CmdletName":"Get-CASMailbox"');
    expectNoSecrets(obs);
  });

  test('reflects SMTP AUTH disabled, "follow the org" (null) and IMAP/POP switched off', async () => {
    mailbox('support@example.com').smtpClientAuthenticationDisabled = true;
    mailbox('sales@example.com').smtpClientAuthenticationDisabled = null;
    mailbox('sales@example.com').popEnabled = false;
    mailbox('sales@example.com').imapEnabled = false;
    const support = await getCasMailbox(ctx, t, 'support@example.com');
    expect(support.data![0]!.SmtpClientAuthenticationDisabled).toBe(true);
    const sales = await getCasMailbox(ctx, t, 'sales@example.com');
    expect(sales.data![0]).toMatchObject({
      SmtpClientAuthenticationDisabled: null,
      PopEnabled: false,
      ImapEnabled: false,
    });
  });

  test('an unknown mailbox is HTTP_ERROR 404 with Exchange’s own text', async () => {
    const obs = await getCasMailbox(ctx, t, 'nobody@example.com');
    expect(obs).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 404 });
    expect(obs.server).toMatch(
      /^NotFound: The operation couldn't be performed because object 'nobody@example.com' couldn't be found/,
    );
    expect(obs.data).toBeUndefined();
  });
});

describe('Get-MailboxPermission', () => {
  test('lists SELF and each Full Access holder', async () => {
    const obs = await getMailboxPermission(ctx, t, 'sales@example.com');
    expect(obs).toMatchObject({
      ok: true,
      cmdlet: 'Get-MailboxPermission',
      mailbox: 'sales@example.com',
    });
    expect(obs.data).toEqual([
      {
        User: 'NT AUTHORITY\\SELF',
        AccessRights: ['FullAccess', 'ReadPermission'],
        Deny: false,
      },
      { User: 'svc-ece@example.com', AccessRights: ['FullAccess'], Deny: false },
    ]);
  });

  test('removed Full Access leaves only SELF', async () => {
    mailbox('sales@example.com').fullAccess = [];
    const obs = await getMailboxPermission(ctx, t, 'sales@example.com');
    expect(obs.data!.map(r => r.User)).toEqual(['NT AUTHORITY\\SELF']);
  });
});

describe('Get-RecipientPermission', () => {
  test('lists SELF and each Send As holder with Trustee and AccessControlType', async () => {
    const obs = await getRecipientPermission(ctx, t, 'sales@example.com');
    expect(obs).toMatchObject({
      ok: true,
      cmdlet: 'Get-RecipientPermission',
      mailbox: 'sales@example.com',
    });
    expect(obs.data).toEqual([
      { Trustee: 'NT AUTHORITY\\SELF', AccessRights: ['SendAs'], AccessControlType: 'Allow' },
      { Trustee: 'svc-ece@example.com', AccessRights: ['SendAs'], AccessControlType: 'Allow' },
    ]);
    expectNoSecrets(obs);
  });

  test('Full Access without Send As: only SELF is listed', async () => {
    mailbox('sales@example.com').sendAs = [];
    const obs = await getRecipientPermission(ctx, t, 'sales@example.com');
    expect(obs.data!.map(r => r.Trustee)).toEqual(['NT AUTHORITY\\SELF']);
    const perm = await getMailboxPermission(ctx, t, 'sales@example.com');
    expect(perm.data!.map(r => r.User)).toContain('svc-ece@example.com');
  });

  test('an unknown mailbox is HTTP_ERROR 404', async () => {
    const obs = await getRecipientPermission(ctx, t, 'nobody@example.com');
    expect(obs).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 404 });
  });
});

describe('Get-TransportConfig', () => {
  test('reads and follows the organisation-wide SMTP AUTH switch', async () => {
    const before = await getTransportConfig(ctx, t);
    expect(before).toMatchObject({ ok: true, cmdlet: 'Get-TransportConfig' });
    expect(before.identity).toBeUndefined();
    expect(before.data).toEqual([{ SmtpClientAuthenticationDisabled: false }]);
    tenant.smtpAuthDisabledOrg = true;
    const after = await getTransportConfig(ctx, t);
    expect(after.data).toEqual([{ SmtpClientAuthenticationDisabled: true }]);
  });
});

describe('refusals', () => {
  test('an unknown cmdlet is HTTP_ERROR 400', async () => {
    const obs = await invokeCommand(ctx, t, 'Get-Mailbox' as ExoCmdlet, {});
    expect(obs).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 400 });
    expect(obs.server).toContain("'Get-Mailbox' is not recognized");
  });

  test('a token without Exchange.ManageAsApp is EXO_UNAUTHORIZED', async () => {
    const roles = tenant.probeApp.roles.filter(r => r !== 'Exchange.ManageAsApp');
    const target = {
      ...t,
      token: probeToken(state, { aud: 'https://outlook.office365.com', roles }),
    };
    const obs = await getCasMailbox(ctx, target, 'support@example.com');
    expect(obs).toMatchObject({ ok: false, code: 'EXO_UNAUTHORIZED', status: 401 });
    expect(obs.server).toBe('invalid_token: the token lacks the Exchange.ManageAsApp role');
    expectNoSecrets(obs, target.token);
  });

  test('expired, Graph-audience and foreign-signed tokens are EXO_UNAUTHORIZED', async () => {
    const tokens = [
      probeToken(state, { aud: 'https://outlook.office365.com', iat: twoHoursAgo() }),
      probeToken(state, { aud: 'https://graph.microsoft.com' }),
      probeToken(state, { aud: 'https://outlook.office365.com', keys: createKeys() }),
    ];
    const words = [];
    for (const token of tokens) {
      const obs = await getTransportConfig(ctx, { ...t, token });
      expect(obs).toMatchObject({ ok: false, code: 'EXO_UNAUTHORIZED', status: 401 });
      expectNoSecrets(obs, token);
      words.push(obs.server);
    }
    expect(words).toEqual([
      'invalid_token: the token has expired',
      'invalid_token: the token audience is not https://outlook.office365.com',
      'invalid_token: the token signature is invalid',
    ]);
  });

  test('a token for another tenant path is EXO_UNAUTHORIZED', async () => {
    const obs = await getTransportConfig(ctx, { ...t, tenantId: 'other.onmicrosoft.com' });
    expect(obs).toMatchObject({ ok: false, code: 'EXO_UNAUTHORIZED' });
  });

  test('an oversized body is refused with 413', async () => {
    const answer = await httpsRequest(ctx, {
      method: 'POST',
      target: t.exo,
      path: `/adminapi/beta/${tenant.tenantId}/InvokeCommand`,
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        CmdletInput: {
          CmdletName: 'Get-CASMailbox',
          Parameters: { Identity: 'x'.repeat(100_000) },
        },
      }),
    });
    expect(answer.status).toBe(413);
  });

  test('a stopped server is CONNECT_REFUSED', async () => {
    const other = await startExoServer({ state, tls: exoTls });
    const target = { ...t, exo: { host: 'outlook.office365.com', port: other.port } };
    expect((await getTransportConfig(ctx, target)).code).toBe('OK');
    await other.close();
    const obs = await getTransportConfig(ctx, target);
    expect(obs).toMatchObject({ ok: false, code: 'CONNECT_REFUSED', stage: 'invoke' });
    expect(obs.steps[0]).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
    expectNoSecrets(obs);
  });
});

describe('answers the lab tenant never gives', () => {
  let seen: IncomingHttpHeaders[] = [];
  let answer: { status: number; headers: Record<string, string>; body: string };
  let stub: RunningServer;

  beforeAll(async () => {
    stub = await startHttpsServer(exoTls, (req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        if (!answer.body) return sendEmpty(res, answer.status, answer.headers);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      });
    });
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    seen = [];
  });

  const target = () => ({ ...t, exo: { host: 'outlook.office365.com', port: stub.port } });

  test('sends the routing headers of o365-facts §3.5', async () => {
    answer = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"value":[]}' };
    const obs = await getCasMailbox(ctx, target(), 'support@example.com');
    expect(obs).toMatchObject({ ok: true, data: [] });
    expect(seen).toHaveLength(1);
    const h = seen[0]!;
    expect(h['x-anchormailbox']).toBe(
      `UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${tenant.tenantId}`,
    );
    expect(h['x-cmdletname']).toBe('Get-CASMailbox');
    expect(h['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(h['content-type']).toBe('application/json');
    expect(h.authorization).toBe(`Bearer ${t.token}`);
  });

  test('429 is EXO_THROTTLED with the Rate-Limit headers kept in the step note', async () => {
    answer = {
      status: 429,
      headers: {
        'rate-limit-remaining': '0',
        'rate-limit-reset': '2030-01-01T00:00:30Z',
        'retry-after': '30',
      },
      body: '',
    };
    const obs = await getTransportConfig(ctx, target());
    expect(obs).toMatchObject({ ok: false, code: 'EXO_THROTTLED', status: 429 });
    expect(obs.steps[0]!.note).toBe(
      'Rate-Limit-Remaining=0; Rate-Limit-Reset=2030-01-01T00:00:30Z; Retry-After=30',
    );
  });

  test('403 with a body of NUL bytes is EXO_FORBIDDEN', async () => {
    answer = { status: 403, headers: {}, body: '\u0000\u0000\u0000\u0000' };
    const obs = await getMailboxPermission(ctx, target(), 'sales@example.com');
    expect(obs).toMatchObject({
      ok: false,
      code: 'EXO_FORBIDDEN',
      status: 403,
      server: 'HTTP 403',
    });
  });

  test('a 200 that is not JSON is EXO_UNEXPECTED_REPLY, not a crash', async () => {
    answer = { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>portal</html>' };
    const obs = await getTransportConfig(ctx, target());
    expect(obs).toMatchObject({
      ok: false,
      code: 'EXO_UNEXPECTED_REPLY',
      status: 200,
      server: 'reply not understood: the body is not JSON',
      unexpected: { issues: ['the body is not JSON'], shape: 'text of 19 characters' },
    });
    expect(obs.data).toBeUndefined();
  });

  test('`value` that is not an array of rows is EXO_UNEXPECTED_REPLY with its shape', async () => {
    answer = {
      status: 200,
      headers: {},
      body: '{"value":{"SmtpClientAuthenticationDisabled":true}}',
    };
    const obs = await getTransportConfig(ctx, target());
    expect(obs).toMatchObject({ ok: false, code: 'EXO_UNEXPECTED_REPLY', status: 200 });
    expect(obs.unexpected).toEqual({
      issues: ['value: expected array, got object'],
      shape: '{ value: { SmtpClientAuthenticationDisabled: boolean } }',
    });
    expect(obs.steps[0]).toMatchObject({ ok: false, code: 'EXO_UNEXPECTED_REPLY' });
    expect(obs.steps[0]!.received).toEqual([
      'HTTP 200',
      'reply not understood: value: expected array, got object',
      'reply shape: { value: { SmtpClientAuthenticationDisabled: boolean } }',
    ]);
  });

  test('a judged property of another type is not understood, and no value leaks', async () => {
    // ImapEnabled as a string: a person might read "False" as off, the schema does not guess.
    answer = {
      status: 200,
      headers: {},
      body: JSON.stringify({
        value: [
          { Identity: 'support', ImapEnabled: 'False', PopEnabled: true, Note: 'x-secret-y' },
        ],
      }),
    };
    const obs = await getCasMailbox(ctx, target(), 'support@example.com');
    expect(obs).toMatchObject({ ok: false, code: 'EXO_UNEXPECTED_REPLY' });
    expect(obs.unexpected!.issues).toEqual(['value[0].ImapEnabled: expected boolean, got string']);
    expect(obs.unexpected!.shape).toBe(
      '{ value: [1 × { Identity: string, ImapEnabled: string, PopEnabled: boolean, Note: string }] }',
    );
    const json = JSON.stringify(obs);
    expect(json).not.toContain('x-secret-y');
    expect(json).not.toContain('False');
  });

  test('AccessRights as one joined string reads as the same rights', async () => {
    answer = {
      status: 200,
      headers: {},
      body: JSON.stringify({
        value: [{ User: 'svc-ece@example.com', AccessRights: 'FullAccess, ReadPermission' }],
      }),
    };
    const obs = await getMailboxPermission(ctx, target(), 'sales@example.com');
    expect(obs).toMatchObject({ ok: true, code: 'OK' });
    expect(obs.data).toEqual([
      { User: 'svc-ece@example.com', AccessRights: ['FullAccess', 'ReadPermission'] },
    ]);
  });
});
