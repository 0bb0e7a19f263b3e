/**
 * The lab Entra server on the wire: discovery documents, JWKS, the error shape, the authorize
 * leg of the authorization code flow and the /devicelogin page. The msal-driven flows are in
 * entra-probe.test.ts.
 */
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { approveDeviceCode, declineDeviceCode } from '../../src/lab/entra-server';
import { mintAccessToken } from '../../src/lab/tokens';
import { decodeClaims } from '../../src/probes/jwt-claims';
import { LOGIN, raw, startLabEntra, type LabEntra } from './lab-entra';

let lab: LabEntra;

beforeAll(async () => {
  lab = await startLabEntra();
});

afterAll(async () => {
  await lab.server.close();
});

beforeEach(() => lab.resetTenant());

const tid = () => lab.state.tenant.tenantId;
const origin = () => `https://${LOGIN}:${lab.server.port}`;
const ECE_REDIRECT = 'https://ece.example.com/system/oauth2/callback';

describe('discovery', () => {
  test('openid-configuration is built from the Host header and names the tenant by id', async () => {
    for (const segment of [tid(), lab.state.tenant.domain]) {
      const r = await raw(lab, 'GET', `/${segment}/v2.0/.well-known/openid-configuration`);
      expect(r.status).toBe(200);
      const doc = r.json as Record<string, unknown>;
      expect(doc.issuer).toBe(`${origin()}/${tid()}/v2.0`);
      expect(doc.token_endpoint).toBe(`${origin()}/${tid()}/oauth2/v2.0/token`);
      expect(doc.authorization_endpoint).toBe(`${origin()}/${tid()}/oauth2/v2.0/authorize`);
      expect(doc.jwks_uri).toBe(`${origin()}/${tid()}/discovery/v2.0/keys`);
      expect(doc.device_authorization_endpoint).toBe(`${origin()}/${tid()}/oauth2/v2.0/devicecode`);
      expect(r.headers['cache-control']).toBe('max-age=86400, private');
    }
  });

  test('common keeps the {tenantid} placeholder in the issuer', async () => {
    const r = await raw(lab, 'GET', '/common/v2.0/.well-known/openid-configuration');
    const doc = r.json as Record<string, unknown>;
    expect(doc.issuer).toBe(`${origin()}/{tenantid}/v2.0`);
    expect(doc.token_endpoint).toBe(`${origin()}/common/oauth2/v2.0/token`);
  });

  test('an unknown tenant is AADSTS90002 in the Entra error shape', async () => {
    const r = await raw(lab, 'GET', '/contoso.invalid/v2.0/.well-known/openid-configuration');
    expect(r.status).toBe(400);
    const body = r.json as Record<string, unknown>;
    expect(body.error_codes).toEqual([90002]);
    expect(String(body.error_description)).toMatch(
      /^AADSTS90002: Tenant 'contoso.invalid' not found/,
    );
  });

  test('instance discovery lists the lab host as its own cloud', async () => {
    const r = await raw(
      lab,
      'GET',
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${origin()}/${tid()}/oauth2/v2.0/authorize`)}`,
    );
    const body = r.json as { tenant_discovery_endpoint: string; metadata: { aliases: string[] }[] };
    expect(body.tenant_discovery_endpoint).toBe(
      `${origin()}/${tid()}/v2.0/.well-known/openid-configuration`,
    );
    expect(body.metadata[0]?.aliases).toEqual([`${LOGIN}:${lab.server.port}`]);
  });
});

describe('JWKS', () => {
  test('the served key verifies a token the lab issued, and not one signed elsewhere', async () => {
    const keys = (await raw(lab, 'GET', `/${tid()}/discovery/v2.0/keys`)).json as {
      keys: (JsonWebKey & { kid: string })[];
    };
    const jwk = keys.keys[0]!;
    expect(jwk.kid).toBe(lab.state.keys.kid);
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });

    const t = lab.state.tenant;
    const issued = await raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: t.probeApp.appId,
      client_secret: t.probeApp.secret,
      scope: 'https://graph.microsoft.com/.default',
    });
    const token = (issued.json as { access_token: string }).access_token;
    const verified = jwt.verify(token, publicKey, { algorithms: ['RS256'] }) as jwt.JwtPayload;
    expect(verified.tid).toBe(t.tenantId);

    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = mintAccessToken(
      { ...lab.state.keys, privateKey: stranger.privateKey },
      { aud: 'https://graph.microsoft.com', tid: t.tenantId, appid: 'x', lifetimeMinutes: 60 },
    );
    expect(() => jwt.verify(forged, publicKey, { algorithms: ['RS256'] })).toThrow(/signature/);
  });
});

describe('token endpoint errors', () => {
  test('a wrong secret is 401 invalid_client AADSTS7000215 with every field Entra sends', async () => {
    const t = lab.state.tenant;
    const r = await raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: t.eceApp.appId,
      client_secret: 'not-the-secret',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(r.status).toBe(401);
    expect(r.headers['cache-control']).toBe('no-store, no-cache');
    const body = r.json as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      [
        'correlation_id',
        'error',
        'error_codes',
        'error_description',
        'error_uri',
        'timestamp',
        'trace_id',
      ].sort(),
    );
    expect(body.error).toBe('invalid_client');
    expect(body.error_codes).toEqual([7000215]);
    expect(String(body.error_description)).toMatch(
      /^AADSTS7000215: Invalid client secret provided/,
    );
    expect(String(body.error_description)).toContain(`Trace ID: ${String(body.trace_id)}`);
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(body.error_uri).toBe('https://login.microsoftonline.com/error?code=7000215');
  });

  test('an unknown client is AADSTS700016 and a missing secret AADSTS7000218', async () => {
    const unknown = await raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: '00000000-0000-0000-0000-00000000abcd',
      client_secret: 'x',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect((unknown.json as { error_codes: number[] }).error_codes).toEqual([700016]);
    const missing = await raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: lab.state.tenant.eceApp.appId,
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(missing.status).toBe(401);
    expect((missing.json as { error_codes: number[] }).error_codes).toEqual([7000218]);
  });

  test('an unknown refresh token is invalid_grant AADSTS70008', async () => {
    const t = lab.state.tenant;
    const r = await raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
      grant_type: 'refresh_token',
      client_id: t.eceApp.appId,
      client_secret: t.eceApp.secrets[0]!.value,
      refresh_token: '0.Anever-issued',
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'invalid_grant', error_codes: [70008] });
  });

  test('scopes of two resources in one request are refused (AADSTS70011)', async () => {
    const t = lab.state.tenant;
    const rt = Object.keys(t.refreshTokens)[0]!;
    const r = await raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
      grant_type: 'refresh_token',
      client_id: t.eceApp.appId,
      client_secret: t.eceApp.secrets[0]!.value,
      refresh_token: rt,
      scope:
        'https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/Mail.Read',
    });
    expect(r.json).toMatchObject({ error: 'invalid_scope', error_codes: [70011] });
  });

  test('GET on the token endpoint is AADSTS900561', async () => {
    const r = await raw(lab, 'GET', `/${tid()}/oauth2/v2.0/token`);
    expect((r.json as { error_codes: number[] }).error_codes).toEqual([900561]);
  });
});

describe('authorize', () => {
  const authorizeUrl = (redirectUri: string, extra: Record<string, string> = {}) =>
    `/${tid()}/oauth2/v2.0/authorize?${new URLSearchParams({
      client_id: lab.state.tenant.eceApp.appId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
      state: 'xyz',
      ...extra,
    }).toString()}`;

  test('a redirect URI that is not byte-exact shows AADSTS50011 on the sign-in page', async () => {
    // A trailing slash is enough to differ (o365-facts.md §2.3).
    const r = await raw(
      lab,
      'GET',
      authorizeUrl(`${ECE_REDIRECT}/`, { login_hint: 'support@example.com' }),
    );
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.text).toContain(
      `AADSTS50011: The redirect URI &#39;${ECE_REDIRECT}/&#39; specified in the request does not match the redirect URIs configured for the application &#39;${lab.state.tenant.eceApp.appId}&#39;`,
    );
    expect(r.headers.location).toBeUndefined();
  });

  test('a matching redirect URI gets a code that redeems once as the login_hint user', async () => {
    const t = lab.state.tenant;
    const r = await raw(
      lab,
      'GET',
      authorizeUrl(ECE_REDIRECT, { login_hint: 'support@example.com' }),
    );
    expect(r.status).toBe(302);
    const location = new URL(String(r.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(ECE_REDIRECT);
    expect(location.searchParams.get('state')).toBe('xyz');
    const code = location.searchParams.get('code')!;
    expect(code).toBeTruthy();

    const redeem = () =>
      raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
        grant_type: 'authorization_code',
        client_id: t.eceApp.appId,
        client_secret: t.eceApp.secrets[0]!.value,
        code,
        redirect_uri: ECE_REDIRECT,
        scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
      });
    const first = await redeem();
    expect(first.status).toBe(200);
    const body = first.json as { access_token: string; refresh_token: string };
    const claims = decodeClaims(body.access_token);
    expect(claims?.upn).toBe('support@example.com');
    expect(claims?.aud).toBe('https://outlook.office.com');
    expect(t.refreshTokens[body.refresh_token]?.upn).toBe('support@example.com');

    const second = await redeem();
    expect(second.json).toMatchObject({ error: 'invalid_grant', error_codes: [54005] });
  });

  test('without login_hint the page asks who signs in', async () => {
    const r = await raw(lab, 'GET', authorizeUrl(ECE_REDIRECT));
    expect(r.status).toBe(200);
    expect(r.text).toContain('name="login_hint"');
    expect(r.text).toContain(`value="${ECE_REDIRECT}"`);
  });
});

describe('devicelogin', () => {
  async function newDeviceCode(): Promise<{ user_code: string; device_code: string }> {
    const r = await raw(lab, 'POST', `/${tid()}/oauth2/v2.0/devicecode`, {
      client_id: lab.state.tenant.signinApp.appId,
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
    });
    expect(r.status).toBe(200);
    const body = r.json as Record<string, unknown>;
    expect(body.user_code).toMatch(/^[A-Z0-9]{8}$/);
    expect(body.verification_uri).toBe(`${origin()}/devicelogin`);
    expect(body).toMatchObject({ expires_in: 900, interval: 1 });
    return body as { user_code: string; device_code: string };
  }

  const poll = (deviceCode: string) =>
    raw(lab, 'POST', `/${tid()}/oauth2/v2.0/token`, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: lab.state.tenant.signinApp.appId,
      device_code: deviceCode,
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
    });

  test('pending until the form approves, then a token for the approving user', async () => {
    const dc = await newDeviceCode();
    expect((await poll(dc.device_code)).json).toMatchObject({
      error: 'authorization_pending',
      error_codes: [70016],
    });
    const page = await raw(lab, 'POST', '/devicelogin', {
      user_code: dc.user_code.toLowerCase(),
      upn: 'svc-ece@example.com',
      action: 'approve',
    });
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-result="approved"');
    const done = await poll(dc.device_code);
    expect(done.status).toBe(200);
    expect(decodeClaims((done.json as { access_token: string }).access_token)?.upn).toBe(
      'svc-ece@example.com',
    );
  });

  test('an unknown user or code is refused; a declined code answers authorization_declined', async () => {
    const dc = await newDeviceCode();
    expect(approveDeviceCode(lab.server, 'ZZZZZZZZ', 'support@example.com')).toBe('unknown-code');
    expect(approveDeviceCode(lab.server, dc.user_code, 'nobody@example.com')).toBe('unknown-user');
    expect(declineDeviceCode(lab.server, dc.user_code)).toBe('declined');
    expect(approveDeviceCode(lab.server, dc.user_code, 'support@example.com')).toBe('already-used');
    expect((await poll(dc.device_code)).json).toMatchObject({ error: 'authorization_declined' });
  });
});
