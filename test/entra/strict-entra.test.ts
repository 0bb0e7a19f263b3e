/**
 * The lab's Entra as strict as Microsoft's about client types, certificates and refresh-token
 * lifetimes, and ecebot's token probe doing what each client type requires:
 * - the device flow is for public clients: ECE's Web app without a secret is refused with
 *   AADSTS7000218 (o365-facts.md §2.3 and §5 #18), ecebot's public sign-in app is not;
 * - a public client sends no secret (AADSTS700025), a confidential one always sends its secret or
 *   a certificate assertion (AADSTS7000218 without);
 * - a certificate assertion is a PS256 JWT naming the certificate by `x5t#S256`, for the token
 *   endpoint (learn.microsoft.com/entra/identity-platform/certificate-credentials);
 * - every redemption hands out a new refresh token, the old one is not revoked, and each dies
 *   90 days after its own issue (learn.microsoft.com/entra/identity-platform/refresh-tokens;
 *   AADSTS700082 "… was inactive for 90.00:00:00", o365-facts.md §2.3);
 * - every token issued or refused to a user is in the sign-in log, interactive for a person at a
 *   prompt and non-interactive for a redemption (o365-facts.md §3.4).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aadstsCode, isCode } from '../../src/knowledge/codes';
import { LabClock } from '../../src/lab/clock';
import { approveDeviceCode } from '../../src/lab/entra-server';
import { AADSTS } from '../../src/lab/entra-errors';
import { refreshTokenOf } from '../../src/lab/tenant';
import { clientAssertion, loadClientCertificate } from '../../src/probes/client-assertion';
import { clientCredentials, deviceCodeSignIn, redeemRefreshToken } from '../../src/probes/entra';
import { LOGIN, raw, startLabEntra, type LabEntra } from './lab-entra';

let lab: LabEntra;
let clock: LabClock;
const DAY = 86_400_000;
const IMAP = 'https://outlook.office.com/IMAP.AccessAsUser.All';
const SMTP = 'https://outlook.office.com/SMTP.Send';

beforeAll(async () => {
  lab = await startLabEntra();
});

afterAll(async () => {
  await lab.server.close();
});

beforeEach(() => {
  lab.resetTenant();
  clock = new LabClock();
  lab.state.clock = clock;
});

const t = () => lab.state.tenant;
const tokenPath = () => `/${t().tenantId}/oauth2/v2.0/token`;
const eceSecret = () => t().eceApp.secrets[0]!.value;
const supportRt = () => refreshTokenOf(t(), 'support@example.com')!;

/** Redeem a refresh token on the wire as ECE does (confidential client, with its secret). */
function redeemAsEce(refreshToken: string) {
  return raw(lab, 'POST', tokenPath(), {
    grant_type: 'refresh_token',
    client_id: t().eceApp.appId,
    client_secret: eceSecret(),
    refresh_token: refreshToken,
    scope: `${IMAP} offline_access`,
  });
}

/** A device-code sign-in with ecebot's public sign-in app, approved as `upn`. */
async function signIn(upn: string) {
  return deviceCodeSignIn(lab.ctx, lab.target, {
    clientId: t().signinApp.appId,
    scopes: [IMAP, SMTP],
    timeoutSeconds: 20,
    onCode: c => {
      expect(approveDeviceCode(lab.server, c.userCode, upn)).toBe('approved');
    },
  });
}

describe('client types', () => {
  test('device code with ECE’s confidential app: the code is handed out, the poll is AADSTS7000218', async () => {
    const codes: string[] = [];
    const r = await deviceCodeSignIn(lab.ctx, lab.target, {
      clientId: t().eceApp.appId,
      scopes: [IMAP],
      timeoutSeconds: 20,
      onCode: c => {
        codes.push(c.userCode);
      },
    });
    expect(codes).toHaveLength(1);
    expect(r.observation).toMatchObject({
      ok: false,
      code: 'AADSTS7000218',
      aadsts: 7000218,
      oauthError: 'invalid_client',
      stage: 'token',
    });
    expect(r.refreshToken).toBeUndefined();
  });

  test('device code with ecebot’s public sign-in app gives a refresh token that redeems without a secret', async () => {
    const r = await signIn('support@example.com');
    expect(r.observation).toMatchObject({ ok: true, flow: 'device-code', purpose: 'signin' });
    const rt = r.refreshToken!;
    expect(t().refreshTokens[rt]).toMatchObject({
      upn: 'support@example.com',
      clientId: t().signinApp.appId,
      publicClient: true,
    });
    const redeemed = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: t().signinApp.appId,
      refreshToken: rt,
      scopes: [IMAP],
      mailbox: 'support@example.com',
      purpose: 'signin',
    });
    expect(redeemed.observation).toMatchObject({ ok: true, purpose: 'signin' });
    expect(redeemed.observation.claims?.appid).toBe(t().signinApp.appId);
  });

  test('a secret sent with a public client’s refresh token is AADSTS700025', async () => {
    const { refreshToken } = await signIn('support@example.com');
    const wire = await raw(lab, 'POST', tokenPath(), {
      grant_type: 'refresh_token',
      client_id: t().signinApp.appId,
      client_secret: eceSecret(),
      refresh_token: refreshToken!,
      scope: IMAP,
    });
    expect(wire.status).toBe(401);
    expect(wire.json).toMatchObject({ error: 'invalid_client', error_codes: [700025] });
    expect(String((wire.json as { error_description: string }).error_description)).toMatch(
      /^AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented\./,
    );
  });

  test('ECE’s refresh token without ECE’s secret is AADSTS7000218, and it is in the log', async () => {
    const r = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: t().eceApp.appId,
      refreshToken: supportRt(),
      scopes: [IMAP],
      mailbox: 'support@example.com',
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'AADSTS7000218', purpose: 'mailbox' });
    expect(t().signIns.at(-1)).toMatchObject({
      userPrincipalName: 'support@example.com',
      appId: t().eceApp.appId,
      errorCode: 7000218,
      eventType: 'nonInteractiveUser',
    });
  });

  test('a refused sign-in grant gets ecebot’s own code, never the AADSTS code that points at ECE', async () => {
    const { refreshToken } = await signIn('support@example.com');
    t().refreshTokens[refreshToken!]!.failWith = 700082;
    const dead = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: t().signinApp.appId,
      refreshToken: refreshToken!,
      scopes: [IMAP],
      mailbox: 'support@example.com',
      purpose: 'signin',
    });
    expect(dead.observation).toMatchObject({
      ok: false,
      code: 'SIGNIN_TOKEN_EXPIRED',
      oauthError: 'invalid_grant',
    });
    expect(dead.observation.aadsts).toBeUndefined();
    // Entra's own words still say which number it was.
    expect(dead.observation.server).toMatch(/^AADSTS700082: /);

    const app = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: t().signinApp.appId,
      secret: 'a secret a public client must not send',
      refreshToken: refreshToken!,
      scopes: [IMAP],
      mailbox: 'support@example.com',
      purpose: 'signin',
    });
    expect(app.observation).toMatchObject({ ok: false, code: 'SIGNIN_APP_REFUSED' });
  });
});

describe('certificate credentials', () => {
  /** A certificate for ECE's app from the lab CA, uploaded to the app registration when asked. */
  function eceCertificate(upload: boolean) {
    const issued = lab.ca.issue({ names: ['ece-client.example.com'] });
    const cert = loadClientCertificate(issued.certPem, issued.keyPem);
    if (upload) {
      t().eceApp.certificates = [
        {
          keyId: 'lab-cert',
          displayName: 'CN=ece-client',
          certPem: issued.certPem,
          startDateTime: new Date(Date.now() - DAY).toISOString(),
          endDateTime: new Date(Date.now() + 365 * DAY).toISOString(),
        },
      ];
    }
    return cert;
  }

  test('the assertion is a PS256 JWT with x5t#S256, for the token endpoint, from and about the client', () => {
    const cert = eceCertificate(false);
    const endpoint = `https://${LOGIN}/${t().tenantId}/oauth2/v2.0/token`;
    const jwt = clientAssertion(cert, { clientId: 'app-id', tokenEndpoint: endpoint, now: 1000 });
    const [h, c] = jwt
      .split('.')
      .slice(0, 2)
      .map(p => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
    expect(h).toMatchObject({ alg: 'PS256', typ: 'JWT', 'x5t#S256': cert.x5tS256 });
    expect(c).toMatchObject({ aud: endpoint, iss: 'app-id', sub: 'app-id', nbf: 1000, exp: 1300 });
    expect(c!.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('ECE’s app with an uploaded certificate gets app-only and delegated tokens; no secret is sent', async () => {
    const certificate = eceCertificate(true);
    const app = await clientCredentials(lab.ctx, lab.target, {
      clientId: t().eceApp.appId,
      certificate,
      scopes: ['https://graph.microsoft.com/.default'],
      purpose: 'ece-app',
    });
    expect(app.observation).toMatchObject({ ok: true, code: 'OK' });
    const mail = await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: t().eceApp.appId,
      certificate,
      refreshToken: supportRt(),
      scopes: [IMAP],
      mailbox: 'support@example.com',
    });
    expect(mail.observation).toMatchObject({ ok: true, code: 'OK' });
    // The assertion, a credential for its lifetime, is in no step.
    expect(JSON.stringify(mail.observation)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });

  test('a certificate the app does not have is AADSTS700027', async () => {
    const certificate = eceCertificate(false);
    const r = await clientCredentials(lab.ctx, lab.target, {
      clientId: t().eceApp.appId,
      certificate,
      scopes: ['https://graph.microsoft.com/.default'],
      purpose: 'ece-app',
    });
    expect(r.observation).toMatchObject({ ok: false, code: 'AADSTS700027', aadsts: 700027 });
  });

  test('an assertion for another audience is AADSTS50012, an expired one AADSTS700024', async () => {
    const cert = eceCertificate(true);
    const send = (assertion: string) =>
      raw(lab, 'POST', tokenPath(), {
        grant_type: 'client_credentials',
        client_id: t().eceApp.appId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: 'https://graph.microsoft.com/.default',
      });
    const right = `https://${LOGIN}:${lab.server.port}/${t().tenantId}/oauth2/v2.0/token`;
    const ok = await send(
      clientAssertion(cert, { clientId: t().eceApp.appId, tokenEndpoint: right }),
    );
    expect(ok.status).toBe(200);
    const elsewhere = await send(
      clientAssertion(cert, {
        clientId: t().eceApp.appId,
        tokenEndpoint: `https://${LOGIN}:${lab.server.port}/common/oauth2/v2.0/token`,
      }),
    );
    expect(elsewhere.json).toMatchObject({ error: 'invalid_client', error_codes: [50012] });
    const old = await send(
      clientAssertion(cert, {
        clientId: t().eceApp.appId,
        tokenEndpoint: right,
        now: Math.floor(Date.now() / 1000) - 3600,
      }),
    );
    expect(old.json).toMatchObject({ error: 'invalid_client', error_codes: [700024] });
  });
});

describe('refresh-token rotation and the 90 days', () => {
  test('every redemption hands out a new token; each lives 90 days from its own issue, however often it is used', async () => {
    const a = supportRt();
    const first = await redeemAsEce(a);
    expect(first.status).toBe(200);
    const b = (first.json as { refresh_token: string }).refresh_token;
    expect(b).not.toBe(a);
    // The old one is not revoked by use (learn.microsoft.com/…/refresh-tokens).
    expect((await redeemAsEce(a)).status).toBe(200);

    clock.advance(60 * DAY);
    const second = await redeemAsEce(b);
    expect(second.status).toBe(200);
    const c = (second.json as { refresh_token: string }).refresh_token;

    clock.advance(31 * DAY);
    // a was issued 10 days before the lab's start, b at its start: both past 90 days now, though
    // a was redeemed twice on the way.
    for (const dead of [a, b]) {
      const r = await redeemAsEce(dead);
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ error: 'invalid_grant', error_codes: [700082] });
      const issued = t().refreshTokens[dead]!.issuedAt!.slice(0, 19);
      expect(String((r.json as { error_description: string }).error_description)).toContain(
        `The token was issued on ${issued}`,
      );
    }
    // The newest one, redeemed 31 days ago, still works: always keep the newest.
    expect((await redeemAsEce(c)).status).toBe(200);
  });
});

describe('the sign-in log', () => {
  test('device-code sign-ins are interactive, redemptions non-interactive, refusals included, from the socket’s address', async () => {
    // The healthy lab tenant starts with a history of ECE's redemptions; this test's come after.
    const seeded = t().signIns.length;
    const { refreshToken } = await signIn('sales@example.com');
    await redeemRefreshToken(lab.ctx, lab.target, {
      clientId: t().signinApp.appId,
      refreshToken: refreshToken!,
      scopes: [IMAP],
      mailbox: 'sales@example.com',
      purpose: 'signin',
    });
    clock.advance(100 * DAY);
    await redeemAsEce(supportRt());
    const log = t().signIns.slice(seeded);
    expect(log).toHaveLength(3);
    expect(log[0]).toMatchObject({
      userPrincipalName: 'sales@example.com',
      appId: t().signinApp.appId,
      errorCode: 0,
      eventType: 'interactiveUser',
      authenticationMethod: 'Password',
      ipAddress: '127.0.0.1',
    });
    expect(log[1]).toMatchObject({
      userPrincipalName: 'sales@example.com',
      errorCode: 0,
      eventType: 'nonInteractiveUser',
      authenticationMethod: 'Previously satisfied',
      ipAddress: '127.0.0.1',
    });
    expect(log[2]).toMatchObject({
      userPrincipalName: 'support@example.com',
      appId: t().eceApp.appId,
      errorCode: 700082,
      eventType: 'nonInteractiveUser',
    });
    // Times are on the lab clock.
    expect(
      Date.parse(log[2]!.createdDateTime) - Date.parse(log[1]!.createdDateTime),
    ).toBeGreaterThan(99 * DAY);
  });
});

describe('the code registry knows every AADSTS number the lab can answer', () => {
  const source = readFileSync(join(__dirname, '../../src/lab/entra-server.ts'), 'utf8');
  // Numbers the server passes to fail()/signInError() or returns as a problem's code.
  const used = [
    ...source.matchAll(/(?:fail|signInError)\(\s*call,\s*(\d{5,7})\b/g),
    ...source.matchAll(/\bcode:\s*(\d{5,7})\b/g),
    ...source.matchAll(/\brefused\((\d{5,7})\)/g),
    ...source.matchAll(/\breturn (\d{5,7});/g),
  ].map(m => Number(m[1]));
  const table = Object.keys(AADSTS).map(Number);

  test('the scan finds the numbers this brief is about', () => {
    for (const n of [7000218, 700025, 700082, 700027, 50012, 700024]) expect(used).toContain(n);
  });

  test.each([...new Set([...table, ...used])].sort((a, b) => a - b))(
    'AADSTS%d has a text in the lab and a code of its own',
    n => {
      expect(AADSTS[n]).toBeDefined();
      expect(aadstsCode(n)).not.toBe('ENTRA_ERROR');
      expect(isCode(`AADSTS${n}`)).toBe(true);
    },
  );
});
