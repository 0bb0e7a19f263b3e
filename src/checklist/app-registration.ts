/**
 * Checklist item 3, Azure AD (Entra ID) application: the ECE app registration exists; a redirect
 * URI is on the ECE external URL's host; a secret or certificate is valid (and for how long);
 * the delegated permissions for the protocols in use, SMTP.Send and offline_access are
 * configured and consented; access tokens last 60 minutes or more (technote item 3).
 *
 * Graph reads (o365-facts.md §3.1–3.2) need ecebot's probe credentials; the ECE app's own
 * client-credentials request (AADSTS7000222 expired, 7000215 wrong secret) and the mailbox
 * refreshes (lifetime, app-level AADSTS codes) are judged either way.
 */
import { CODES, type Code } from '../knowledge/codes';
import { RESOURCE, requiredScopes, SCOPE_ID } from '../knowledge/permissions';
import type {
  EntraTokenObservation,
  GraphApplication,
  GraphCredential,
  GraphObservation,
  Observation,
} from '../model';
import { fact, fromObservation } from './evidence';
import {
  graphRead,
  isNetworkCode,
  judge,
  ofKind,
  part,
  sameAddress,
  tenantReadBlocker,
  type Part,
  type Rule,
  type RuleInput,
  refusalCode,
  refusalFix,
  refusalName,
} from './rule';
import type { EnvironmentFacts } from '../model';
import type { Text } from '../model/items';
import { SERVICES, CENTRAL_ONLY, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'Azure AD (Entra ID) application', nl: 'Azure AD-applicatie (Entra ID)' };

const DAY_MS = 86_400_000;
/** A credential expiring within this many days warns (rotation takes a change window). */
export const EXPIRY_WARN_DAYS = 30;
/** Technote item 3: "The access token must last 60 minutes." */
export const MIN_TOKEN_MINUTES = 60;

/** A client secret or certificate of the app registration, as judged for expiry. */
export interface AppCredential {
  kind: 'secret' | 'certificate';
  /** Its display name, else its key id; undefined when Graph gave neither. */
  label?: string;
  /** Epoch ms; NaN when Graph gave no date. */
  start: number;
  end: number;
  /** The end date (YYYY-MM-DD) as a person reads it, or `unknown`. */
  endText: string;
}

/** The app's client secrets (passwordCredentials) and certificates (keyCredentials). Pure. */
export function credentialsOf(app: GraphApplication): AppCredential[] {
  const one = (kind: AppCredential['kind'], c: GraphCredential): AppCredential => {
    const label = c.displayName || c.keyId || undefined;
    return {
      kind,
      ...(label ? { label } : {}),
      start: c.startDateTime ? Date.parse(c.startDateTime) : NaN,
      end: c.endDateTime ? Date.parse(c.endDateTime) : NaN,
      endText: c.endDateTime?.slice(0, 10) ?? 'unknown',
    };
  };
  return [
    ...(app.passwordCredentials ?? []).map(c => one('secret', c)),
    ...(app.keyCredentials ?? []).map(c => one('certificate', c)),
  ];
}

/**
 * Whole days from `now` until `endMs` (epoch ms), rounded up: a secret ending in 9.9 days
 * "expires in 10 days" as a person counts. Pure; forecasts and the digest count the same way.
 */
export function daysUntil(endMs: number, now: Date): number {
  return Math.ceil((endMs - now.getTime()) / DAY_MS);
}

/**
 * A read that broke rather than answered: the probe crashed, or Graph's 200 reply was not
 * understood. Nothing can be judged from it, so the part is an error (never a pass or a guess).
 */
function brokenRead(code: Code): boolean {
  return code === 'CHECK_CRASHED' || code === 'GRAPH_UNEXPECTED_REPLY';
}

/** Why a read gave nothing to judge, for a person. */
function readFailure(code: Code): string {
  if (code === 'CHECK_CRASHED') return 'the read crashed';
  if (code === 'GRAPH_UNEXPECTED_REPLY') return "Graph's reply was not understood";
  return code;
}

/** `scheme://authority` → the authority (host and port exactly as written), lower-cased. */
export function authorityOf(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url.trim());
  return m?.[1]?.replace(/^[^@]*@/, '').toLowerCase() || undefined;
}

function redirectPart(env: EnvironmentFacts, app: GraphApplication, o: GraphObservation): Part {
  const uris = app.web?.redirectUris ?? [];
  const ext = env.ece.externalUrl;
  const host = ext && /^https:\/\//i.test(ext) ? authorityOf(ext) : undefined;
  if (!host) {
    return part(
      'skip',
      'ECE_EXTERNAL_URL_MISSING',
      'redirect URIs not compared: no https external URL configured',
      [fact('web.redirectUris', `registered: ${uris.join(', ') || 'none'}`, true, 'OK', o.vantage)],
    );
  }
  const match = uris.find(u => authorityOf(u) === host);
  const text = `redirect URIs: ${uris.join(', ') || 'none'}; external URL host ${host}`;
  if (match) {
    return part('pass', 'OK', `redirect URI on ${host}`, [fromObservation(o, { text })]);
  }
  return part(
    'fail',
    'ENTRA_REDIRECT_MISMATCH',
    `no redirect URI on ${host} (registered: ${uris.join(', ') || 'none'})`,
    [fromObservation(o, { text, ok: false, code: 'ENTRA_REDIRECT_MISMATCH' })],
  );
}

function credentialPart(app: GraphApplication, o: GraphObservation, now: Date): Part {
  const creds = credentialsOf(app).map(c => ({
    ...c,
    name: `${c.kind === 'secret' ? 'client secret' : 'certificate'} "${c.label ?? '?'}"`,
  }));
  const t = now.getTime();
  const listed = creds.map(c => `${c.name} ends ${c.endText}`).join('; ') || 'none';
  const ev = (ok: boolean, code: Code) => [
    fromObservation(o, { text: `credentials: ${listed}`, ok, code }),
  ];
  if (!creds.length) {
    return part(
      'fail',
      'ENTRA_SECRET_EXPIRED',
      'the app has no client secret or certificate',
      ev(false, 'ENTRA_SECRET_EXPIRED'),
    );
  }
  const valid = creds.filter(c => c.end > t && !(c.start > t));
  if (!valid.length) {
    const last = creds.reduce((a, b) => ((b.end || 0) > (a.end || 0) ? b : a));
    return part(
      'fail',
      'ENTRA_SECRET_EXPIRED',
      `every client secret and certificate has expired (the last, ${last.name}, on ${last.endText})`,
      ev(false, 'ENTRA_SECRET_EXPIRED'),
    );
  }
  const soonest = valid.reduce((a, b) => (b.end < a.end ? b : a));
  const days = daysUntil(soonest.end, now);
  // ceil(x) <= N exactly when x <= N: the same cut as comparing milliseconds.
  if (days <= EXPIRY_WARN_DAYS) {
    const others =
      valid.length > 1
        ? ` (${valid.length - 1} other credential${valid.length > 2 ? 's' : ''} still valid)`
        : '';
    return part(
      'warn',
      'ENTRA_SECRET_EXPIRING',
      `${soonest.name} expires in ${days} day${days === 1 ? '' : 's'} (${soonest.endText})${others}`,
      ev(false, 'ENTRA_SECRET_EXPIRING'),
      { fix: { days } },
    );
  }
  return part(
    'pass',
    'OK',
    `${soonest.name} valid until ${soonest.endText} (${days} days)`,
    ev(true, 'OK'),
  );
}

/** Permission id → name, from the resource service principals read, then the Graph table. */
function scopeNames(observations: Observation[]): Map<string, string> {
  const names = new Map<string, string>(Object.entries(SCOPE_ID).map(([name, id]) => [id, name]));
  for (const o of graphRead(observations, 'resourceServicePrincipal')) {
    if (o.resource !== 'resourceServicePrincipal') continue;
    for (const s of o.data?.oauth2PermissionScopes ?? []) if (s.value) names.set(s.id, s.value);
  }
  return names;
}

function permissionPart(
  env: EnvironmentFacts,
  app: GraphApplication,
  o: GraphObservation,
  observations: Observation[],
): Part {
  const names = scopeNames(observations);
  const configured = new Set<string>();
  for (const r of app.requiredResourceAccess ?? []) {
    if (r.resourceAppId !== RESOURCE.EXCHANGE && r.resourceAppId !== RESOURCE.GRAPH) continue;
    for (const a of r.resourceAccess) {
      const name = a.type === 'Scope' ? names.get(a.id) : undefined;
      if (name) configured.add(name);
    }
  }
  const required = requiredScopes(env.mailboxes.map(m => m.retrieve));
  const missing = required.filter(s => !configured.has(s));
  const text = `delegated permissions configured: ${[...configured].join(', ') || 'none'}; needed: ${required.join(', ')}`;
  if (missing.length) {
    return part(
      'fail',
      'ENTRA_PERMISSION_MISSING',
      `delegated permission${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not configured`,
      [fromObservation(o, { text, ok: false, code: 'ENTRA_PERMISSION_MISSING' })],
      {
        fix: { scopes: missing },
      },
    );
  }
  return part('pass', 'OK', 'delegated permissions configured', [fromObservation(o, { text })]);
}

function consentPart(env: EnvironmentFacts, observations: Observation[]): Part {
  const required = requiredScopes(env.mailboxes.map(m => m.retrieve));
  const sp = graphRead(observations, 'servicePrincipal')[0];
  const grants = graphRead(observations, 'grants')[0];
  if (sp?.code === 'GRAPH_NOT_FOUND') {
    return part(
      'fail',
      'ENTRA_CONSENT_MISSING',
      'the app has no enterprise application in the tenant, so nothing was consented',
      [fromObservation(sp)],
      { fix: { scopes: required } },
    );
  }
  if (!grants) {
    const why =
      sp && !sp.ok
        ? { code: sp.code, reason: `service principal read failed: ${readFailure(sp.code)}` }
        : tenantReadBlocker(env, observations, 'graph');
    return part(
      sp && brokenRead(sp.code) ? 'error' : 'skip',
      why.code,
      `consent not read (${why.reason})`,
      sp ? [fromObservation(sp)] : [],
    );
  }
  if (!grants.ok) {
    return part(
      brokenRead(grants.code) ? 'error' : 'skip',
      grants.code,
      `consent not read (${readFailure(grants.code)})`,
      [fromObservation(grants)],
    );
  }
  // Admin consent (AllPrincipals) covers every account; a user's own consent (Principal)
  // covers that user, which is all a per-mailbox token needs (o365-facts.md §3.2).
  const rows = grants.resource === 'grants' ? (grants.data ?? []) : [];
  const consented = new Set(rows.flatMap(g => (g.scope ?? '').split(/\s+/).filter(Boolean)));
  const missing = required.filter(s => !consented.has(s));
  const listed =
    rows.map(g => `${g.consentType ?? '?'}: ${g.scope ?? ''}`.trim()).join('; ') || 'no grants';
  if (missing.length) {
    return part(
      'fail',
      'ENTRA_CONSENT_MISSING',
      `${missing.join(', ')} not consented`,
      [
        fromObservation(grants, {
          text: `grants: ${listed}`,
          ok: false,
          code: 'ENTRA_CONSENT_MISSING',
        }),
      ],
      { fix: { scopes: missing } },
    );
  }
  return part('pass', 'OK', 'consented', [fromObservation(grants, { text: `grants: ${listed}` })]);
}

/** The Graph-read parts: registration found, redirect URI, credentials, permissions, consent. */
function graphParts(input: RuleInput): Part[] {
  const { env, observations, now } = input;
  const read = graphRead(observations, 'application')[0];
  if (!read) {
    const b = tenantReadBlocker(env, observations, 'graph');
    return [
      part(
        'skip',
        b.code,
        `registration, redirect URI, credentials and consent not read (${b.reason})`,
        [],
      ),
    ];
  }
  if (brokenRead(read.code))
    return [
      part(
        'error',
        read.code,
        read.code === 'CHECK_CRASHED'
          ? 'the app registration read crashed'
          : `app registration not judged: ${readFailure(read.code)}`,
        [fromObservation(read)],
      ),
    ];
  const app = read.ok && read.resource === 'application' ? read.data : undefined;
  if (read.code === 'GRAPH_NOT_FOUND' || (read.ok && !app)) {
    return [
      part(
        'fail',
        'ENTRA_APP_NOT_FOUND',
        `no app registration with client id ${env.app.clientId}`,
        [fromObservation(read, { ok: false, code: 'ENTRA_APP_NOT_FOUND' })],
      ),
    ];
  }
  if (!app)
    return [
      part('skip', read.code, `app registration not read (${read.code})`, [fromObservation(read)]),
    ];
  // Permission names fall back to ecebot's own table, but an unreadable resource service
  // principal is still reported: it is Microsoft's answer ecebot failed to read.
  const unreadScopes = graphRead(observations, 'resourceServicePrincipal')
    .filter(o => o.code === 'GRAPH_UNEXPECTED_REPLY')
    .map(o =>
      part('error', o.code, `a resource's delegated permissions not read: ${readFailure(o.code)}`, [
        fromObservation(o),
      ]),
    );
  return [
    redirectPart(env, app, read),
    credentialPart(app, read, now),
    permissionPart(env, app, read, observations),
    consentPart(env, observations),
    ...unreadScopes,
  ];
}

function lifetimePart(tokens: EntraTokenObservation[]): Part[] {
  const timed = tokens.filter(o => o.ok && o.lifetimeMinutes !== undefined);
  if (!timed.length) return [];
  const shortest = timed.reduce((a, b) =>
    (b.lifetimeMinutes ?? 0) < (a.lifetimeMinutes ?? 0) ? b : a,
  );
  const minutes = shortest.lifetimeMinutes ?? 0;
  const text = `access token for ${shortest.mailbox ?? shortest.target} lasts ${minutes} min`;
  if (minutes < MIN_TOKEN_MINUTES) {
    return [
      part(
        'fail',
        'ENTRA_TOKEN_LIFETIME_SHORT',
        `access tokens last ${minutes} min, under the ${MIN_TOKEN_MINUTES} the technote requires`,
        [fromObservation(shortest, { text, ok: false, code: 'ENTRA_TOKEN_LIFETIME_SHORT' })],
      ),
    ];
  }
  return [
    part('pass', 'OK', `access tokens last ${minutes} min`, [fromObservation(shortest, { text })]),
  ];
}

/** The ECE app's own client-credentials request: proves its secret (central vantage). */
function secretParts(env: EnvironmentFacts, observations: Observation[]): Part[] {
  const own = ofKind(observations, 'entra-token').filter(
    o =>
      o.purpose === 'ece-app' ||
      (o.purpose === undefined && sameAddress(o.target, env.app.clientId)),
  );
  return own.map(o => {
    if (o.code === 'CHECK_CRASHED')
      return part('error', 'CHECK_CRASHED', 'the ECE app token request crashed', [
        fromObservation(o),
      ]);
    if (o.ok)
      return part('pass', 'OK', 'Entra accepts its secret', [
        fromObservation(o, {
          text: `client-credentials token for the ECE app in ${Math.round(o.durationMs)} ms`,
        }),
      ]);
    const code = refusalCode(o);
    if (code === 'ENTRA_UNREACHABLE' || isNetworkCode(code)) {
      return part(
        'skip',
        code,
        `the ECE app's secret not tested: Entra ID unreachable from ${o.vantage}`,
        [fromObservation(o)],
        { fix: { vantage: o.vantage, host: 'login.microsoftonline.com', port: 443 } },
      );
    }
    return part(
      'fail',
      code,
      `Entra refused the ECE app's own token request (${refusalName(o)})`,
      [fromObservation(o, { code })],
      { fix: refusalFix(o) },
    );
  });
}

/** Mailbox refreshes Entra refused for a reason that lies in the app registration. */
function refreshParts(tokens: EntraTokenObservation[]): Part[] {
  return tokens
    .filter(o => !o.ok && CODES[refusalCode(o)].item === 'app-registration')
    .map(o => {
      const code = refusalCode(o);
      const who = o.mailbox ?? o.target;
      return part(
        'fail',
        code,
        `refreshing ${who}'s token on ${o.vantage} failed with ${refusalName(o)}`,
        [fromObservation(o, { code })],
        {
          fix: { mailbox: who, vantage: o.vantage, ...refusalFix(o) },
          failedOn: [o.vantage],
        },
      );
    });
}

export const appRegistration: Rule = input => {
  const { env, observations } = input;
  const tokens = ofKind(observations, 'entra-token').filter(o => o.purpose === 'mailbox');
  const parts = [
    ...graphParts(input),
    ...lifetimePart(tokens),
    ...secretParts(env, observations),
    ...refreshParts(tokens),
  ];
  return judge('app-registration', TITLE.en, env, parts, {
    passSummary: `App ${env.app.clientId}: ${parts
      .filter(p => p.status === 'pass')
      .map(p => p.line)
      .join('; ')}`,
  });
};

/** Checklist item: Azure AD (Entra ID) application. */
export const item: ItemDeclaration = {
  id: 'app-registration',
  title: TITLE,
  reads: [
    { read: 'ece-app-token', on: CENTRAL_ONLY },
    { read: 'graph-token', on: CENTRAL_ONLY },
    { read: 'graph-application', on: CENTRAL_ONLY },
    { read: 'graph-consent', on: CENTRAL_ONLY },
    { read: 'graph-resource-scopes', on: CENTRAL_ONLY },
    // Access-token lifetimes are judged on the mailbox tokens (checklist.md item 3).
    { read: 'mailbox-token', on: SERVICES },
  ],
  rule: appRegistration,
};
