/**
 * The Entra token probe (msal-node 7) against the lab Entra server: each flow, the AADSTS codes
 * that reach the observation, network failures, and that no secret or token ever lands in it.
 */
import net from 'node:net';
import { approveDeviceCode, declineDeviceCode } from '../../src/lab/entra-server';
import { refreshTokenOf } from '../../src/lab/tenant';
import {
  clientCredentials,
  deviceCodeSignIn,
  redeemRefreshToken,
  type EntraTokenResult,
} from '../../src/probes/entra';
import { raw, startLabEntra, type LabEntra } from './lab-entra';

let lab: LabEntra;

beforeAll(async () => {
  lab = await startLabEntra();
});

afterAll(async () => {
  await lab.server.close();
});

beforeEach(() => lab.resetTenant());

const IMAP = 'https://outlook.office.com/IMAP.AccessAsUser.All';
const SMTP = 'https://outlook.office.com/SMTP.Send';

/** The observation, as it would be stored or shown, contains none of these values. */
function expectClean(r: EntraTokenResult, secrets: (string | undefined)[]) {
  const json = JSON.stringify(r.observation);
  for (const s of [...secrets, r.accessToken, r.refreshToken]) {
    if (s) expect(json).not.toContain(s);
  }
}

const eceSecret = () => lab.state.tenant.eceApp.secrets[0]!.value;
const supportRt = () => refreshTokenOf(lab.state.tenant, 'support@example.com')!;

describe('client credentials', () => {
  test('probe app: Graph token with its roles, app-only, 60 minutes', async () => {
    const t = lab.state.tenant;
    const r = await clientCredentials(lab.ctx, lab.target, {
      clientId: t.probeApp.appId,
      secret: t.probeApp.secret,
      scopes: ['https://graph.microsoft.com/.default'],
      purpose: 'probe-app',
    });
    expect(r.observation).toMatchObject({
      kind: 'entra-token',
      flow: 'client-credentials',
      purpose: 'probe-app',
      ok: true,
      code: 'OK',
      lifetimeMinutes: 60,
    });
    expect(r.observation.claims?.aud).toBe('https://graph.microsoft.com');
    expect(r.observation.claims?.roles).toEqual(t.probeApp.roles);
    expect(r.observation.claims?.idtyp).toBe('app');
    expect(r.observation.claims?.appid).toBe(t.probeApp.appId);
    expect(r.observation.steps.map(s => [s.name, s.ok])).toEqual([
      ['discovery', true],
      ['token', true],
    ]);
    expect(r.accessToken).toBeTruthy();
    expectClean(r, [t.probeApp.secret]);
  });

  test('probe app: Exchange admin token has the Exchange audience', async () => {
    const t = lab.state.tenant;
    const r = await clientCredentials(lab.ctx, lab.target, {
      clientId: t.probeApp.appId,
      secret: t.probeApp.secret,
      scopes: ['https://outlook.office365.com/.default'],
      purpose: 'probe-app',
    });
    expect(r.observation.claims?.aud).toBe('https://outlook.office365.com');
    expect(r.observation.claims?.roles).toContain('Exchange.ManageAsApp');
  });

  test('ECE app with an expired secret: AADSTS7000222 with the server words', async () => {
    const secret = eceSecret();
    lab.state.tenant.eceApp.secrets[0]!.endDateTime = new Date(Date.now() - 86400000).toISOString();
    const r = await clientCredentials(lab.ctx, lab.target, {
      clientId: lab.state.tenant.eceApp.appId,
      secret,
      scopes: ['https://graph.microsoft.com/.default'],
      purpose: 'ece-app',
    });
    expect(r.observation).toMatchObject({
      ok: false,
      code: 'AADSTS7000222',
      aadsts: 7000222,
      oauthError: 'invalid_client',
      stage: 'token',
    });
    expect(r.observation.server).toMatch(/^AADSTS7000222: The provided client secret keys/);
    const token = r.observation.steps.find(s => s.name === 'token');
    expect(token?.received).toEqual(expect.arrayContaining(['HTTP 401', 'error: invalid_client']));
    expect(token?.code).toBe('AADSTS7000222');
    expect(r.accessToken).toBeUndefined();
    expectClean(r, [secret]);
  });

  test('ECE app with a wrong secret (the secret ID pasted): AADSTS7000215', async () => {
    const secretId = lab.state.tenant.eceApp.secrets[0]!.keyId;
    const r = await clientCredentials(lab.ctx, lab.target, {
      clientId: lab.state.tenant.eceApp.appId,
      secret: secretId,
      scopes: ['https://graph.microsoft.com/.default'],
      purpose: 'ece-app',
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'AADSTS7000215', aadsts: 7000215 });
    expectClean(r, [secretId]);
  });

  test('an unknown tenant fails discovery with AADSTS90002', async () => {
    const t = lab.state.tenant;
    const r = await clientCredentials(
      lab.ctx,
      { ...lab.target, tenantId: 'contoso.invalid' },
      {
        clientId: t.probeApp.appId,
        secret: t.probeApp.secret,
        scopes: ['https://graph.microsoft.com/.default'],
        purpose: 'probe-app',
      },
    );
    expect(r.observation).toMatchObject({ ok: false, code: 'AADSTS90002', stage: 'discovery' });
  });
});

describe('refresh token', () => {
  test('redeems for the mailbox user, Outlook audience, and returns a working rotated token', async () => {
    const rt = supportRt();
    const secret = eceSecret();
    const r = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: lab.state.tenant.eceApp.appId,
      secret,
      refreshToken: rt,
      scopes: [IMAP, SMTP],
      mailbox: 'support@example.com',
    });
    expect(r.observation).toMatchObject({
      ok: true,
      code: 'OK',
      flow: 'refresh-token',
      purpose: 'mailbox',
      mailbox: 'support@example.com',
    });
    const claims = r.observation.claims!;
    expect(claims.upn).toBe('support@example.com');
    expect(claims.aud).toBe('https://outlook.office.com');
    expect(claims.scp?.split(' ')).toEqual(['IMAP.AccessAsUser.All', 'SMTP.Send']);
    expect(claims.amr).toEqual(['pwd']);
    expect(r.observation.lifetimeMinutes).toBeGreaterThanOrEqual(60);
    expect(r.observation.lifetimeMinutes).toBe(lab.state.tenant.eceApp.accessTokenLifetimeMinutes);

    expect(r.refreshToken).toBeTruthy();
    expect(r.refreshToken).not.toBe(rt);
    expect(lab.state.tenant.refreshTokens[r.refreshToken!]?.upn).toBe('support@example.com');
    expect(lab.state.tenant.signIns.at(-1)).toMatchObject({
      userPrincipalName: 'support@example.com',
      errorCode: 0,
    });
    expectClean(r, [secret, rt]);

    const again = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: lab.state.tenant.eceApp.appId,
      secret,
      refreshToken: r.refreshToken!,
      scopes: [IMAP],
      mailbox: 'support@example.com',
    });
    expect(again.observation.ok).toBe(true);
    expectClean(again, [secret, rt, r.refreshToken]);
  });

  test('a token unused for 90 days: AADSTS700082 with its real text', async () => {
    const rt = supportRt();
    lab.state.tenant.refreshTokens[rt]!.failWith = 700082;
    const r = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: lab.state.tenant.eceApp.appId,
      secret: eceSecret(),
      refreshToken: rt,
      scopes: [IMAP],
      mailbox: 'support@example.com',
    });
    expect(r.observation).toMatchObject({
      ok: false,
      code: 'AADSTS700082',
      aadsts: 700082,
      oauthError: 'invalid_grant',
    });
    expect(r.observation.server).toContain('was inactive for 90.00:00:00');
    expect(r.refreshToken).toBeUndefined();
    expectClean(r, [eceSecret(), rt]);
  });

  test('consent removed: AADSTS65001', async () => {
    lab.state.tenant.eceApp.consentedScopes = [];
    const r = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: lab.state.tenant.eceApp.appId,
      secret: eceSecret(),
      refreshToken: supportRt(),
      scopes: [IMAP],
      mailbox: 'support@example.com',
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'AADSTS65001', aadsts: 65001 });
    expect(lab.state.tenant.signIns.at(-1)?.errorCode).toBe(65001);
  });

  test('an expired ECE secret breaks refresh too (AADSTS7000222)', async () => {
    const secret = eceSecret();
    lab.state.tenant.eceApp.secrets[0]!.endDateTime = new Date(Date.now() - 1000).toISOString();
    const r = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: lab.state.tenant.eceApp.appId,
      secret,
      refreshToken: supportRt(),
      scopes: [IMAP],
      mailbox: 'support@example.com',
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'AADSTS7000222' });
  });
});

describe('device code', () => {
  test('end to end: the code is approved on /devicelogin, the token is the approving user’s', async () => {
    const prompts: string[] = [];
    const r = await deviceCodeSignIn(lab.ctx, lab.target, {
      clientId: lab.state.tenant.signinApp.appId,
      scopes: [IMAP],
      timeoutSeconds: 20,
      onCode: async c => {
        prompts.push(c.message);
        expect(c.verificationUri).toBe(
          `https://login.microsoftonline.com:${lab.server.port}/devicelogin`,
        );
        const page = await raw(lab, 'POST', '/devicelogin', {
          user_code: c.userCode,
          upn: 'sales@example.com',
          action: 'approve',
        });
        expect(page.status).toBe(200);
      },
    });
    expect(prompts).toHaveLength(1);
    expect(r.observation).toMatchObject({ ok: true, code: 'OK', flow: 'device-code' });
    expect(r.observation.claims?.upn).toBe('sales@example.com');
    expect(r.observation.steps.map(s => s.name)).toEqual([
      'discovery',
      'devicecode',
      'wait',
      'token',
    ]);
    expect(r.refreshToken).toBeTruthy();
    expectClean(r, []);

    // A public-client sign-in's refresh token redeems without a secret.
    const redeemed = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: lab.state.tenant.signinApp.appId,
      refreshToken: r.refreshToken!,
      scopes: [IMAP],
      mailbox: 'sales@example.com',
    });
    expect(redeemed.observation.ok).toBe(true);
    expect(redeemed.observation.claims?.upn).toBe('sales@example.com');
  });

  test('pending polls are counted, then approveDeviceCode lets it through', async () => {
    const r = await deviceCodeSignIn(lab.ctx, lab.target, {
      clientId: lab.state.tenant.signinApp.appId,
      scopes: [IMAP],
      timeoutSeconds: 20,
      onCode: c => {
        // Approve after the first poll has been answered authorization_pending.
        setTimeout(() => approveDeviceCode(lab.server, c.userCode, 'support@example.com'), 300);
      },
    });
    expect(r.observation.ok).toBe(true);
    expect(r.observation.claims?.upn).toBe('support@example.com');
    const wait = r.observation.steps.find(s => s.name === 'wait');
    expect(wait?.note).toMatch(/^[1-9]\d* polls? answered authorization_pending$/);
  });

  test('declined by the person: DEVICE_CODE_DECLINED', async () => {
    const r = await deviceCodeSignIn(lab.ctx, lab.target, {
      clientId: lab.state.tenant.signinApp.appId,
      scopes: [IMAP],
      timeoutSeconds: 20,
      onCode: c => {
        declineDeviceCode(lab.server, c.userCode);
      },
    });
    expect(r.observation).toMatchObject({
      ok: false,
      code: 'DEVICE_CODE_DECLINED',
      oauthError: 'authorization_declined',
    });
  });

  test('nobody signs in before timeoutSeconds: DEVICE_CODE_EXPIRED', async () => {
    const r = await deviceCodeSignIn(lab.ctx, lab.target, {
      clientId: lab.state.tenant.signinApp.appId,
      scopes: [IMAP],
      timeoutSeconds: 1,
      onCode: () => undefined,
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'DEVICE_CODE_EXPIRED', stage: 'wait' });
  });

  test('cancelled by the caller: DEVICE_CODE_CANCELLED', async () => {
    const abort = new AbortController();
    const r = await deviceCodeSignIn(lab.ctx, lab.target, {
      clientId: lab.state.tenant.signinApp.appId,
      scopes: [IMAP],
      cancel: abort.signal,
      onCode: () => {
        setTimeout(() => abort.abort(), 200);
      },
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'DEVICE_CODE_CANCELLED' });
  });

  test('an unknown client is refused at /devicecode with AADSTS700016, before any prompt', async () => {
    const onCode = jest.fn();
    const r = await deviceCodeSignIn(lab.ctx, lab.target, {
      clientId: '00000000-0000-0000-0000-00000000abcd',
      scopes: [IMAP],
      timeoutSeconds: 10,
      onCode,
    });
    expect(onCode).not.toHaveBeenCalled();
    expect(r.observation).toMatchObject({ ok: false, code: 'AADSTS700016', stage: 'devicecode' });
  });
});

describe('network failures', () => {
  test('nothing listening: ENTRA_UNREACHABLE, the step keeps CONNECT_REFUSED', async () => {
    const port = await closedPort();
    const t = lab.state.tenant;
    const r = await clientCredentials(
      lab.ctx,
      { ...lab.target, login: { host: 'login.microsoftonline.com', port } },
      {
        clientId: t.probeApp.appId,
        secret: t.probeApp.secret,
        scopes: ['https://graph.microsoft.com/.default'],
        purpose: 'probe-app',
      },
    );
    expect(r.observation).toMatchObject({
      ok: false,
      code: 'ENTRA_UNREACHABLE',
      stage: 'discovery',
    });
    expect(r.observation.steps[0]).toMatchObject({
      name: 'discovery',
      ok: false,
      code: 'CONNECT_REFUSED',
    });
    expectClean(r, [t.probeApp.secret]);
  });

  test('a certificate from a CA we do not trust: ENTRA_UNREACHABLE, the step says TLS_CERT_INVALID', async () => {
    const t = lab.state.tenant;
    const { ca: _ca, ...untrusting } = lab.ctx;
    const r = await clientCredentials(untrusting, lab.target, {
      clientId: t.probeApp.appId,
      secret: t.probeApp.secret,
      scopes: ['https://graph.microsoft.com/.default'],
      purpose: 'probe-app',
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'ENTRA_UNREACHABLE' });
    expect(r.observation.steps[0]).toMatchObject({ name: 'discovery', code: 'TLS_CERT_INVALID' });
  });
});

/** A loopback port nobody listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
