import { appRegistration } from '../../src/checklist/app-registration';
import type { GraphReadObservation, Observation } from '../../src/model';
import { RESOURCE, SCOPE_ID } from '../../src/knowledge/permissions';
import {
  application,
  DAY,
  drop,
  eceAppToken,
  edit,
  facts,
  graph,
  grants,
  is,
  NOW,
  refused,
  swap,
  SUPPORT,
} from './fixtures';

const setApp = (over: Record<string, unknown>) => (obs: Observation[]) =>
  swap(obs, is.graph('application'), () => graph('application', application(NOW, over)));
const secretEnding = (...days: number[]) =>
  setApp({
    passwordCredentials: days.map((d, i) => ({
      displayName: `s${i}`,
      keyId: `k${i}`,
      startDateTime: new Date(NOW.getTime() - 400 * DAY).toISOString(),
      endDateTime: new Date(NOW.getTime() + d * DAY).toISOString(),
    })),
  });
const scopes = (...names: (keyof typeof SCOPE_ID)[]) =>
  setApp({
    requiredResourceAccess: [
      {
        resourceAppId: RESOURCE.GRAPH,
        resourceAccess: names.map(n => ({ id: SCOPE_ID[n], type: 'Scope' })),
      },
    ],
  });

type Change = (obs: Observation[]) => Observation[] | void;
/** Table rows as objects, so jest never mistakes a short row for a `done` callback. */
const rows = (r: [string, Change, string, string, string?][]) =>
  r.map(([name, change, status, code, summary]) => ({
    name,
    change,
    status,
    code,
    summary: summary ?? '',
  }));

describe('app-registration rule', () => {
  test.each(
    rows([
      ['healthy', () => undefined, 'pass', 'OK'],
      [
        'app not found',
        obs =>
          swap(obs, is.graph('application'), () =>
            graph('application', undefined, { code: 'GRAPH_NOT_FOUND', ok: false, status: 200 }),
          ),
        'fail',
        'ENTRA_APP_NOT_FOUND',
        'no app registration with client id',
      ],
      [
        'redirect on an old host',
        setApp({ web: { redirectUris: ['https://ece-old.example.com/system/oauth2/callback'] } }),
        'fail',
        'ENTRA_REDIRECT_MISMATCH',
        'no redirect URI on ece.example.com',
      ],
      [
        'no redirect at all',
        setApp({ web: { redirectUris: [] } }),
        'fail',
        'ENTRA_REDIRECT_MISMATCH',
        'registered: none',
      ],
      [
        'every secret expired',
        secretEnding(-2, -40),
        'fail',
        'ENTRA_SECRET_EXPIRED',
        'every client secret and certificate has expired',
      ],
      [
        'no credential',
        setApp({ passwordCredentials: [], keyCredentials: [] }),
        'fail',
        'ENTRA_SECRET_EXPIRED',
        'no client secret or certificate',
      ],
      [
        'expires in 10 days',
        secretEnding(10),
        'warn',
        'ENTRA_SECRET_EXPIRING',
        'expires in 10 days',
      ],
      [
        'expires in exactly 30 days',
        secretEnding(30),
        'warn',
        'ENTRA_SECRET_EXPIRING',
        'expires in 30 days',
      ],
      ['expires in 31 days', secretEnding(31), 'pass', 'OK'],
      [
        'soonest of two expires in 5 days',
        secretEnding(300, 5),
        'warn',
        'ENTRA_SECRET_EXPIRING',
        '(1 other credential still valid)',
      ],
      ['one expired, one valid', secretEnding(-5, 200), 'pass', 'OK'],
      [
        'offline_access not configured',
        scopes('IMAP.AccessAsUser.All', 'POP.AccessAsUser.All', 'SMTP.Send'),
        'fail',
        'ENTRA_PERMISSION_MISSING',
        'offline_access not configured',
      ],
      [
        'only Graph permissions of other kinds',
        setApp({
          requiredResourceAccess: [
            {
              resourceAppId: RESOURCE.GRAPH,
              resourceAccess: [{ id: SCOPE_ID['SMTP.Send'], type: 'Role' }],
            },
          ],
        }),
        'fail',
        'ENTRA_PERMISSION_MISSING',
      ],
      [
        'no consent grants',
        obs => swap(obs, is.graph('grants'), () => graph('grants', [])),
        'fail',
        'ENTRA_CONSENT_MISSING',
        'not consented',
      ],
      [
        'consent without POP',
        obs =>
          swap(obs, is.graph('grants'), () =>
            graph('grants', grants('IMAP.AccessAsUser.All SMTP.Send offline_access')),
          ),
        'fail',
        'ENTRA_CONSENT_MISSING',
        'POP.AccessAsUser.All not consented',
      ],
      [
        'no enterprise application',
        obs =>
          drop(
            swap(obs, is.graph('servicePrincipal'), () =>
              graph('servicePrincipal', undefined, { code: 'GRAPH_NOT_FOUND', ok: false }),
            ),
            is.graph('grants'),
          ),
        'fail',
        'ENTRA_CONSENT_MISSING',
        'no enterprise application',
      ],
      [
        '45-minute tokens',
        obs => swap(obs, is.token(SUPPORT), o => ({ ...o, lifetimeMinutes: 45 })),
        'fail',
        'ENTRA_TOKEN_LIFETIME_SHORT',
        'access tokens last 45 min',
      ],
      [
        'ECE app secret expired',
        obs =>
          swap(obs, is.eceApp, () =>
            eceAppToken({
              ok: false,
              code: 'AADSTS7000222',
              aadsts: 7000222,
              oauthError: 'invalid_client',
            }),
          ),
        'fail',
        'AADSTS7000222',
        "Entra refused the ECE app's own token request (AADSTS7000222)",
      ],
      [
        'ECE app secret wrong',
        obs =>
          swap(obs, is.eceApp, () =>
            eceAppToken({ ok: false, code: 'AADSTS7000215', aadsts: 7000215 }),
          ),
        'fail',
        'AADSTS7000215',
      ],
      [
        'mailbox refresh refused for consent',
        obs =>
          swap(obs, is.token(SUPPORT), () => refused('services-1', SUPPORT, 65001, 'AADSTS65001')),
        'fail',
        'AADSTS65001',
        `refreshing ${SUPPORT}'s token on services-1 failed with AADSTS65001`,
      ],
      [
        'Graph refused the reads',
        obs =>
          obs.map((o): Observation =>
            o.kind === 'graph'
              ? { ...o, ok: false, code: 'GRAPH_FORBIDDEN', status: 403, data: undefined }
              : o,
          ),
        'skip',
        'GRAPH_FORBIDDEN',
        'app registration not read (GRAPH_FORBIDDEN)',
      ],
    ]),
  )('$name → $status $code', ({ change, status, code, summary }) => {
    const f = appRegistration(edit(change));
    expect(f).toMatchObject({ item: 'app-registration', status, code });
    if (summary) expect(f.summary).toContain(summary);
    if (status !== 'pass') expect(f.remediation.map(r => r.code)).toEqual(f.codes);
  });

  test('the redirect URI host is compared with its port, exactly as the external URL has it', () => {
    const env = facts({
      ece: { version: '12.6(1)', es: 1, externalUrl: 'https://ece.example.com:8443' },
    });
    const bad = appRegistration(edit(undefined, env));
    expect(bad).toMatchObject({ status: 'fail', code: 'ENTRA_REDIRECT_MISMATCH' });
    expect(bad.summary).toContain('no redirect URI on ece.example.com:8443');
    const good = appRegistration(
      edit(
        setApp({ web: { redirectUris: ['https://ECE.example.com:8443/system/oauth2/callback'] } }),
        env,
      ),
    );
    expect(good.status).toBe('pass');
  });

  test('permission ids are resolved through the resource service principal (Exchange ids unverified)', () => {
    const ids = {
      'IMAP.AccessAsUser.All': 'e-1',
      'POP.AccessAsUser.All': 'e-2',
      'SMTP.Send': 'e-3',
    };
    const f = appRegistration(
      edit(obs =>
        swap(
          setApp({
            requiredResourceAccess: [
              {
                resourceAppId: RESOURCE.EXCHANGE,
                resourceAccess: Object.values(ids).map(id => ({ id, type: 'Scope' })),
              },
              {
                resourceAppId: RESOURCE.GRAPH,
                resourceAccess: [{ id: SCOPE_ID.offline_access, type: 'Scope' }],
              },
            ],
          })(obs),
          (o): o is GraphReadObservation<'resourceServicePrincipal'> =>
            o.kind === 'graph' &&
            o.resource === 'resourceServicePrincipal' &&
            o.data?.appId === RESOURCE.EXCHANGE,
          () =>
            graph('resourceServicePrincipal', {
              appId: RESOURCE.EXCHANGE,
              oauth2PermissionScopes: Object.entries(ids).map(([value, id]) => ({ id, value })),
            }),
        ),
      ),
    );
    expect(f.status).toBe('pass');
  });

  test('a missing permission is named in the fix', () => {
    const f = appRegistration(
      edit(scopes('IMAP.AccessAsUser.All', 'POP.AccessAsUser.All', 'offline_access')),
    );
    expect(f.remediation[0]?.fix).toContain('Delegated: SMTP.Send');
  });

  test('an expiring secret says in how many days, in summary and remediation', () => {
    const f = appRegistration(edit(secretEnding(9)));
    expect(f.remediation[0]?.text).toContain('9 days');
  });

  test('the registration itself is the main code when the secret expired (scenario secret-expired)', () => {
    const f = appRegistration(
      edit(obs =>
        swap(secretEnding(-2)(obs), is.eceApp, () =>
          eceAppToken({ ok: false, code: 'AADSTS7000222', aadsts: 7000222 }),
        ),
      ),
    );
    expect(f.code).toBe('ENTRA_SECRET_EXPIRED');
    expect(f.codes).toEqual(['ENTRA_SECRET_EXPIRED', 'AADSTS7000222']);
  });

  test('without probe credentials the Graph checks are skipped, the token lifetime still judged', () => {
    const env = facts({ probeConfigured: false });
    const f = appRegistration(edit(undefined, env));
    expect(f.status).toBe('skip');
    expect(f.summary).toContain('access tokens last 75 min');
    expect(f.summary).toContain(
      'registration, redirect URI, credentials and consent not read (no probe credentials in the inventory)',
    );
    expect(f.codes).toEqual(['PROBE_UNAVAILABLE']);
  });

  test('with nothing to judge at all it is a skip with the reason', () => {
    const env = facts({
      probeConfigured: false,
      mailboxes: facts().mailboxes.map(m => ({ ...m, hasToken: false })),
    });
    const f = appRegistration(edit(undefined, env));
    expect(f).toMatchObject({ status: 'skip', code: 'PROBE_UNAVAILABLE' });
  });

  test('a refused probe token is the reason, not a verdict on the ECE app', () => {
    const f = appRegistration(
      edit(obs =>
        drop(obs, o => o.kind === 'graph').map(o =>
          o.kind === 'entra-token' && o.purpose === 'probe-app' && o.scopes[0]?.includes('graph')
            ? { ...o, ok: false, code: 'AADSTS7000215' as const, aadsts: 7000215 }
            : o,
        ),
      ),
    );
    expect(f.status).toBe('skip');
    expect(f.summary).toContain("ecebot's probe app was refused a token (AADSTS7000215)");
  });
});
