/**
 * Observation fixtures in exactly the shape the runner hands the rules (src/runner/observe.ts):
 * per ECE server https + dns/tls, per services server and mailbox entra-token then imap|pop3 and
 * smtp, and `central` Entra/Graph/Exchange reads. `healthy()` is a run where every item passes;
 * tests break one thing at a time with `edit`.
 */
import type { RuleInput } from '../../src/checklist/rule';
import type { EnvironmentFacts } from '../../src/model';
import type { Code } from '../../src/knowledge/codes';
import { PLAN, RESOURCE, SCOPE_ID, SKU } from '../../src/knowledge/permissions';
import { EXO_UNDERSTAND } from '../../src/probes/exo';
import { GRAPH_UNDERSTAND } from '../../src/probes/graph';
import { notUnderstood } from '../../src/probes/schemas/reply';
import type {
  DnsObservation,
  EntraTokenObservation,
  ExoCmdletName,
  ExoObservation,
  ExoReadObservation,
  GraphObservation,
  GraphReadObservation,
  GraphResource,
  HttpsObservation,
  MailObservation,
  Observation,
  Step,
  TlsObservation,
  TokenClaims,
} from '../../src/model';
import type { ReadName } from '../../src/model/items';

export const NOW = new Date('2026-03-01T12:00:00.000Z');
export const DAY = 86_400_000;

export const SUPPORT = 'support@example.com';
export const SALES = 'sales@example.com';
export const SVC = 'svc-ece@example.com';
export const JDOE = 'jdoe@example.com';
export const CLIENT_ID = '11111111-1111-1111-1111-111111111111';
export const TENANT_ID = '00000000-0000-0000-0000-000000000000';
export const LOGIN = 'login.microsoftonline.com';
export const OUTLOOK = 'outlook.office365.com';
export const SMTP = 'smtp.office365.com';

/** The DESIGN.md example environment: support@ (own token, IMAP), sales@ (shared, POP3). */
export function facts(over: Partial<EnvironmentFacts> = {}): EnvironmentFacts {
  return {
    name: 'prod',
    ece: { version: '12.6(1)', es: 10, externalUrl: 'https://ece.example.com' },
    servers: [
      { name: 'services-1', role: 'services' },
      { name: 'app-1', role: 'application' },
    ],
    tenantId: TENANT_ID,
    app: { clientId: CLIENT_ID },
    mailboxes: [
      { address: SUPPORT, access: 'mailbox', retrieve: 'imap', hasToken: true },
      { address: SALES, access: 'shared', account: SVC, retrieve: 'pop3', hasToken: true },
    ],
    probeConfigured: true,
    slowMs: 2000,
    ...over,
  };
}

function base(vantage: string, target: string, code: Code, durationMs: number) {
  return {
    vantage,
    target,
    ok: code === 'OK',
    code,
    stage: code === 'OK' ? 'done' : 'connect',
    startedAt: NOW.toISOString(),
    durationMs,
    steps: [] as Step[],
  };
}

export function dns(vantage: string, host: string, code: Code = 'OK'): DnsObservation {
  return {
    ...base(vantage, host, code, 3),
    kind: 'dns',
    read: 'network',
    host,
    addresses: code === 'OK' ? ['127.0.0.1'] : [],
    source: 'inventory',
  };
}

export function tls(
  vantage: string,
  host: string,
  port: number,
  over: Partial<TlsObservation> = {},
): TlsObservation {
  const code = over.code ?? 'OK';
  return {
    ...base(vantage, `${host}:${port}`, code, code === 'OK' ? 12 : 1),
    kind: 'tls',
    read: 'network',
    host,
    port,
    starttls: port === 587,
    ...(code === 'OK'
      ? {
          protocol: 'TLSv1.3',
          cert: {
            subject: `CN=${host}`,
            issuer: 'CN=lab CA',
            altNames: [host],
            validFrom: '2026-01-01',
            validTo: '2027-01-01',
            fingerprint256: 'AA:BB',
            trusted: true,
          },
        }
      : {}),
    steps: [
      {
        name: 'connect',
        ok: code === 'OK',
        atMs: 0,
        durationMs: 1,
        ...(code !== 'OK' ? { code } : {}),
      },
    ],
    ...over,
  };
}

export function https(
  vantage: string,
  url: string,
  over: Partial<HttpsObservation> = {},
): HttpsObservation {
  const code = over.code ?? 'OK';
  return {
    ...base(vantage, url, code, 20),
    kind: 'https',
    read: 'external-url',
    url,
    ...(code === 'OK' ? { status: 200 } : {}),
    ...over,
  };
}

/** The claims of a healthy delegated Exchange token for `user`. */
export function claims(user: string, retrieve: 'imap' | 'pop3', over: Partial<TokenClaims> = {}) {
  const scope = retrieve === 'imap' ? 'IMAP.AccessAsUser.All' : 'POP.AccessAsUser.All';
  return {
    aud: 'https://outlook.office.com',
    iss: `https://sts.windows.net/${TENANT_ID}/`,
    scp: `${scope} SMTP.Send`,
    upn: user,
    amr: ['pwd'],
    appid: CLIENT_ID,
    ver: '1.0',
    ...over,
  } satisfies TokenClaims;
}

export function mailboxToken(
  vantage: string,
  mailbox: string,
  over: Partial<EntraTokenObservation> = {},
): EntraTokenObservation {
  const code = over.code ?? 'OK';
  return {
    ...base(vantage, `${LOGIN}:443`, code, 40),
    kind: 'entra-token',
    read: 'mailbox-token',
    mailbox,
    flow: 'refresh-token',
    purpose: 'mailbox',
    clientId: CLIENT_ID,
    scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All'],
    stage: code === 'OK' ? 'token' : 'token',
    ...over,
  };
}

/** A refused refresh: Entra's AADSTS number and the registry code. */
export function refused(vantage: string, mailbox: string, aadsts: number, code: Code) {
  return mailboxToken(vantage, mailbox, {
    ok: false,
    code,
    aadsts,
    oauthError: 'invalid_grant',
    server: `AADSTS${aadsts}: …`,
  });
}

export function eceAppToken(over: Partial<EntraTokenObservation> = {}): EntraTokenObservation {
  const code = over.code ?? 'OK';
  return {
    ...base('central', `${LOGIN}:443`, code, 30),
    kind: 'entra-token',
    flow: 'client-credentials',
    purpose: 'ece-app',
    read: 'ece-app-token',
    clientId: CLIENT_ID,
    scopes: ['https://graph.microsoft.com/.default'],
    ...over,
  };
}

export function probeToken(
  api: 'graph' | 'exchange',
  over: Partial<EntraTokenObservation> = {},
): EntraTokenObservation {
  const code = over.code ?? 'OK';
  return {
    ...base('central', `${LOGIN}:443`, code, 30),
    kind: 'entra-token',
    flow: 'client-credentials',
    purpose: 'probe-app',
    read: api === 'graph' ? 'graph-token' : 'exchange-token',
    clientId: '22222222-2222-2222-2222-222222222222',
    scopes: [
      api === 'graph'
        ? 'https://graph.microsoft.com/.default'
        : 'https://outlook.office365.com/.default',
    ],
    ...over,
  };
}

/** Steps of a mail conversation, each `stepMs` long, with a transcript. */
function mailSteps(kind: 'imap' | 'pop3' | 'smtp', stepMs: number, code: Code): Step[] {
  const names =
    kind === 'imap'
      ? ['connect', 'greeting', 'authenticate', 'list']
      : kind === 'pop3'
        ? ['connect', 'greeting', 'authenticate', 'stat']
        : ['connect', 'greeting', 'starttls', 'authenticate'];
  return names.map((name, i) => {
    const last = i === names.length - 1;
    const step: Step = { name, ok: !last || code === 'OK', atMs: i * stepMs, durationMs: stepMs };
    if (name === 'authenticate') {
      step.sent = kind === 'smtp' ? 'AUTH XOAUTH2 <redacted>' : 'AUTHENTICATE XOAUTH2 <redacted>';
      step.received = [
        kind === 'smtp' ? '235 2.7.0 Authentication successful' : 'A1 OK AUTHENTICATE completed.',
      ];
    }
    if (last && code !== 'OK') step.code = code;
    return step;
  });
}

export function mail(
  kind: 'imap' | 'pop3' | 'smtp',
  vantage: string,
  mailbox: string,
  over: Partial<MailObservation> & { stepMs?: number } = {},
): MailObservation {
  const { stepMs = 5, ...rest } = over;
  const code = rest.code ?? 'OK';
  const port = kind === 'imap' ? 993 : kind === 'pop3' ? 995 : 587;
  const host = kind === 'smtp' ? SMTP : OUTLOOK;
  return {
    ...base(vantage, `${host}:${port}`, code, stepMs * 4),
    kind,
    read: 'mailbox-login',
    mailbox,
    host,
    port,
    user: mailbox,
    stage: code === 'OK' ? 'done' : 'authenticate',
    steps: mailSteps(kind, stepMs, code),
    mailboxFacts: kind === 'imap' ? { folders: 7 } : kind === 'pop3' ? { messages: 5 } : {},
    ...rest,
  };
}

/** The read that makes each Graph resource (src/runner/reads/graph.ts). */
const GRAPH_READ: Record<GraphResource, ReadName> = {
  application: 'graph-application',
  servicePrincipal: 'graph-consent',
  grants: 'graph-consent',
  resourceServicePrincipal: 'graph-resource-scopes',
  signIns: 'graph-sign-ins',
  licenseDetails: 'graph-licenses',
  directoryUsers: 'graph-directory-users',
};

/** The read that runs each Exchange cmdlet (src/runner/reads/exo.ts). */
const EXO_READ: Record<ExoCmdletName, ReadName> = {
  'Get-CASMailbox': 'exo-cas-mailbox',
  'Get-MailboxPermission': 'exo-mailbox-permission',
  'Get-RecipientPermission': 'exo-recipient-permission',
  'Get-TransportConfig': 'exo-transport-config',
};

/** Graph reads of one object (a filtered collection); the others are lists. */
const ONE_OBJECT: readonly GraphResource[] = [
  'application',
  'servicePrincipal',
  'resourceServicePrincipal',
];

/**
 * A Graph read as the probe makes it: `data` is what Graph put in `value` (the object itself
 * for one-object reads), in Microsoft's shape, read with the probe's own schemas. A reply the
 * schema refuses becomes GRAPH_UNEXPECTED_REPLY exactly as the probe reports it.
 */
export function graph<R extends GraphResource>(
  resource: R,
  data: unknown,
  over: Partial<GraphReadObservation<R>> = {},
): GraphReadObservation<R> {
  const obs: GraphReadObservation<R> = {
    ...base('central', 'graph.microsoft.com:443', over.code ?? 'OK', 25),
    kind: 'graph',
    read: GRAPH_READ[resource],
    resource,
    stage: 'request',
    status: (over.code ?? 'OK') === 'OK' ? 200 : 403,
  };
  if ((over.code ?? 'OK') === 'OK') {
    const value = ONE_OBJECT.includes(resource) ? [data] : data;
    const u = GRAPH_UNDERSTAND[resource]({ value }, '');
    if (u.code === 'OK') obs.data = u.data;
    else if (u.code === 'GRAPH_UNEXPECTED_REPLY') {
      Object.assign(obs, { ok: false, code: u.code, unexpected: u.unexpected });
      obs.server = notUnderstood(u.unexpected);
    } else Object.assign(obs, { ok: false, code: u.code });
  }
  return { ...obs, ...over };
}

/** An Exchange admin read as the probe makes it: `rows` in Exchange's shape, read with the probe's schemas. */
export function exo<C extends ExoCmdletName>(
  cmdlet: C,
  rows: unknown,
  over: Partial<ExoReadObservation<C>> = {},
): ExoReadObservation<C> {
  const obs: ExoReadObservation<C> = {
    ...base('central', `${OUTLOOK}:443`, over.code ?? 'OK', 50),
    kind: 'exo',
    read: EXO_READ[cmdlet],
    cmdlet,
    stage: 'invoke',
    status: (over.code ?? 'OK') === 'OK' ? 200 : 403,
  };
  if ((over.code ?? 'OK') === 'OK') {
    const r = EXO_UNDERSTAND[cmdlet]({ value: rows }, '');
    if (r.ok) obs.data = r.value.value;
    else {
      Object.assign(obs, { ok: false, code: 'EXO_UNEXPECTED_REPLY', unexpected: r.unexpected });
      obs.server = notUnderstood(r.unexpected);
    }
  }
  return { ...obs, ...over };
}

/** The ECE app registration as Graph returns it (o365-facts.md §3.1). */
export function application(now: Date = NOW, over: Record<string, unknown> = {}) {
  return {
    id: 'a0a0a0a0-0000-0000-0000-000000000001',
    appId: CLIENT_ID,
    displayName: 'Cisco ECE',
    signInAudience: 'AzureADMyOrg',
    web: { redirectUris: ['https://ece.example.com/system/oauth2/callback'] },
    passwordCredentials: [
      {
        displayName: 'ece-2026',
        keyId: 'k1',
        startDateTime: new Date(now.getTime() - 30 * DAY).toISOString(),
        endDateTime: new Date(now.getTime() + 365 * DAY).toISOString(),
      },
    ],
    keyCredentials: [],
    requiredResourceAccess: [
      {
        resourceAppId: RESOURCE.GRAPH,
        resourceAccess: Object.values(SCOPE_ID).map(id => ({ id, type: 'Scope' })),
      },
    ],
    ...over,
  };
}

export const ALL_SCOPES = 'IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send offline_access';

export function grants(scope: string = ALL_SCOPES) {
  return [{ consentType: 'AllPrincipals', scope, principalId: null, clientId: 'sp-ece' }];
}

export const E3 = {
  skuId: SKU.ENTERPRISEPACK,
  skuPartNumber: 'ENTERPRISEPACK',
  servicePlans: [
    {
      servicePlanId: PLAN.EXCHANGE_S_ENTERPRISE,
      servicePlanName: 'EXCHANGE_S_ENTERPRISE',
      provisioningStatus: 'Success',
    },
  ],
};

export const E1 = {
  skuId: SKU.STANDARDPACK,
  skuPartNumber: 'STANDARDPACK',
  servicePlans: [
    {
      servicePlanId: PLAN.EXCHANGE_S_STANDARD,
      servicePlanName: 'EXCHANGE_S_STANDARD',
      provisioningStatus: 'Success',
    },
  ],
};

export function cas(identity: string, row: Record<string, unknown> = {}): ExoObservation {
  return exo(
    'Get-CASMailbox',
    [{ ImapEnabled: true, PopEnabled: true, SmtpClientAuthenticationDisabled: false, ...row }],
    { identity, mailbox: identity },
  );
}

export function permissions(identity: string, rows: unknown[]): ExoObservation {
  return exo('Get-MailboxPermission', rows, { identity, mailbox: identity });
}

export function sendAs(identity: string, rows: unknown[]): ExoObservation {
  return exo('Get-RecipientPermission', rows, { identity, mailbox: identity });
}

/** A Get-RecipientPermission row granting `trustee` Send As (Exchange's field names). */
export function sendAsRow(trustee: string, over: Record<string, unknown> = {}) {
  return {
    Identity: 'mailbox',
    Trustee: trustee,
    AccessControlType: 'Allow',
    AccessRights: ['SendAs'],
    IsInherited: false,
    InheritanceType: 'None',
    ...over,
  };
}

/** The directory user found for `address` (Graph user: UPN, mail, proxyAddresses). */
export function directory(
  address: string,
  user: { upn?: string; mail?: string; aliases?: string[] } = {},
): GraphObservation {
  const mail = user.mail ?? address;
  return graph(
    'directoryUsers',
    [
      {
        id: `id-${address}`,
        userPrincipalName: user.upn ?? address,
        mail,
        proxyAddresses: [`SMTP:${mail}`, ...(user.aliases ?? []).map(a => `smtp:${a}`)],
      },
    ],
    { mailbox: address },
  );
}

/** The account that signs in for a mailbox: its shared account, or itself. */
export function accountOf(m: EnvironmentFacts['mailboxes'][number]): string {
  return m.access === 'shared' && m.account ? m.account : m.address;
}

export const SELF = {
  User: 'NT AUTHORITY\\SELF',
  AccessRights: ['FullAccess', 'ReadPermission'],
  Deny: false,
  IsInherited: false,
};

/** `now` moved by `ms`, as ISO 8601. */
export function iso(now: Date, ms: number): string {
  return new Date(now.getTime() + ms).toISOString();
}

/**
 * One row of Entra's sign-in log for ECE's app in the beta signIn shape (signin-list example):
 * a non-interactive redemption by default.
 */
export function signIn(upn: string, at: string, over: Record<string, unknown> = {}) {
  return {
    id: `signin-${upn}-${at}`,
    createdDateTime: at,
    userPrincipalName: upn,
    appId: CLIENT_ID,
    appDisplayName: 'Cisco ECE',
    ipAddress: '10.0.0.11',
    clientAppUsed: 'Mobile Apps and Desktop clients',
    isInteractive: false,
    signInEventTypes: ['nonInteractiveUser'],
    resourceDisplayName: 'Office 365 Exchange Online',
    status: { errorCode: 0, failureReason: null, additionalDetails: null },
    authenticationDetails: [],
    ...over,
  };
}

/** ECE's redemptions as each token account, 20 and 95 minutes before `now`. */
export function eceSignIns(env: EnvironmentFacts = facts(), now: Date = NOW) {
  const accounts = [
    ...new Set(
      env.mailboxes.map(m => (m.access === 'shared' && m.account ? m.account : m.address)),
    ),
  ];
  return accounts.flatMap(a => [
    signIn(a, iso(now, -20 * 60_000)),
    signIn(a, iso(now, -95 * 60_000)),
  ]);
}

/** Every observation of a run where every item passes, per the runner's contract. */
export function healthy(env: EnvironmentFacts = facts(), now: Date = NOW): Observation[] {
  const obs: Observation[] = [];
  const retrieves = new Set(env.mailboxes.map(m => m.retrieve));
  for (const s of env.servers) {
    if (env.ece.externalUrl) obs.push(https(s.name, env.ece.externalUrl));
    const hosts = [LOGIN, SMTP, ...(s.role === 'services' ? [OUTLOOK] : [])];
    for (const h of hosts) obs.push(dns(s.name, h));
    obs.push(tls(s.name, LOGIN, 443), tls(s.name, SMTP, 587));
    if (s.role === 'services') {
      if (retrieves.has('imap')) obs.push(tls(s.name, OUTLOOK, 993));
      if (retrieves.has('pop3')) obs.push(tls(s.name, OUTLOOK, 995));
      for (const m of env.mailboxes.filter(mb => mb.hasToken)) {
        const user = accountOf(m);
        obs.push(
          mailboxToken(s.name, m.address, {
            claims: claims(user, m.retrieve),
            lifetimeMinutes: 75,
          }),
          mail(m.retrieve, s.name, m.address),
          // SMTP AUTH is the signed-in account; the mailbox is the address it sends as.
          mail('smtp', s.name, m.address, { user }),
        );
      }
    }
  }
  if (env.probeConfigured) {
    const accounts = [...new Set(env.mailboxes.map(accountOf))];
    const names = [...new Set([...env.mailboxes.map(m => m.address), ...accounts])];
    obs.push(
      eceAppToken(),
      probeToken('graph'),
      graph('application', application(now)),
      graph('servicePrincipal', { id: 'sp-ece', appId: CLIENT_ID }),
      graph('grants', grants()),
      graph('resourceServicePrincipal', { appId: RESOURCE.GRAPH, oauth2PermissionScopes: [] }),
      graph('resourceServicePrincipal', { appId: RESOURCE.EXCHANGE, oauth2PermissionScopes: [] }),
      graph('signIns', eceSignIns(env, now), { window: { since: iso(now, -DAY), pages: 1 } }),
      // Licences are read on the account that signs in (a shared mailbox needs none).
      ...accounts.map(a => graph('licenseDetails', [E3], { mailbox: a })),
      ...names.map(a => directory(a)),
      probeToken('exchange'),
      exo('Get-TransportConfig', [{ SmtpClientAuthenticationDisabled: false }]),
      ...names.map(a => cas(a)),
      ...env.mailboxes.map(m =>
        permissions(m.address, [
          SELF,
          ...(m.access === 'shared'
            ? [{ User: m.account, AccessRights: ['FullAccess'], Deny: false, IsInherited: false }]
            : []),
        ]),
      ),
      ...env.mailboxes.map(m =>
        sendAs(m.address, [
          sendAsRow('NT AUTHORITY\\SELF'),
          ...(m.access === 'shared' && m.account ? [sendAsRow(m.account)] : []),
        ]),
      ),
    );
  }
  return obs;
}

/** A rule input from the healthy run after `change` edits a copy of it. */
export function edit(
  change: (obs: Observation[], env: EnvironmentFacts) => Observation[] | void = () => undefined,
  env: EnvironmentFacts = facts(),
  now: Date = NOW,
): RuleInput {
  const observations = structuredClone(healthy(env, now));
  const out = change(observations, env) ?? observations;
  return { env, observations: out, now };
}

/** Replace the observations matching `pick` with `make(old)`. */
export function swap<T extends Observation>(
  obs: Observation[],
  pick: (o: Observation) => o is T,
  make: (old: T) => Observation,
): Observation[] {
  let hit = false;
  const out = obs.map(o => {
    if (!pick(o)) return o;
    hit = true;
    return make(o);
  });
  if (!hit) throw new Error('swap: no observation matched');
  return out;
}

/** Type guards for `swap`. */
export const is = {
  token:
    (mailbox: string) =>
    (o: Observation): o is EntraTokenObservation =>
      o.kind === 'entra-token' && o.purpose === 'mailbox' && o.mailbox === mailbox,
  mail:
    (kind: 'imap' | 'pop3' | 'smtp', mailbox: string) =>
    (o: Observation): o is MailObservation =>
      o.kind === kind && o.mailbox === mailbox,
  graph:
    (resource: GraphObservation['resource'], mailbox?: string) =>
    (o: Observation): o is GraphObservation =>
      o.kind === 'graph' &&
      o.resource === resource &&
      (mailbox === undefined || o.mailbox === mailbox),
  exo:
    (cmdlet: ExoObservation['cmdlet'], identity?: string) =>
    (o: Observation): o is ExoObservation =>
      o.kind === 'exo' &&
      o.cmdlet === cmdlet &&
      (identity === undefined || o.identity === identity),
  tls:
    (vantage: string, port: number) =>
    (o: Observation): o is TlsObservation =>
      o.kind === 'tls' && o.vantage === vantage && o.port === port,
  dns:
    (vantage: string, host: string) =>
    (o: Observation): o is DnsObservation =>
      o.kind === 'dns' && o.vantage === vantage && o.host === host,
  https:
    (vantage: string) =>
    (o: Observation): o is HttpsObservation =>
      o.kind === 'https' && o.vantage === vantage,
  eceApp: (o: Observation): o is EntraTokenObservation =>
    o.kind === 'entra-token' && o.purpose === 'ece-app',
};

/** Drop the observations of `kind` (optionally only those matching `also`). */
export function drop(obs: Observation[], pred: (o: Observation) => boolean): Observation[] {
  return obs.filter(o => !pred(o));
}
