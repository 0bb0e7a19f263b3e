/**
 * The lab's Entra ID (login.microsoftonline.com): OpenID discovery, JWKS, the v2.0 token,
 * device-code and authorize endpoints, and a `/devicelogin` page that stands in for a person
 * signing in. It reads the tenant model on every request, so a test or scenario that changes
 * `state.tenant` changes the answers at once.
 *
 * Wire shapes follow o365-facts.md §2.1–2.2 and what msal-node 7 needs (msal-lab-notes.md §1,
 * §3, §4): every URL is built from the request's Host header (msal 7 checks that the issuer's
 * origin equals the authority's), errors carry `AADSTS<n>: ` texts from ./entra-errors, and the
 * token endpoint answers `Cache-Control: no-store, no-cache`.
 */
import {
  constants,
  randomBytes,
  randomInt,
  randomUUID,
  verify,
  X509Certificate,
  createHash,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Issued } from './ca';
import { aadstsLine, entraErrorBody, type AadstsParams } from './entra-errors';
import { readBody, sendHtml, sendJson, splitUrl, startHttpsServer } from './http-util';
import type { LabState, RunningServer } from './server-types';
import { newRefreshToken, type LabTenant, type LabUser } from './tenant';
import { mintAccessToken, mintIdToken } from './tokens';

/** Options for `startEntraServer`. */
export interface EntraServerOptions {
  state: LabState;
  /** Certificate for login.microsoftonline.com, issued by the lab CA. */
  tls: Issued;
  /** Fixed port; a free one by default. */
  port?: number;
}

/** Outcome of the lab's stand-in for a person entering a device code. */
export type DeviceLoginResult =
  'approved' | 'declined' | 'unknown-code' | 'expired' | 'already-used' | 'unknown-user';

/** A device code handed out by `/devicecode` (RFC 8628 §3.2). */
interface DeviceGrant {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scope: string;
  expiresAt: number;
  status: 'pending' | 'approved' | 'declined' | 'redeemed';
  upn?: string;
}

/** An authorization code handed out by `/authorize` (RFC 6749 §4.1.2). */
interface AuthCodeGrant {
  clientId: string;
  redirectUri: string;
  scope: string;
  upn: string;
  issuedAt: number;
  redeemed: boolean;
}

/** Per-server memory that is not part of the tenant model. */
interface EntraMemory {
  state: LabState;
  deviceGrants: Map<string, DeviceGrant>;
  authCodes: Map<string, AuthCodeGrant>;
}

const servers = new WeakMap<RunningServer, EntraMemory>();

/** Device codes live 15 minutes, as Entra's (`expires_in: 900`). */
const DEVICE_CODE_SECONDS = 900;
/** Poll every second: Entra says 5, which only makes tests slow (msal-lab-notes.md §3). */
const DEVICE_POLL_INTERVAL = 1;
/** Authorization codes are short-lived (RFC 6749 §4.1.2 recommends at most 10 minutes). */
const AUTH_CODE_MS = 10 * 60 * 1000;
/** App-only tokens last an hour (o365-facts.md §2.5: 60–90 minutes; the floor here). */
const APP_TOKEN_MINUTES = 60;
/**
 * A refresh token lives 90 days from its own issue: "The default lifetime for the refresh tokens
 * is … 90 days for all other scenarios. Refresh tokens replace themselves with a fresh token upon
 * every use. The Microsoft identity platform doesn't revoke old refresh tokens when used"
 * (learn.microsoft.com/entra/identity-platform/refresh-tokens; o365-facts.md §2.5), and a token
 * redeemed again and again still expires 90 days after it was issued (Microsoft Q&A 1665481).
 * Past that Entra answers AADSTS700082 "… was inactive for 90.00:00:00" (o365-facts.md §2.3).
 */
const REFRESH_TOKEN_MS = 90 * 86_400_000;
/** Clock skew Entra tolerates on a client assertion's nbf/exp (lab's choice: five minutes). */
const ASSERTION_SKEW_S = 300;
/** Scopes that name no resource: OpenID Connect's own (OIDC Core §5.4, §11). */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
/** Resource app ids written as GUIDs, mapped to the URL form tokens carry as `aud`. */
const RESOURCE_URLS: Record<string, string> = {
  '00000003-0000-0000-c000-000000000000': 'https://graph.microsoft.com',
  '00000002-0000-0ff1-ce00-000000000000': 'https://outlook.office365.com',
};
/** Resources the lab tenant has service principals for (o365-facts.md §1.6, §3). */
const KNOWN_RESOURCES = new Set([
  'https://graph.microsoft.com',
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://ps.outlook.com',
]);
/** User codes avoid look-alike characters (RFC 8628 §6.1). */
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * Start the lab Entra server on 127.0.0.1. The returned server also works with
 * `approveDeviceCode` / `declineDeviceCode`.
 */
export async function startEntraServer(opts: EntraServerOptions): Promise<RunningServer> {
  const memory: EntraMemory = {
    state: opts.state,
    deviceGrants: new Map(),
    authCodes: new Map(),
  };
  const server = await startHttpsServer(opts.tls, (req, res) => route(memory, req, res), opts.port);
  servers.set(server, memory);
  return server;
}

/** The lab's stand-in for a person who opens /devicelogin, enters `userCode` and signs in as `upn`. */
export function approveDeviceCode(
  server: RunningServer,
  userCode: string,
  upn: string,
): DeviceLoginResult {
  return decideDeviceCode(memoryOf(server), userCode, { approve: true, upn });
}

/** A person enters `userCode` and then declines the sign-in (RFC 8628 §3.5 `authorization_declined`). */
export function declineDeviceCode(server: RunningServer, userCode: string): DeviceLoginResult {
  return decideDeviceCode(memoryOf(server), userCode, { approve: false });
}

function memoryOf(server: RunningServer): EntraMemory {
  const m = servers.get(server);
  if (!m) throw new Error('not a lab Entra server (use the object startEntraServer returned)');
  return m;
}

// ---------------------------------------------------------------------------------------------
// Routing

/** What one request is about: origin for URLs, the tenant segment, and the client's correlation id. */
interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  memory: EntraMemory;
  tenant: LabTenant;
  /** `https://login.microsoftonline.com:PORT`, from the Host header. */
  origin: string;
  /** Tenant path segment as sent (msal lowercases it). */
  segment: string;
  query: URLSearchParams;
  correlationId: string;
}

async function route(memory: EntraMemory, req: IncomingMessage, res: ServerResponse) {
  const { path, query } = splitUrl(req);
  const parts = path.split('/').filter(Boolean);
  const clientRequestId = req.headers['client-request-id'];
  const call: Call = {
    req,
    res,
    memory,
    tenant: memory.state.tenant,
    origin: originOf(req),
    segment: (parts[0] ?? '').toLowerCase(),
    query,
    correlationId: typeof clientRequestId === 'string' ? clientRequestId : randomUUID(),
  };
  const rest = parts.slice(1).join('/');
  const method = req.method ?? 'GET';

  if (parts[0] === 'devicelogin' && parts.length === 1) {
    return method === 'POST' ? deviceLoginSubmit(call) : deviceLoginPage(call);
  }
  if (call.segment === 'common' && rest === 'discovery/instance') return instanceDiscovery(call);
  if (rest === 'v2.0/.well-known/openid-configuration') return openIdConfiguration(call);
  if (rest === 'discovery/v2.0/keys') return jwks(call);
  if (rest === 'oauth2/v2.0/authorize') return authorize(call);
  if (rest === 'oauth2/v2.0/token' || rest === 'oauth2/v2.0/devicecode') {
    if (method !== 'POST') return fail(call, 900561, { method });
    return rest === 'oauth2/v2.0/token' ? token(call) : deviceCode(call);
  }
  sendHtml(req, res, 404, page('Not found', '<p>The page you requested does not exist.</p>'));
}

/** The origin clients used, from Host (RFC 9110 §7.2); a malformed Host falls back to the real name. */
function originOf(req: IncomingMessage): string {
  const host = req.headers.host;
  if (host && /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) return `https://${host}`;
  return `https://login.microsoftonline.com:${req.socket.localPort ?? 443}`;
}

/** How the path names the tenant: the lab tenant (id or verified domain), or a multi-tenant alias. */
function tenantKind(tenant: LabTenant, segment: string): 'tenant' | 'multi' | undefined {
  if (segment === tenant.tenantId.toLowerCase() || segment === tenant.domain.toLowerCase())
    return 'tenant';
  if (segment === 'common' || segment === 'organizations') return 'multi';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Discovery

/** The headers Entra sends with discovery documents (o365-facts.md §2.1). */
function discoveryHeaders(): Record<string, string> {
  return {
    'cache-control': 'max-age=86400, private',
    'access-control-allow-origin': '*',
    'x-ms-request-id': randomUUID(),
    'x-ms-ests-server': '2.1.lab',
  };
}

/**
 * GET /common/discovery/instance: MSAL's cloud alias lookup (o365-facts.md §2.1). The lab's own
 * host:port is listed as its own cloud, so a client that asks here stays inside the lab.
 */
function instanceDiscovery(call: Call) {
  const hostPort = call.origin.replace(/^https:\/\//, '');
  const asked = call.query.get('authorization_endpoint');
  let tenantSegment = 'common';
  if (asked) {
    try {
      tenantSegment = new URL(asked).pathname.split('/').filter(Boolean)[0] ?? 'common';
    } catch {
      // A malformed authorization_endpoint still gets the common document.
    }
  }
  const microsoft = {
    preferred_network: 'login.microsoftonline.com',
    preferred_cache: 'login.windows.net',
    aliases: [
      'login.microsoftonline.com',
      'login.windows.net',
      'login.microsoft.com',
      'sts.windows.net',
    ],
  };
  const metadata =
    hostPort === 'login.microsoftonline.com'
      ? [microsoft]
      : [
          { preferred_network: hostPort, preferred_cache: hostPort, aliases: [hostPort] },
          microsoft,
        ];
  sendJson(
    call.res,
    200,
    {
      tenant_discovery_endpoint: `${call.origin}/${tenantSegment}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata,
    },
    discoveryHeaders(),
  );
}

/** GET /{tenant}/v2.0/.well-known/openid-configuration (OpenID Connect Discovery 1.0 §4). */
function openIdConfiguration(call: Call) {
  const kind = tenantKind(call.tenant, call.segment);
  if (!kind) return fail(call, 90002, { tenant: call.segment });
  // Entra names the tenant by id in a tenant's document, and leaves a placeholder for /common.
  const tid = kind === 'tenant' ? call.tenant.tenantId : '{tenantid}';
  const base = `${call.origin}/${kind === 'tenant' ? tid : call.segment}`;
  sendJson(
    call.res,
    200,
    {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${call.origin}/${tid}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: kind === 'tenant' ? 'WW' : null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    },
    discoveryHeaders(),
  );
}

/** GET /{tenant}/discovery/v2.0/keys: the public key tokens are signed with (RFC 7517 §5). */
function jwks(call: Call) {
  const kind = tenantKind(call.tenant, call.segment);
  if (!kind) return fail(call, 90002, { tenant: call.segment });
  const issuer = `${call.origin}/${kind === 'tenant' ? call.tenant.tenantId : '{tenantid}'}/v2.0`;
  sendJson(
    call.res,
    200,
    { keys: [{ ...call.memory.state.keys.jwk, issuer }] },
    discoveryHeaders(),
  );
}

// ---------------------------------------------------------------------------------------------
// Clients, secrets and scopes

/** An application the lab tenant knows, as a token endpoint sees it. */
interface LabClient {
  kind: 'ece' | 'probe' | 'signin';
  appId: string;
  displayName: string;
  redirectUris: string[];
  lifetimeMinutes: number;
  /** May use public-client flows without credentials ("Allow public client flows"). */
  publicFlows: boolean;
  /** A public client only: it has no credential and must present none (AADSTS700025). */
  publicOnly: boolean;
}

function clientOf(tenant: LabTenant, clientId: string | null | undefined): LabClient | undefined {
  const id = (clientId ?? '').toLowerCase();
  if (!id) return undefined;
  // Entra compares application ids (GUIDs) without regard to case.
  if (id === tenant.eceApp.appId.toLowerCase()) {
    return {
      kind: 'ece',
      appId: tenant.eceApp.appId,
      displayName: tenant.eceApp.displayName,
      redirectUris: tenant.eceApp.redirectUris,
      lifetimeMinutes: tenant.eceApp.accessTokenLifetimeMinutes,
      publicFlows: tenant.eceApp.isFallbackPublicClient === true,
      publicOnly: false,
    };
  }
  if (id === tenant.probeApp.appId.toLowerCase()) {
    return {
      kind: 'probe',
      appId: tenant.probeApp.appId,
      displayName: 'ecebot',
      redirectUris: [],
      lifetimeMinutes: APP_TOKEN_MINUTES,
      publicFlows: false,
      publicOnly: false,
    };
  }
  if (id === tenant.signinApp.appId.toLowerCase()) {
    return {
      kind: 'signin',
      appId: tenant.signinApp.appId,
      displayName: tenant.signinApp.displayName,
      redirectUris: [],
      // Delegated tokens of the lab's apps share the ECE app's lifetime policy (lab's choice).
      lifetimeMinutes: tenant.eceApp.accessTokenLifetimeMinutes,
      publicFlows: true,
      publicOnly: true,
    };
  }
  return undefined;
}

/**
 * Client authentication as the client type demands (o365-facts.md §2.3, §5 #18):
 * - a public client (ecebot's sign-in app) presents nothing; a secret or an assertion from it is
 *   AADSTS700025 ("Client is public so neither 'client_assertion' nor 'client_secret' should be
 *   presented");
 * - a confidential client presents its secret or a certificate assertion; without either it is
 *   AADSTS7000218 ("must contain … 'client_assertion' or 'client_secret'"), also for a device
 *   code when "Allow public client flows" is off (MailKit #989), unless `publicAllowed` (the
 *   grant is a public-client flow's and the app allows those flows);
 * - a secret is checked by `secretProblem`, an assertion by `assertionProblem`.
 * Undefined means the client is authenticated.
 */
function clientProblem(
  call: GrantCall,
  publicAllowed: boolean,
): { code: number; params: AadstsParams } | undefined {
  const { tenant, client } = call;
  const presented = !!call.secret || !!call.assertion;
  if (client.publicOnly) {
    if (presented) return { code: 700025, params: {} };
    return publicAllowed ? undefined : { code: 7000218, params: {} };
  }
  if (!presented)
    return publicAllowed && client.publicFlows ? undefined : { code: 7000218, params: {} };
  if (call.assertion) return assertionProblem(call, call.assertion);
  const code = secretProblem(tenant, client, call.secret, labNow(call.memory));
  return code ? { code, params: { appId: client.appId } } : undefined;
}

/**
 * A client assertion (RFC 7523 §3), checked as Entra documents certificate credentials
 * (learn.microsoft.com/entra/identity-platform/certificate-credentials): the header names the
 * certificate by `x5t#S256` (or the older `x5t`), which must be one the app has and in date,
 * and whose key verifies the RS256/PS256 signature → else AADSTS700027; `aud` is this tenant's
 * token endpoint → else AADSTS50012; `nbf`/`exp` hold now, within a small skew → else
 * AADSTS700024. The assertion is judged on real time: the client signs with its real clock.
 */
function assertionProblem(
  call: GrantCall,
  assertion: string,
): { code: number; params: AadstsParams } | undefined {
  const { client, tenant } = call;
  const bad = (thumbprint = '') => ({
    code: 700027,
    params: { appId: client.appId, param: thumbprint },
  });
  const parts = assertion.split('.');
  if (parts.length !== 3) return bad();
  const [h, c, sig] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad();
  }
  const s256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const s1 = typeof header.x5t === 'string' ? header.x5t : undefined;
  const shown = Buffer.from(s256 ?? s1 ?? '', 'base64url')
    .toString('hex')
    .toUpperCase();
  const certs = client.kind === 'ece' ? (tenant.eceApp.certificates ?? []) : [];
  const now = labNow(call.memory);
  const cert = certs
    .filter(k => Date.parse(k.startDateTime) <= now && now < Date.parse(k.endDateTime))
    .map(k => new X509Certificate(k.certPem))
    .find(x =>
      s256
        ? createHash('sha256').update(x.raw).digest('base64url') === s256
        : createHash('sha1').update(x.raw).digest('base64url') === s1,
    );
  if (!cert) return bad(shown);
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') return bad(shown);
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${c}`),
    alg === 'PS256'
      ? {
          key: cert.publicKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        }
      : cert.publicKey,
    Buffer.from(sig, 'base64url'),
  );
  if (!ok) return bad(shown);
  const endpoints = [tenant.tenantId, tenant.domain].map(t =>
    `${call.origin}/${t}/oauth2/v2.0/token`.toLowerCase(),
  );
  if (typeof claims.aud !== 'string' || !endpoints.includes(claims.aud.toLowerCase()))
    return { code: 50012, params: {} };
  const secs = Math.floor(Date.now() / 1000);
  const nbf = typeof claims.nbf === 'number' ? claims.nbf : undefined;
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  if (exp === undefined || exp + ASSERTION_SKEW_S < secs || (nbf ?? 0) - ASSERTION_SKEW_S > secs)
    return { code: 700024, params: {} };
  return undefined;
}

/**
 * Check a confidential client's secret: no such value → 7000215, a value whose `endDateTime`
 * has passed → 7000222 (o365-facts.md §2.3). Undefined means it passed.
 */
function secretProblem(
  tenant: LabTenant,
  client: LabClient,
  secret: string | undefined,
  now: number,
): number | undefined {
  if (!secret) return 7000218;
  if (client.kind === 'probe') return secret === tenant.probeApp.secret ? undefined : 7000215;
  if (client.kind !== 'ece') return 700025;
  const match = tenant.eceApp.secrets.find(s => s.value === secret);
  if (!match) return 7000215;
  if (Date.parse(match.endDateTime) <= now) return 7000222;
  if (Date.parse(match.startDateTime) > now) return 7000215;
  return undefined;
}

/** A requested scope string split into resource and permission names. */
interface ScopeRequest {
  raw: string;
  /** Distinct resources named (normalised to their URL form). */
  resources: string[];
  /** Permission names on the resource, e.g. `IMAP.AccessAsUser.All` or `.default`. */
  names: string[];
  /** The resource as the client wrote it (first one), for the response's `scope`. */
  prefix?: string;
  oidc: Set<string>;
}

/** Split `scope` (RFC 6749 §3.3: space-delimited) into resources and names. */
function parseScopes(raw: string): ScopeRequest {
  const resources = new Set<string>();
  const names: string[] = [];
  const oidc = new Set<string>();
  let prefix: string | undefined;
  for (const s of raw.split(/\s+/).filter(Boolean)) {
    if (OIDC_SCOPES.has(s.toLowerCase())) {
      oidc.add(s.toLowerCase());
      continue;
    }
    const slash = s.lastIndexOf('/');
    // A bare permission name means Microsoft Graph on the v2.0 endpoint.
    const written = slash > 0 ? s.slice(0, slash) : 'https://graph.microsoft.com';
    const resource = normaliseResource(written);
    resources.add(resource);
    prefix ??= written;
    names.push(slash > 0 ? s.slice(slash + 1) : s);
  }
  return { raw, resources: [...resources], names, oidc, ...(prefix ? { prefix } : {}) };
}

function normaliseResource(written: string): string {
  const lower = written.toLowerCase().replace(/\/+$/, '');
  return RESOURCE_URLS[lower] ?? lower;
}

/** Delegated scopes the client may get; `.default` means everything consented. */
function grantedNames(tenant: LabTenant, client: LabClient, scopes: ScopeRequest): string[] {
  if (!scopes.names.includes('.default')) return scopes.names;
  const consented = consentOf(tenant, client);
  return consented ? consented.filter(s => !OIDC_SCOPES.has(s.toLowerCase())) : [];
}

/** Delegated scopes an app has admin consent for; undefined where consent is not modelled. */
function consentOf(tenant: LabTenant, client: LabClient): string[] | undefined {
  if (client.kind === 'ece') return tenant.eceApp.consentedScopes;
  if (client.kind === 'signin') return tenant.signinApp.consentedScopes;
  return undefined;
}

/**
 * Problems with delegated scopes: two resources in one request → 70011 (o365-facts.md §2.3:
 * one token is for one resource), an unknown resource → 500011, a permission the ECE app has no
 * admin consent for → 65001.
 */
function delegatedScopeProblem(
  tenant: LabTenant,
  client: LabClient,
  scopes: ScopeRequest,
): { code: number; params: AadstsParams } | undefined {
  if (scopes.resources.length > 1) return { code: 70011, params: { scope: scopes.raw } };
  const resource = scopes.resources[0];
  if (resource && !KNOWN_RESOURCES.has(resource)) {
    return { code: 500011, params: { resource, tenant: tenant.domain } };
  }
  // ecebot's read app is the lab's tool, not under test: its delegated consent is not modelled.
  const granted = consentOf(tenant, client);
  if (!granted) return undefined;
  const consented = new Set(granted.map(s => s.toLowerCase()));
  const missing = scopes.names.filter(n => n !== '.default' && !consented.has(n.toLowerCase()));
  if (missing.length) {
    return { code: 65001, params: { appId: client.appId, appName: client.displayName } };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

/** POST /{tenant}/oauth2/v2.0/token (RFC 6749 §3.2), dispatched on grant_type. */
async function token(call: Call) {
  const form = new URLSearchParams(await readBody(call.req));
  const kind = tenantKind(call.tenant, call.segment);
  if (!kind) return fail(call, 90002, { tenant: call.segment });
  const auth = clientAuthentication(call.req, form);
  if (!auth.clientId) return fail(call, 900144, { param: 'client_id' });
  const client = clientOf(call.tenant, auth.clientId);
  if (!client) {
    return fail(call, 700016, { appId: auth.clientId, tenant: call.tenant.domain });
  }
  const grantType = form.get('grant_type') ?? '';
  if (!grantType) return fail(call, 900144, { param: 'grant_type' });
  if (kind === 'multi') {
    // Both lab apps are single-tenant (AzureADMyOrg): /common is refused (o365-facts.md §2.1).
    return grantType === 'client_credentials'
      ? fail(call, 50059, {})
      : fail(call, 50194, { appId: client.appId, appName: client.displayName });
  }
  const ctx: GrantCall = {
    ...call,
    form,
    client,
    secret: auth.secret,
    assertion:
      form.get('client_assertion_type') === JWT_BEARER
        ? (form.get('client_assertion') ?? undefined)
        : undefined,
  };
  switch (grantType) {
    case 'client_credentials':
      return clientCredentialsGrant(ctx);
    case 'refresh_token':
      return refreshTokenGrant(ctx);
    case 'authorization_code':
      return authorizationCodeGrant(ctx);
    // msal sends the short form; RFC 8628 §3.4 defines the URN.
    case 'device_code':
    case 'urn:ietf:params:oauth:grant-type:device_code':
      return deviceCodeGrant(ctx);
    default:
      return fail(call, 70003, { grantType });
  }
}

/** A token request with its client identified. */
interface GrantCall extends Call {
  form: URLSearchParams;
  client: LabClient;
  secret: string | undefined;
  /** A client assertion (RFC 7523), when the client sent one. */
  assertion: string | undefined;
}

/** `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Now on the lab clock (real time unless a test moved it), in milliseconds. */
function labNow(memory: EntraMemory): number {
  return memory.state.clock?.nowMs() ?? Date.now();
}

/** Client id and secret from the body (client_secret_post) or HTTP Basic (RFC 6749 §2.3.1). */
function clientAuthentication(
  req: IncomingMessage,
  form: URLSearchParams,
): { clientId?: string; secret?: string } {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      return {
        clientId: decodeURIComponent(decoded.slice(0, colon)),
        secret: decodeURIComponent(decoded.slice(colon + 1)),
      };
    }
  }
  const clientId = form.get('client_id') ?? undefined;
  const secret = form.get('client_secret') ?? undefined;
  return { ...(clientId ? { clientId } : {}), ...(secret ? { secret } : {}) };
}

/** grant_type=client_credentials: an app-only token for the `.default` resource (RFC 6749 §4.4). */
function clientCredentialsGrant(call: GrantCall) {
  const { tenant, client } = call;
  const problem = clientProblem(call, false);
  if (problem) return fail(call, problem.code, problem.params);
  const scope = (call.form.get('scope') ?? '').trim();
  if (!scope) return fail(call, 900144, { param: 'scope' });
  // App-only requests name exactly one resource's `.default` (o365-facts.md §1.6).
  const m = /^(\S+)\/\.default$/.exec(scope);
  if (!m?.[1]) return fail(call, 1002012, { scope });
  const resource = normaliseResource(m[1]);
  if (!KNOWN_RESOURCES.has(resource))
    return fail(call, 500011, { resource, tenant: tenant.domain });
  const accessToken = mintAccessToken(call.memory.state.keys, {
    aud: resource,
    tid: tenant.tenantId,
    appid: client.appId,
    // The ECE app has delegated permissions only, so its app-only token carries no roles.
    ...(client.kind === 'probe' ? { roles: [...tenant.probeApp.roles] } : {}),
    idtyp: 'app',
    lifetimeMinutes: APP_TOKEN_MINUTES,
  });
  // No id_token, refresh_token or client_info in this grant (msal-lab-notes.md §3).
  sendToken(call, {
    token_type: 'Bearer',
    expires_in: APP_TOKEN_MINUTES * 60 - 1,
    ext_expires_in: APP_TOKEN_MINUTES * 60 - 1,
    access_token: accessToken,
  });
}

/**
 * grant_type=refresh_token (RFC 6749 §6). Client authentication comes first, as at Entra, so
 * an expired ECE secret breaks refresh: a public client's token is redeemed with no credential
 * (and a secret sent with it is AADSTS700025), a confidential client's only with its credential
 * (AADSTS7000218 without). Then the token's own fate (`failWith`), its client, its 90 days on
 * the lab clock (AADSTS700082), and the scopes against the app's consent. A redemption is a
 * non-interactive sign-in in the log, refused or not.
 */
function refreshTokenGrant(call: GrantCall) {
  const { tenant, client } = call;
  const rt = call.form.get('refresh_token');
  if (!rt) return fail(call, 900144, { param: 'refresh_token' });
  const known = tenant.refreshTokens[rt];
  const problem = clientProblem(call, known?.publicClient === true);
  const refused = (code: number) => {
    if (known) recordSignIn(call, known.upn, code, 'nonInteractiveUser', known.amr);
  };
  if (problem) {
    refused(problem.code);
    return fail(call, problem.code, problem.params);
  }
  if (!known) return fail(call, 70008, {});
  const issued = known.issuedAt ? Date.parse(known.issuedAt) : undefined;
  const params = (issuedAt: number) => ({
    issuedAt: entraDate(new Date(issuedAt)),
    appId: client.appId,
    appName: client.displayName,
    upn: known.upn,
    tenant: tenant.domain,
    resource: 'https://outlook.office.com',
  });
  if (known.failWith) {
    refused(known.failWith);
    return fail(call, known.failWith, params(labNow(call.memory) - 91 * 86_400_000));
  }
  if (known.clientId.toLowerCase() !== client.appId.toLowerCase()) {
    refused(70000);
    return fail(call, 70000, {});
  }
  if (issued !== undefined && labNow(call.memory) - issued > REFRESH_TOKEN_MS) {
    refused(700082);
    return fail(call, 700082, params(issued));
  }
  issueDelegated(call, {
    upn: known.upn,
    amr: known.amr,
    scope: call.form.get('scope') ?? '',
    publicFlow: known.publicClient === true,
    eventType: 'nonInteractiveUser',
  });
}

/** grant_type=authorization_code (RFC 6749 §4.1.3): each code is redeemed once. */
function authorizationCodeGrant(call: GrantCall) {
  const { client } = call;
  const code = call.form.get('code');
  if (!code) return fail(call, 900144, { param: 'code' });
  const problem = clientProblem(call, false);
  if (problem) return fail(call, problem.code, problem.params);
  const grant = call.memory.authCodes.get(code);
  if (!grant || grant.clientId !== client.appId) return fail(call, 70000, {});
  if (grant.redeemed) return fail(call, 54005, {});
  if (Date.now() - grant.issuedAt > AUTH_CODE_MS) return fail(call, 70008, {});
  const redirectUri = call.form.get('redirect_uri');
  // RFC 6749 §4.1.3: the redirect_uri must be identical to the one the code was issued for.
  if (redirectUri !== grant.redirectUri) {
    return fail(call, 50011, { redirectUri: redirectUri ?? '', appId: client.appId });
  }
  grant.redeemed = true;
  issueDelegated(call, {
    upn: grant.upn,
    amr: ['pwd'],
    scope: call.form.get('scope') ?? grant.scope,
    publicFlow: false,
    eventType: 'interactiveUser',
  });
}

/** grant_type=device_code (RFC 8628 §3.4–3.5): pending until a person approves at /devicelogin. */
function deviceCodeGrant(call: GrantCall) {
  const code = call.form.get('device_code');
  if (!code) return fail(call, 900144, { param: 'device_code' });
  const grant = call.memory.deviceGrants.get(code);
  if (!grant || grant.clientId !== call.client.appId) return fail(call, 70000, {});
  // The device flow is a public-client flow: ECE's Web app (no "Allow public client flows")
  // polling without a secret is refused at once, AADSTS7000218; a secret from a public client
  // is AADSTS700025. /devicecode itself hands the code out (o365-facts.md §5 #18).
  const problem = clientProblem(call, true);
  if (problem) {
    if (grant.upn) recordSignIn(call, grant.upn, problem.code, 'interactiveUser', ['pwd']);
    return fail(call, problem.code, problem.params);
  }
  if (grant.status === 'redeemed') return fail(call, 70000, {});
  if (Date.now() > grant.expiresAt) return fail(call, 70019, {});
  if (grant.status === 'declined') return fail(call, 70000, {}, 'authorization_declined');
  if (grant.status === 'pending' || !grant.upn) return fail(call, 70016, {});
  grant.status = 'redeemed';
  issueDelegated(call, {
    upn: grant.upn,
    amr: ['pwd'],
    scope: call.form.get('scope') ?? grant.scope,
    // Without client credentials the grant and its refresh tokens are a public client's.
    publicFlow: !call.secret && !call.assertion,
    eventType: 'interactiveUser',
  });
}

/**
 * Answer a delegated grant: a v1.0 access token for the one resource named (o365-facts.md §2.4),
 * a fresh refresh token (the old one stays valid, as Entra's do until they expire), an id_token
 * and client_info for msal's account (msal-lab-notes.md §3–4). Every outcome is a sign-in.
 */
function issueDelegated(
  call: GrantCall,
  g: {
    upn: string;
    amr: string[];
    scope: string;
    publicFlow: boolean;
    eventType: 'interactiveUser' | 'nonInteractiveUser';
  },
) {
  const { tenant, client } = call;
  const scopes = parseScopes(g.scope);
  const problem = delegatedScopeProblem(tenant, client, scopes);
  if (problem) {
    recordSignIn(call, g.upn, problem.code, g.eventType, g.amr);
    return fail(call, problem.code, problem.params);
  }
  const user = userOf(tenant, g.upn);
  const oid = user?.id ?? randomUUID();
  const resource = scopes.resources[0] ?? 'https://graph.microsoft.com';
  const names = grantedNames(tenant, client, scopes);
  const keys = call.memory.state.keys;
  const accessToken = mintAccessToken(keys, {
    aud: resource,
    tid: tenant.tenantId,
    appid: client.appId,
    scp: names.join(' '),
    upn: g.upn,
    oid,
    amr: g.amr,
    idtyp: 'user',
    lifetimeMinutes: client.lifetimeMinutes,
  });
  // A fresh refresh token on every grant, with its own 90 days; the one redeemed stays valid
  // until its own end (learn.microsoft.com/entra/identity-platform/refresh-tokens).
  const refreshToken = newRefreshToken();
  tenant.refreshTokens[refreshToken] = {
    upn: g.upn,
    clientId: client.appId,
    amr: [...g.amr],
    issuedAt: new Date(labNow(call.memory)).toISOString(),
    ...(g.publicFlow ? { publicClient: true } : {}),
  };
  const prefix = scopes.prefix ?? resource;
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: names.map(n => `${prefix}/${n}`).join(' '),
    expires_in: client.lifetimeMinutes * 60 - 1,
    ext_expires_in: client.lifetimeMinutes * 60 - 1,
    access_token: accessToken,
    refresh_token: refreshToken,
    id_token: mintIdToken(keys, {
      issuerOrigin: call.origin,
      tid: tenant.tenantId,
      clientId: client.appId,
      oid,
      upn: g.upn,
    }),
  };
  if (call.form.get('client_info') === '1') {
    body.client_info = Buffer.from(JSON.stringify({ uid: oid, utid: tenant.tenantId })).toString(
      'base64url',
    );
  }
  recordSignIn(call, g.upn, 0, g.eventType, g.amr);
  sendToken(call, body);
}

function userOf(tenant: LabTenant, upn: string): LabUser | undefined {
  const lower = upn.toLowerCase();
  return tenant.users.find(u => u.userPrincipalName.toLowerCase() === lower);
}

/**
 * Append to the sign-in log Graph serves (o365-facts.md §3.4); 0 means success. A person at a
 * prompt (device code, authorization code) is an interactive user sign-in; a refresh-token
 * redemption a non-interactive one. The client's address is the socket's peer, as Entra records
 * the caller's IP. `authenticationMethod` is how the log's authenticationDetails names it: a
 * redemption rides on an earlier authentication ("Previously satisfied"); an interactive sign-in
 * names the method its `amr` shows (lab's choice of the two common values, plus Windows
 * Integrated Authentication for `wia`, o365-facts.md §2.6).
 */
function recordSignIn(
  call: GrantCall,
  upn: string,
  errorCode: number,
  eventType: 'interactiveUser' | 'nonInteractiveUser',
  amr: string[],
) {
  call.tenant.signIns.push({
    createdDateTime: new Date(labNow(call.memory)).toISOString(),
    userPrincipalName: upn,
    appId: call.client.appId,
    errorCode,
    eventType,
    ipAddress: (call.req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    ...(typeof call.req.headers['user-agent'] === 'string'
      ? { userAgent: call.req.headers['user-agent'] }
      : {}),
    authenticationMethod:
      eventType === 'nonInteractiveUser'
        ? 'Previously satisfied'
        : amr.includes('wia')
          ? 'Windows Integrated Authentication'
          : 'Password',
  });
}

/** The token endpoint's success answer, never cached (o365-facts.md §2.1). */
function sendToken(call: Call, body: Record<string, unknown>) {
  for (const k of ['access_token', 'refresh_token', 'id_token']) {
    const v = body[k];
    if (typeof v === 'string') call.memory.state.issued?.push(v);
  }
  sendJson(call.res, 200, body, tokenHeaders(call));
}

function tokenHeaders(call: Call): Record<string, string> {
  return {
    'cache-control': 'no-store, no-cache',
    pragma: 'no-cache',
    'x-ms-request-id': randomUUID(),
    'client-request-id': call.correlationId,
    'x-ms-ests-server': '2.1.lab',
  };
}

/** Answer an Entra error (o365-facts.md §2.2); `error` overrides the entry's OAuth error string. */
function fail(call: Call, code: number, params: AadstsParams, error?: string) {
  const { status, body } = entraErrorBody(code, params, call.correlationId);
  if (error) body.error = error;
  sendJson(call.res, status, body, tokenHeaders(call));
}

/** Dates inside Entra texts: `2025-01-01T10:00:00.0000000Z` (seven fractional digits). */
function entraDate(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, '.0000000Z');
}

// ---------------------------------------------------------------------------------------------
// Device code

/** POST /{tenant}/oauth2/v2.0/devicecode (RFC 8628 §3.1–3.2). */
async function deviceCode(call: Call) {
  const form = new URLSearchParams(await readBody(call.req));
  const kind = tenantKind(call.tenant, call.segment);
  if (!kind) return fail(call, 90002, { tenant: call.segment });
  const clientId = form.get('client_id');
  if (!clientId) return fail(call, 900144, { param: 'client_id' });
  const client = clientOf(call.tenant, clientId);
  if (!client) return fail(call, 700016, { appId: clientId, tenant: call.tenant.domain });
  if (kind === 'multi')
    return fail(call, 50194, { appId: client.appId, appName: client.displayName });
  const scope = form.get('scope');
  if (!scope) return fail(call, 900144, { param: 'scope' });
  const grant: DeviceGrant = {
    deviceCode: `DAQABAAEAAAD${randomBytes(96).toString('base64url')}`,
    userCode: newUserCode(call.memory),
    clientId: client.appId,
    scope,
    expiresAt: Date.now() + DEVICE_CODE_SECONDS * 1000,
    status: 'pending',
  };
  call.memory.deviceGrants.set(grant.deviceCode, grant);
  call.memory.state.issued?.push(grant.deviceCode);
  const verificationUri = `${call.origin}/devicelogin`;
  sendJson(
    call.res,
    200,
    {
      user_code: grant.userCode,
      device_code: grant.deviceCode,
      verification_uri: verificationUri,
      expires_in: DEVICE_CODE_SECONDS,
      interval: DEVICE_POLL_INTERVAL,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${grant.userCode} to authenticate.`,
    },
    tokenHeaders(call),
  );
}

function newUserCode(memory: EntraMemory): string {
  for (;;) {
    let code = '';
    for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
    if (![...memory.deviceGrants.values()].some(g => g.userCode === code)) return code;
  }
}

/** Approve or decline the pending grant a person typed the user code of. */
function decideDeviceCode(
  memory: EntraMemory,
  userCode: string,
  decision: { approve: true; upn: string } | { approve: false },
): DeviceLoginResult {
  // People type codes with spaces, dashes or in lower case (RFC 8628 §6.1).
  const typed = userCode.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const grant = [...memory.deviceGrants.values()].find(g => g.userCode === typed);
  if (!grant) return 'unknown-code';
  if (Date.now() > grant.expiresAt) return 'expired';
  if (grant.status !== 'pending') return 'already-used';
  if (!decision.approve) {
    grant.status = 'declined';
    return 'declined';
  }
  const user = userOf(memory.state.tenant, decision.upn);
  if (!user) return 'unknown-user';
  grant.status = 'approved';
  grant.upn = user.userPrincipalName;
  return 'approved';
}

/** GET /devicelogin: the page a person opens to enter the code. */
function deviceLoginPage(call: Call) {
  sendHtml(
    call.req,
    call.res,
    200,
    page('Enter code', deviceLoginForm(call.query.get('otc') ?? '')),
  );
}

function deviceLoginForm(userCode: string): string {
  return `<p>Enter the code displayed on your app or device, and the account to sign in as.</p>
<form method="post" action="/devicelogin">
  <label>Code <input name="user_code" value="${escapeHtml(userCode)}" autocomplete="off"></label>
  <label>Account <input name="upn" type="email" placeholder="someone@example.com"></label>
  <button name="action" value="approve">Sign in</button>
  <button name="action" value="decline">Cancel</button>
</form>`;
}

/** POST /devicelogin with `user_code`, `upn` and `action` (approve or decline). */
async function deviceLoginSubmit(call: Call) {
  const form = new URLSearchParams(await readBody(call.req));
  const userCode = form.get('user_code') ?? '';
  const decline = form.get('action') === 'decline';
  const upn = form.get('upn') ?? '';
  const result = decideDeviceCode(
    call.memory,
    userCode,
    decline ? { approve: false } : { approve: true, upn },
  );
  const appName = (() => {
    const typed = userCode.toUpperCase().replace(/[^A-Z0-9]/g, '');
    const grant = [...call.memory.deviceGrants.values()].find(g => g.userCode === typed);
    return grant ? clientOf(call.tenant, grant.clientId)?.displayName : undefined;
  })();
  const messages: Record<DeviceLoginResult, [number, string]> = {
    approved: [
      200,
      `You have signed in to the ${escapeHtml(appName ?? '')} application on your device. You may now close this window.`,
    ],
    declined: [200, 'You have declined to sign in to the application on your device.'],
    'unknown-code': [400, "That code didn't work. Check the code and try again."],
    expired: [400, 'That code has expired. Request a new code on your device and try again.'],
    'already-used': [400, 'That code was already used. Request a new code on your device.'],
    'unknown-user': [400, escapeHtml(aadstsLine(50034, { upn, tenant: call.tenant.domain }))],
  };
  const [status, text] = messages[result];
  const body = `<p id="result" data-result="${result}">${text}</p>${status === 200 ? '' : deviceLoginForm(userCode)}`;
  sendHtml(call.req, call.res, status, page('Sign in', body));
}

// ---------------------------------------------------------------------------------------------
// Authorize (the browser leg of the authorization code flow)

/**
 * GET /{tenant}/oauth2/v2.0/authorize (RFC 6749 §4.1.1). An unknown tenant or client, or a
 * redirect URI that is not byte-for-byte one of the app's, is shown on the sign-in page and never
 * reaches the app (o365-facts.md §2.2, §2.3 AADSTS50011). `login_hint` names who signs in; without
 * it the page asks.
 */
function authorize(call: Call) {
  const q = call.query;
  const kind = tenantKind(call.tenant, call.segment);
  if (!kind) return signInError(call, 90002, { tenant: call.segment });
  const clientId = q.get('client_id') ?? '';
  const client = clientOf(call.tenant, clientId);
  if (!client) return signInError(call, 700016, { appId: clientId, tenant: call.tenant.domain });
  if (kind === 'multi') {
    return signInError(call, 50194, { appId: client.appId, appName: client.displayName });
  }
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!client.redirectUris.includes(redirectUri)) {
    return signInError(call, 50011, { redirectUri, appId: client.appId });
  }
  const hint = q.get('login_hint');
  if (!hint) return signInForm(call);
  const user = userOf(call.tenant, hint);
  if (!user) return signInError(call, 50034, { upn: hint, tenant: call.tenant.domain });
  const code = `0.A${randomBytes(48).toString('base64url')}`;
  call.memory.authCodes.set(code, {
    clientId: client.appId,
    redirectUri,
    scope: q.get('scope') ?? '',
    upn: user.userPrincipalName,
    issuedAt: Date.now(),
    redeemed: false,
  });
  const params: Record<string, string> = { code, session_state: randomUUID() };
  const state = q.get('state');
  if (state !== null) params.state = state;
  if (q.get('response_mode') === 'form_post') return formPost(call, redirectUri, params);
  const target = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  call.res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store, no-cache' });
  call.res.end();
}

/** The sign-in page's error view: the AADSTS line plus the ids support asks for. */
function signInError(call: Call, code: number, params: AadstsParams) {
  const body = `<h2>Sorry, but we're having trouble signing you in.</h2>
<p id="aadsts">${escapeHtml(aadstsLine(code, params))}</p>
<table>
<tr><td>Request Id:</td><td>${randomUUID()}</td></tr>
<tr><td>Correlation Id:</td><td>${escapeHtml(call.correlationId)}</td></tr>
<tr><td>Timestamp:</td><td>${new Date().toISOString()}</td></tr>
</table>`;
  sendHtml(call.req, call.res, 400, page('Sign in to your account', body));
}

/** Ask who signs in, then come back to /authorize with `login_hint`. */
function signInForm(call: Call) {
  const hidden = [...call.query.entries()]
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const body = `<form method="get">
${hidden}
<label>Email, phone, or Skype <input name="login_hint" type="email"></label>
<button>Next</button>
</form>`;
  sendHtml(call.req, call.res, 200, page('Sign in to your account', body));
}

/** response_mode=form_post: a page that posts the result to the app (OAuth 2.0 Form Post Response Mode). */
function formPost(call: Call, redirectUri: string, params: Record<string, string>) {
  const inputs = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const body = `<form method="post" action="${escapeHtml(redirectUri)}">
${inputs}
<noscript><button>Continue</button></noscript>
</form>
<script>document.forms[0].submit()</script>`;
  sendHtml(call.req, call.res, 200, page('Working...', body));
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
