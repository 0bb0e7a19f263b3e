/**
 * The lab's Microsoft Graph (https://graph.microsoft.com/v1.0): the reads ecebot makes for the
 * app-registration, license and token items (o365-facts.md §3.1–§3.4), answered from the lab
 * tenant as it is at the moment of the request, so scenario mutations show up at once.
 *
 * Only what ecebot reads is modelled: the `eq` filters of §3, `$select`, `$top` on sign-ins, the
 * beta sign-in log with its `signInEventTypes` filter and `$skiptoken` paging,
 * `GET /users?$filter=userPrincipalName eq '…' or proxyAddresses/any(x:x eq 'smtp:…')` (the
 * directory look-up of a mailbox or account), `POST /users/{id}/checkMemberGroups` (the bot's
 * admin check by group), app-role checks per
 * route (§3.6), and Graph's error envelope
 * `{"error":{"code","message","innerError":{date,request-id,client-request-id}}}`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { aadstsCode, CODES } from '../knowledge/codes';
import {
  bearerToken,
  BodyTooLargeError,
  readBody,
  sendJson,
  splitUrl,
  startHttpsServer,
  type ServerTls,
} from './http-util';
import type { LabState, RunningServer } from './server-types';
import {
  mailOf,
  namesOf,
  RESOURCE,
  SCOPE_ID,
  type LabApp,
  type LabGroup,
  type LabSignIn,
  type LabTenant,
  type LabUser,
} from './tenant';
import { verifyAccessToken } from './tokens';

/** The audience Graph accepts in the lab (a token for Exchange Online is refused). */
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

/** Base of `@odata.context` values: Graph names its own public URL whatever port we listen on. */
const CONTEXT_BASE = 'https://graph.microsoft.com/v1.0/$metadata#';

/** App role Exchange Online exposes for the admin API (o365-facts.md §3.5). */
const EXCHANGE_MANAGE_AS_APP_ID = 'dc50a0fb-09a3-484d-be87-e023b12c6440';

/** Options for `startGraphServer`. */
export interface GraphServerOptions {
  /** Tenant and keys; read on every request, never copied. */
  state: LabState;
  /** Certificate for graph.microsoft.com from the lab CA. */
  tls: ServerTls;
  /** Port on 127.0.0.1; 0 or unset picks a free one. */
  port?: number;
}

/** Object ids of the first-party resource service principals in this lab tenant. */
interface ResourceIds {
  exchangeSpId: string;
  graphSpId: string;
}

/** A failed request: status, Graph error code and message, and extra headers. */
interface GraphFailure {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** A route's answer: a JSON body or a Graph error. */
type RouteResult = { status: 200; body: Record<string, unknown> } | GraphFailure;

/** What a route gets: the tenant, the parsed query, the path parameters, a POST's JSON body. */
interface RouteInput {
  tenant: LabTenant;
  ids: ResourceIds;
  query: URLSearchParams;
  params: string[];
  body?: unknown;
  /** `v1.0` or `beta`. */
  version: GraphVersion;
}

/** The Graph versions the lab answers. */
type GraphVersion = 'v1.0' | 'beta';

/** One route: its path pattern, the app roles it needs (all of them), and its reader. */
interface Route {
  /** Path segments after `v1.0`; `*` matches one segment (captured into params). */
  pattern: string[];
  /** Permissions per o365-facts.md §3.6 (app roles, or the same names as delegated scopes). */
  roles: string[];
  /** GET unless said otherwise (actions such as checkMemberGroups are POST). */
  method?: 'GET' | 'POST';
  /**
   * Versions it is served on (default v1.0 only). Real Graph serves every v1.0 route on beta
   * too; the lab serves on beta only what ecebot reads there (lab's choice).
   */
  versions?: readonly GraphVersion[];
  read(input: RouteInput): RouteResult;
}

/**
 * Start the lab Graph server on 127.0.0.1. Every request needs a bearer token for
 * https://graph.microsoft.com signed by the lab keys, with the app roles of its route.
 */
export function startGraphServer(opts: GraphServerOptions): Promise<RunningServer> {
  // Resource service principals exist once per tenant; their object ids stay fixed while the
  // server runs so grants (resourceId) and SP reads agree.
  const ids: ResourceIds = { exchangeSpId: randomUUID(), graphSpId: randomUUID() };
  return startHttpsServer(opts.tls, (req, res) => handle(opts.state, ids, req, res), opts.port);
}

async function handle(
  state: LabState,
  ids: ResourceIds,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  const clientRequestId = headerValue(req, 'client-request-id') ?? requestId;
  const reply = (r: RouteResult) => {
    const headers = {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      ...('headers' in r ? r.headers : {}),
    };
    if ('body' in r) {
      sendJson(res, 200, r.body, {
        ...headers,
        'content-type': 'application/json;odata.metadata=minimal;charset=utf-8',
      });
      return;
    }
    const f = r as GraphFailure;
    sendJson(
      res,
      f.status,
      {
        error: {
          code: f.code,
          message: f.message,
          innerError: {
            // Graph writes the date without milliseconds or zone.
            date: new Date().toISOString().slice(0, 19),
            'request-id': requestId,
            'client-request-id': clientRequestId,
          },
        },
      },
      headers,
    );
  };

  const { path, query } = splitUrl(req);
  let segments: string[];
  try {
    segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return reply(badRequest('Invalid request URL.'));
  }
  const notAllowed: GraphFailure = {
    status: 405,
    code: 'Request_BadRequest',
    message: 'Specified HTTP method is not allowed for the request target.',
  };
  if (req.method !== 'GET' && req.method !== 'POST') return reply(notAllowed);
  const version = segments[0];
  if (version !== 'v1.0' && version !== 'beta') {
    return reply(badRequest(`Invalid version: ${version ?? ''}`));
  }

  const auth = authenticate(state, req);
  if ('status' in auth) return reply(auth);

  const rest = segments.slice(1);
  const route = ROUTES.find(
    r => (r.versions ?? ['v1.0']).includes(version) && matches(r.pattern, rest),
  );
  if (!route) {
    return reply(badRequest(`Resource not found for the segment '${rest[0] ?? ''}'.`));
  }
  if ((route.method ?? 'GET') !== req.method) return reply(notAllowed);
  if (!route.roles.every(role => auth.permissions.has(role))) {
    // Graph's wording for a missing app role on directory reads (o365-facts.md §3.6).
    return reply({
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    });
  }
  const params = route.pattern.flatMap((p, i) => (p === '*' ? [rest[i]!] : []));
  let body: unknown;
  if (req.method === 'POST') {
    let text: string;
    try {
      text = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        return reply({ status: 413, code: 'Request_BadRequest', message: err.message });
      }
      throw err;
    }
    try {
      body = JSON.parse(text);
    } catch {
      return reply(badRequest('Unable to read JSON request payload.'));
    }
  }
  return reply(route.read({ tenant: state.tenant, ids, query, params, body, version }));
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function badRequest(message: string): GraphFailure {
  return { status: 400, code: 'BadRequest', message };
}

function matches(pattern: string[], segments: string[]): boolean {
  return (
    pattern.length === segments.length &&
    pattern.every((p, i) => p === '*' || p.toLowerCase() === segments[i]!.toLowerCase())
  );
}

/**
 * Check the bearer token as Graph does: signature, lifetime, audience, tenant. Messages are
 * the ones Graph sends for each case (seen in public issue reports), with the WWW-Authenticate
 * challenge Graph adds to every 401.
 */
function authenticate(
  state: LabState,
  req: IncomingMessage,
): { permissions: Set<string> } | GraphFailure {
  const unauthorized = (message: string): GraphFailure => ({
    status: 401,
    code: 'InvalidAuthenticationToken',
    message,
    headers: {
      'www-authenticate':
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
    },
  });
  const token = bearerToken(req);
  if (!token) return unauthorized('Access token is empty.');
  const v = verifyAccessToken(state.keys, token, [GRAPH_AUDIENCE]);
  if (!v.ok) {
    switch (v.reason) {
      case 'expired':
        return unauthorized('Access token has expired or is not yet valid.');
      case 'malformed':
        return unauthorized('CompactToken parsing failed with error code: 80049217');
      case 'audience':
        return unauthorized('Access token validation failure. Invalid audience.');
      default:
        return unauthorized('Access token validation failure.');
    }
  }
  if (v.claims.tid !== state.tenant.tenantId) {
    return unauthorized('Access token validation failure. Invalid issuer.');
  }
  // App-only tokens carry `roles`; delegated ones carry the same names in `scp`.
  const roles = Array.isArray(v.claims.roles) ? v.claims.roles.map(String) : [];
  const scp = typeof v.claims.scp === 'string' ? v.claims.scp.split(' ') : [];
  return { permissions: new Set([...roles, ...scp]) };
}

/** Result of parsing `$filter`. */
type Filter = { field: string; value: string } | undefined;

/**
 * Parse the only filter form ecebot sends: `<property> eq '<value>'` (OData v4 §5.1.1.1.1),
 * with a quote inside the literal doubled (OData ABNF `SQUOTE-in-string`).
 */
function parseFilter(query: URLSearchParams, allowed: string[]): Filter | GraphFailure {
  const raw = query.get('$filter');
  if (raw === null) return undefined;
  const m = /^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(raw);
  if (!m) return badRequest(`Invalid filter clause: ${raw}`);
  const field = allowed.find(f => f.toLowerCase() === m[1]!.toLowerCase());
  if (!field) {
    return { status: 400, code: 'Request_UnsupportedQuery', message: 'Unsupported Query.' };
  }
  return { field, value: m[2]!.replace(/''/g, "'") };
}

function isFailure(x: unknown): x is GraphFailure {
  return typeof x === 'object' && x !== null && 'status' in x && 'code' in x;
}

/** Apply `$select` (comma-separated top-level properties); unknown names are skipped. */
function select(obj: Record<string, unknown>, query: URLSearchParams): Record<string, unknown> {
  const raw = query.get('$select');
  if (!raw) return obj;
  const wanted = raw.split(',').map(s => s.trim().toLowerCase());
  return Object.fromEntries(Object.entries(obj).filter(([k]) => wanted.includes(k.toLowerCase())));
}

/** A collection answer: filter by one property, project, wrap with `@odata.context`. */
function collection(
  context: string,
  items: Record<string, unknown>[],
  query: URLSearchParams,
  filterable: string[],
): RouteResult {
  const filter = parseFilter(query, filterable);
  if (isFailure(filter)) return filter;
  const kept = filter
    ? items.filter(i => String(i[filter.field]).toLowerCase() === filter.value.toLowerCase())
    : items;
  return {
    status: 200,
    body: { '@odata.context': CONTEXT_BASE + context, value: kept.map(i => select(i, query)) },
  };
}

/** A stable GUID-shaped id derived from parts, so repeated reads return the same ids. */
function stableId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The ECE app registration as Graph's `application` resource (o365-facts.md §3.1). */
function applicationJson(app: LabApp): Record<string, unknown> {
  // Names without a known permission id cannot be expressed in requiredResourceAccess.
  const access = app.requiredScopes.flatMap(name =>
    name in SCOPE_ID ? [{ id: SCOPE_ID[name as keyof typeof SCOPE_ID], type: 'Scope' }] : [],
  );
  return {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    signInAudience: app.signInAudience,
    isFallbackPublicClient: null,
    web: {
      homePageUrl: null,
      logoutUrl: null,
      redirectUris: [...app.redirectUris],
      implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
    },
    spa: { redirectUris: [] },
    publicClient: { redirectUris: [] },
    // Graph never returns a secret's value after creation: secretText is always null.
    passwordCredentials: app.secrets.map(s => ({
      customKeyIdentifier: null,
      displayName: s.displayName,
      endDateTime: s.endDateTime,
      hint: s.hint,
      keyId: s.keyId,
      secretText: null,
      startDateTime: s.startDateTime,
    })),
    keyCredentials: [],
    requiredResourceAccess: access.length
      ? [{ resourceAppId: RESOURCE.GRAPH, resourceAccess: access }]
      : [],
  };
}

/** Delegated permission as a resource SP lists it under oauth2PermissionScopes. */
function scopeJson(value: keyof typeof SCOPE_ID, displayName: string): Record<string, unknown> {
  return {
    id: SCOPE_ID[value],
    value,
    type: 'User',
    isEnabled: true,
    adminConsentDisplayName: displayName,
    userConsentDisplayName: displayName,
  };
}

/** Service principals in the tenant: the ECE app's, Exchange Online's and Graph's (§3.2). */
function servicePrincipals(tenant: LabTenant, ids: ResourceIds): Record<string, unknown>[] {
  const app = tenant.eceApp;
  return [
    {
      id: app.spId,
      appId: app.appId,
      displayName: app.displayName,
      servicePrincipalType: 'Application',
      accountEnabled: true,
      appRoleAssignmentRequired: false,
      signInAudience: app.signInAudience,
      replyUrls: [...app.redirectUris],
      appRoles: [],
      oauth2PermissionScopes: [],
    },
    {
      id: ids.exchangeSpId,
      appId: RESOURCE.EXCHANGE,
      displayName: 'Office 365 Exchange Online',
      servicePrincipalType: 'Application',
      accountEnabled: true,
      appRoleAssignmentRequired: false,
      appRoles: [
        {
          id: EXCHANGE_MANAGE_AS_APP_ID,
          value: 'Exchange.ManageAsApp',
          allowedMemberTypes: ['Application'],
          isEnabled: true,
          displayName: 'Manage Exchange As Application',
        },
      ],
      // Whether Exchange's scopes share Graph's GUIDs is unverified (o365-facts.md §1.6,
      // open question 4); the lab reuses them so a name resolves the same on either resource.
      oauth2PermissionScopes: [
        scopeJson('IMAP.AccessAsUser.All', 'Read and write access to mailboxes via IMAP.'),
        scopeJson('POP.AccessAsUser.All', 'Read and write access to mailboxes via POP.'),
        scopeJson('SMTP.Send', 'Send emails from mailboxes using SMTP AUTH.'),
      ],
    },
    {
      id: ids.graphSpId,
      appId: RESOURCE.GRAPH,
      displayName: 'Microsoft Graph',
      servicePrincipalType: 'Application',
      accountEnabled: true,
      appRoleAssignmentRequired: false,
      oauth2PermissionScopes: [
        scopeJson('IMAP.AccessAsUser.All', 'Read and write access to mailboxes via IMAP.'),
        scopeJson('POP.AccessAsUser.All', 'Read and write access to mailboxes via POP.'),
        scopeJson('SMTP.Send', 'Send emails from mailboxes using SMTP AUTH.'),
        scopeJson('offline_access', 'Maintain access to data you have given it access to'),
      ],
    },
  ];
}

/**
 * Admin consent as one AllPrincipals grant from the ECE app's SP to Microsoft Graph, where its
 * permissions are configured (o365-facts.md §3.2); no grant at all when nothing is consented.
 */
function grants(tenant: LabTenant, ids: ResourceIds): Record<string, unknown>[] {
  const app = tenant.eceApp;
  if (!app.consentedScopes.length) return [];
  return [
    {
      id: stableId('grant', app.spId, ids.graphSpId),
      clientId: app.spId,
      consentType: 'AllPrincipals',
      principalId: null,
      resourceId: ids.graphSpId,
      scope: app.consentedScopes.join(' '),
    },
  ];
}

function findUser(tenant: LabTenant, idOrUpn: string): LabUser | undefined {
  const key = idOrUpn.toLowerCase();
  return tenant.users.find(u => u.userPrincipalName.toLowerCase() === key || u.id === idOrUpn);
}

function userNotFound(idOrUpn: string): GraphFailure {
  return {
    status: 404,
    code: 'Request_ResourceNotFound',
    message: `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
  };
}

function userJson(u: LabUser): Record<string, unknown> {
  return {
    id: u.id,
    userPrincipalName: u.userPrincipalName,
    displayName: u.displayName,
    mail: mailOf(u),
    proxyAddresses: u.proxyAddresses ?? [`SMTP:${mailOf(u)}`],
    accountEnabled: true,
  };
}

/**
 * The one `$filter` form ecebot's directory look-up sends:
 * `userPrincipalName eq '<a>' or proxyAddresses/any(x:x eq 'smtp:<a>')` (either clause alone
 * too). Graph compares these without case (lab's reading; "smtp:" then also finds the primary
 * "SMTP:" entry). Any other filter is refused as Graph refuses what it does not support.
 */
function directoryLookup(tenant: LabTenant, query: URLSearchParams): RouteResult {
  const raw = query.get('$filter');
  const clauses = (raw ?? '').split(/\s+or\s+/i);
  const names: string[] = [];
  for (const c of clauses) {
    const upn = /^\s*userPrincipalName\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(c);
    const proxy = /^\s*proxyAddresses\/any\((\w+):\1\s+eq\s+'smtp:((?:[^']|'')*)'\)\s*$/i.exec(c);
    const value = upn?.[1] ?? proxy?.[2];
    if (raw === null || value === undefined) {
      return { status: 400, code: 'Request_UnsupportedQuery', message: 'Unsupported Query.' };
    }
    names.push(value.replace(/''/g, "'").toLowerCase());
  }
  const found = tenant.users.filter(u => {
    const own = namesOf(u);
    return names.some(n => own.includes(n));
  });
  return {
    status: 200,
    body: {
      '@odata.context': `${CONTEXT_BASE}users`,
      value: found.map(u => select(userJson(u), query)),
    },
  };
}

/** What a beta sign-in `$filter` asks for (each part optional). */
interface SignInFilter {
  appId?: string;
  since?: number;
  eventTypes?: string[];
}

/** The user sign-in event types of the beta signIn resource (signInEventTypes). */
const SIGN_IN_EVENT_TYPES = [
  'interactiveUser',
  'nonInteractiveUser',
  'servicePrincipal',
  'managedIdentity',
];

/**
 * Parse the beta sign-in `$filter` ecebot sends: clauses joined by `and`, each one of
 * `appId eq '<id>'`, `createdDateTime ge <DateTimeOffset>` and
 * `signInEventTypes/any(t: t eq '<type>' [or t eq '<type>']…)` (OData v4 lambda; the form
 * Microsoft documents for the sign-in log, o365-facts.md §3.4). Anything else is refused with
 * 400 as Graph refuses a filter it cannot parse ("Invalid filter clause"); the exact wording
 * Graph uses for each malformed form is unknown (lab's choice).
 */
function parseSignInFilter(raw: string | null): SignInFilter | GraphFailure {
  const f: SignInFilter = {};
  if (raw === null) return f;
  const invalid = badRequest(`Invalid filter clause: ${raw}`);
  // Split on ` and ` outside parentheses and quotes.
  const clauses: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && /^\s+and\s+/i.test(raw.slice(i))) {
      clauses.push(raw.slice(start, i));
      const m = /^\s+and\s+/i.exec(raw.slice(i))!;
      i += m[0].length - 1;
      start = i + 1;
    }
    if (depth < 0) return invalid;
  }
  if (depth !== 0 || quoted) return invalid;
  clauses.push(raw.slice(start));
  for (const clause of clauses.map(c => c.trim())) {
    let m = /^appId\s+eq\s+'((?:[^']|'')*)'$/i.exec(clause);
    if (m) {
      f.appId = m[1]!.replace(/''/g, "'");
      continue;
    }
    m =
      /^createdDateTime\s+ge\s+(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))$/i.exec(
        clause,
      );
    if (m) {
      f.since = Date.parse(m[1]!);
      continue;
    }
    m = /^signInEventTypes\/any\(\s*(\w+)\s*:\s*(.+)\)$/i.exec(clause);
    if (m) {
      const v = m[1]!;
      const types: string[] = [];
      for (const alt of m[2]!.split(/\s+or\s+/i)) {
        const t = new RegExp(`^\\s*${v}\\s+eq\\s+'([A-Za-z]+)'\\s*$`).exec(alt);
        if (!t || !SIGN_IN_EVENT_TYPES.includes(t[1]!)) return invalid;
        types.push(t[1]!);
      }
      f.eventTypes = types;
      continue;
    }
    return invalid;
  }
  return f;
}

/** A lab sign-in's event type; records without one are a person at a prompt (lab's choice). */
function eventTypeOf(s: LabSignIn): 'interactiveUser' | 'nonInteractiveUser' {
  return s.eventType ?? 'interactiveUser';
}

/** One lab sign-in as Graph's signIn resource (§3.4; beta adds signInEventTypes and more). */
function signInJson(tenant: LabTenant, s: LabSignIn, i: number, version: GraphVersion) {
  const app = tenant.eceApp;
  const user = findUser(tenant, s.userPrincipalName);
  const code = s.errorCode === 0 ? 'OK' : aadstsCode(s.errorCode);
  const type = eventTypeOf(s);
  const row: Record<string, unknown> = {
    id: stableId('signin', String(i), s.createdDateTime, s.userPrincipalName),
    createdDateTime: s.createdDateTime,
    userDisplayName: user?.displayName ?? null,
    userPrincipalName: s.userPrincipalName,
    userId: user?.id ?? null,
    appId: s.appId,
    appDisplayName: s.appId === app.appId ? app.displayName : null,
    ipAddress: s.ipAddress ?? null,
    userAgent: s.userAgent ?? null,
    clientAppUsed: type === 'interactiveUser' ? 'Browser' : 'Mobile Apps and Desktop clients',
    correlationId: stableId('correlation', String(i), s.createdDateTime),
    conditionalAccessStatus: 'notApplied',
    isInteractive: type === 'interactiveUser',
    resourceDisplayName: 'Office 365 Exchange Online',
    resourceId: RESOURCE.EXCHANGE,
    status: {
      errorCode: s.errorCode,
      failureReason: s.errorCode === 0 ? null : CODES[code].meaning,
      additionalDetails: null,
    },
    appliedConditionalAccessPolicies: [],
  };
  if (version === 'beta') {
    // Beta-only properties (signIn, graph-rest-beta): the event type and the steps.
    row.signInEventTypes = [type];
    row.authenticationDetails = s.authenticationMethod
      ? [
          {
            authenticationStepDateTime: s.createdDateTime,
            authenticationMethod: s.authenticationMethod,
            succeeded: s.errorCode === 0,
            authenticationStepRequirement: 'Primary authentication',
          },
        ]
      : [];
    row.authenticationMethodsUsed = s.authenticationMethod ? [s.authenticationMethod] : [];
  }
  return row;
}

/**
 * Sign-ins newest first in the §3.4 shape. v1.0 lists interactive sign-ins only; beta lists the
 * event types its `signInEventTypes` filter names, and interactive ones without it ("Without an
 * event-type filter, the List signIns API returns only interactive user sign-ins by default",
 * Microsoft Entra monitoring how-to). `$top` caps a page (signin-list: maximum and default
 * 1,000); a further page is reached through `@odata.nextLink` with an opaque `$skiptoken`
 * (here an offset: lab's choice).
 */
function signIns(tenant: LabTenant, query: URLSearchParams, version: GraphVersion): RouteResult {
  const topRaw = query.get('$top');
  let top = 1000;
  if (topRaw !== null) {
    const n = Number(topRaw);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      return badRequest(`Invalid $top value '${topRaw}'.`);
    }
    top = n;
  }
  let filter: SignInFilter;
  if (version === 'beta') {
    const f = parseSignInFilter(query.get('$filter'));
    if (isFailure(f)) return f;
    filter = f;
  } else {
    const f = parseFilter(query, ['appId']);
    if (isFailure(f)) return f;
    filter = f ? { appId: f.value } : {};
  }
  const types = (version === 'beta' && filter.eventTypes) || ['interactiveUser'];
  const skipRaw = query.get('$skiptoken');
  const skip = skipRaw === null ? 0 : Number(skipRaw);
  if (!Number.isInteger(skip) || skip < 0) return badRequest(`Invalid $skiptoken '${skipRaw}'.`);
  const kept = tenant.signIns
    .map((s, i) => ({ s, i }))
    .filter(
      ({ s }) => filter.appId === undefined || s.appId.toLowerCase() === filter.appId.toLowerCase(),
    )
    .filter(({ s }) => filter.since === undefined || Date.parse(s.createdDateTime) >= filter.since)
    .filter(({ s }) => types.includes(eventTypeOf(s)))
    .sort((a, b) => b.s.createdDateTime.localeCompare(a.s.createdDateTime));
  const page = kept.slice(skip, skip + top).map(({ s, i }) => signInJson(tenant, s, i, version));
  const base =
    version === 'beta' ? 'https://graph.microsoft.com/beta' : 'https://graph.microsoft.com/v1.0';
  const body: Record<string, unknown> = {
    '@odata.context': `${base}/$metadata#auditLogs/signIns`,
    value: page,
  };
  if (skip + top < kept.length) {
    const next = new URLSearchParams(query);
    next.set('$skiptoken', String(skip + top));
    body['@odata.nextLink'] = `${base}/auditLogs/signIns?${next.toString()}`;
  }
  return { status: 200, body };
}

/** Graph checks at most 20 groups per checkMemberGroups request (directoryObject-checkMemberGroups). */
const MAX_CHECKED_GROUPS = 20;

const GUID = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

/** Every group `objectId` is a member of, directly or through nested groups. */
function transitiveGroups(groups: readonly LabGroup[], objectId: string): Set<string> {
  const found = new Set<string>();
  let frontier = [objectId.toLowerCase()];
  while (frontier.length) {
    const next: string[] = [];
    for (const g of groups) {
      const id = g.id.toLowerCase();
      if (found.has(id)) continue;
      if (g.members.some(m => frontier.includes(m.toLowerCase()))) {
        found.add(id);
        next.push(id);
      }
    }
    frontier = next;
  }
  return found;
}

/**
 * `POST /users/{id}/checkMemberGroups` with `{"groupIds":[…]}`: the listed ids the user is a
 * member of, transitively, as `{"value":[…]}` (Microsoft Graph v1.0, user-checkMemberGroups).
 * Unknown group ids are simply not in the answer; a malformed request fails as a whole.
 */
function checkMemberGroups(tenant: LabTenant, userId: string, body: unknown): RouteResult {
  const user = findUser(tenant, userId);
  if (!user) return userNotFound(userId);
  const raw = (body as { groupIds?: unknown } | null)?.groupIds;
  if (!Array.isArray(raw) || !raw.every(g => typeof g === 'string')) {
    return badRequest("The request body must have a 'groupIds' array of strings.");
  }
  const ids = raw as string[];
  if (ids.length > MAX_CHECKED_GROUPS) {
    return badRequest(`At most ${MAX_CHECKED_GROUPS} groups can be checked in one request.`);
  }
  const bad = ids.find(g => !GUID.test(g));
  if (bad !== undefined) return badRequest(`Invalid GUID: '${bad}'.`);
  const member = transitiveGroups(tenant.groups, user.id);
  return {
    status: 200,
    body: {
      '@odata.context': `${CONTEXT_BASE}Collection(Edm.String)`,
      value: ids.filter(g => member.has(g.toLowerCase())),
    },
  };
}

/** The routes, matched on the segments after `/v1.0/` (o365-facts.md §3 and §3.6). */
const ROUTES: Route[] = [
  {
    pattern: ['applications'],
    roles: ['Application.Read.All'],
    read: ({ tenant, query }) =>
      collection('applications', [applicationJson(tenant.eceApp)], query, ['appId']),
  },
  {
    pattern: ['servicePrincipals'],
    roles: ['Directory.Read.All'],
    read: ({ tenant, ids, query }) =>
      collection('servicePrincipals', servicePrincipals(tenant, ids), query, ['appId']),
  },
  {
    pattern: ['oauth2PermissionGrants'],
    roles: ['Directory.Read.All'],
    read: ({ tenant, ids, query }) =>
      collection('oauth2PermissionGrants', grants(tenant, ids), query, ['clientId']),
  },
  {
    pattern: ['users'],
    roles: ['User.Read.All'],
    read: ({ tenant, query }) => directoryLookup(tenant, query),
  },
  {
    pattern: ['users', '*'],
    roles: ['User.Read.All'],
    read: ({ tenant, query, params }) => {
      const user = findUser(tenant, params[0]!);
      if (!user) return userNotFound(params[0]!);
      return {
        status: 200,
        body: {
          '@odata.context': `${CONTEXT_BASE}users/$entity`,
          ...select(userJson(user), query),
        },
      };
    },
  },
  {
    pattern: ['users', '*', 'licenseDetails'],
    roles: ['User.Read.All'],
    read: ({ tenant, params }) => {
      const user = findUser(tenant, params[0]!);
      if (!user) return userNotFound(params[0]!);
      return {
        status: 200,
        body: {
          '@odata.context': `${CONTEXT_BASE}users('${encodeURIComponent(params[0]!)}')/licenseDetails`,
          value: user.licenses.map(l => ({
            id: stableId('license', user.id, l.skuId),
            skuId: l.skuId,
            skuPartNumber: l.skuPartNumber,
            servicePlans: structuredClone(l.servicePlans),
          })),
        },
      };
    },
  },
  {
    pattern: ['users', '*', 'checkMemberGroups'],
    method: 'POST',
    // Application permission for other users' memberships: Directory.Read.All (or
    // User.Read.All with GroupMember.Read.All), per Graph's user-checkMemberGroups reference.
    roles: ['Directory.Read.All'],
    read: ({ tenant, params, body }) => checkMemberGroups(tenant, params[0]!, body),
  },
  {
    pattern: ['auditLogs', 'signIns'],
    versions: ['v1.0', 'beta'],
    // Both permissions are needed (known Graph issue, o365-facts.md §3.4).
    roles: ['AuditLog.Read.All', 'Directory.Read.All'],
    read: ({ tenant, query, version }) => {
      if (!tenant.hasP1) {
        // Exact code and text Graph answers for tenants without Entra ID P1/P2 (§3.4).
        return {
          status: 403,
          code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
          message: "Neither tenant is B2C or tenant doesn't have premium license",
        };
      }
      return signIns(tenant, query, version);
    },
  },
];
