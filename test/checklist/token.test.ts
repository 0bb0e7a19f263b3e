import { token } from '../../src/checklist/token';
import type { EntraTokenObservation, Observation } from '../../src/model';
import {
  claims,
  drop,
  edit,
  facts,
  is,
  JDOE,
  refused,
  SALES,
  swap,
  SUPPORT,
  SVC,
} from './fixtures';

const claimed = (mailbox: string, c: EntraTokenObservation['claims']) => (obs: Observation[]) =>
  swap(obs, is.token(mailbox), o => ({ ...o, claims: c }));

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

describe('token rule', () => {
  test.each(
    rows([
      ['healthy', () => undefined, 'pass', 'OK', 'belong to the right account'],
      [
        'UPN in another case',
        claimed(SUPPORT, claims('Support@Example.COM', 'imap')),
        'pass',
        'OK',
      ],
      [
        'v2 preferred_username',
        claimed(SUPPORT, {
          ...claims(SUPPORT, 'imap'),
          upn: undefined,
          preferred_username: SUPPORT,
        }),
        'pass',
        'OK',
      ],
      [
        'audience with trailing slash',
        claimed(SUPPORT, claims(SUPPORT, 'imap', { aud: 'https://outlook.office365.com/' })),
        'pass',
        'OK',
      ],
      [
        'workstation user (Kerberos)',
        claimed(SUPPORT, claims(JDOE, 'imap', { amr: ['wia'] })),
        'fail',
        'ECE_TOKEN_WRONG_USER',
        `${SUPPORT}: the token belongs to ${JDOE}, not ${SUPPORT} (amr "wia": signed in silently with Windows Integrated Authentication, i.e. Kerberos/SSO); regenerate it in an InPrivate window signing in as ${SUPPORT}`,
      ],
      [
        'shared mailbox token for the mailbox, not the account',
        claimed(SALES, claims(SALES, 'pop3')),
        'fail',
        'ECE_TOKEN_WRONG_USER',
        `the token belongs to ${SALES}, not ${SVC}`,
      ],
      [
        'Graph audience',
        claimed(SUPPORT, claims(SUPPORT, 'imap', { aud: '00000003-0000-0000-c000-000000000000' })),
        'fail',
        'ECE_TOKEN_WRONG_AUDIENCE',
        'is not Exchange Online',
      ],
      [
        'no SMTP.Send',
        claimed(SUPPORT, claims(SUPPORT, 'imap', { scp: 'IMAP.AccessAsUser.All' })),
        'fail',
        'ECE_TOKEN_SCOPE_MISSING',
        'lacks SMTP.Send',
      ],
      [
        'IMAP scope on a POP3 mailbox',
        claimed(SALES, claims(SVC, 'imap')),
        'fail',
        'ECE_TOKEN_SCOPE_MISSING',
        'lacks POP.AccessAsUser.All',
      ],
      [
        'refresh token stale',
        obs =>
          swap(obs, is.token(SUPPORT), () =>
            refused('services-1', SUPPORT, 700082, 'AADSTS700082'),
          ),
        'fail',
        'AADSTS700082',
        'Entra refused to refresh its token on services-1 (AADSTS700082)',
      ],
      [
        'unknown AADSTS',
        obs =>
          swap(obs, is.token(SUPPORT), () => refused('services-1', SUPPORT, 123456, 'ENTRA_ERROR')),
        'fail',
        'ENTRA_ERROR',
      ],
      [
        // ECE's own sign-ins (in the healthy fixture) establish the item; the gap is named.
        'Entra unreachable, ECE seen signing in',
        obs =>
          swap(obs, is.token(SUPPORT), o => ({
            ...o,
            ok: false,
            code: 'ENTRA_UNREACHABLE' as const,
          })),
        'pass',
        'OK',
        'not checked: support@example.com: Entra ID could not be reached from services-1',
      ],
      [
        // Without the sign-in log nothing establishes support@'s token: never a pass.
        'Entra unreachable, no sign-in log',
        obs =>
          drop(
            swap(obs, is.token(SUPPORT), o => ({
              ...o,
              ok: false,
              code: 'ENTRA_UNREACHABLE' as const,
            })),
            o => o.read === 'graph-sign-ins',
          ),
        'skip',
        'ENTRA_UNREACHABLE',
        'support@example.com: Entra ID could not be reached from services-1',
      ],
      [
        'crashed probe',
        obs =>
          swap(obs, is.token(SUPPORT), o => ({ ...o, ok: false, code: 'CHECK_CRASHED' as const })),
        'error',
        'CHECK_CRASHED',
      ],
    ]),
  )('$name → $status $code', ({ change, status, code, summary }) => {
    const f = token(edit(change));
    expect(f).toMatchObject({ item: 'token', status, code });
    if (summary) expect(f.summary).toContain(summary);
    if (status === 'fail') expect(f.failedOn).toEqual(['services-1']);
  });

  test('the wrong-user remediation says InPrivate and the account to sign in as', () => {
    const f = token(edit(claimed(SALES, claims(JDOE, 'pop3', { amr: ['wia'] }))));
    expect(f.remediation[0]?.text).toContain('InPrivate');
    expect(f.remediation[0]?.fix).toBe(
      `ECE email account for ${SALES} > Generate token, in an InPrivate window, signing in as ${SVC}`,
    );
  });

  test('evidence shows the claims, never the token', () => {
    const f = token(edit(claimed(SUPPORT, claims(JDOE, 'imap', { amr: ['wia'] }))));
    expect(f.evidence[0]?.text).toBe(
      `ecebot test token: token for ${JDOE}, amr wia, aud https://outlook.office.com, scp IMAP.AccessAsUser.All SMTP.Send, lasts 75 min`,
    );
  });

  test('a missing scope is named in the fix', () => {
    const f = token(edit(claimed(SUPPORT, claims(SUPPORT, 'imap', { scp: 'SMTP.Send' }))));
    expect(f.remediation[0]?.fix).toContain('IMAP.AccessAsUser.All');
  });

  test('no token configured for any mailbox and no sign-in log → skip with how to fix it', () => {
    const env = facts({ mailboxes: facts().mailboxes.map(m => ({ ...m, hasToken: false })) });
    const f = token(
      edit(
        obs =>
          drop(
            obs,
            o =>
              (o.kind === 'entra-token' && o.purpose === 'mailbox') ||
              (o.kind === 'graph' && o.resource === 'signIns'),
          ),
        // Without probe credentials the sign-in log is not read either.
        { ...env, probeConfigured: false },
      ),
    );
    expect(f).toMatchObject({
      status: 'skip',
      code: 'ECE_TOKEN_MISSING',
      codes: ['ECE_TOKEN_MISSING', 'PROBE_UNAVAILABLE'],
    });
    expect(f.remediation[0]?.fix).toContain(`signin prod ${SUPPORT}`);
    expect(f.remediation[0]?.fix).toContain(`signin prod ${SALES}`);
  });

  test("no test token, but ECE signs in as each account → pass on ECE's own evidence", () => {
    const env = facts({ mailboxes: facts().mailboxes.map(m => ({ ...m, hasToken: false })) });
    const f = token(
      edit(obs => drop(obs, o => o.kind === 'entra-token' && o.purpose === 'mailbox'), env),
    );
    expect(f).toMatchObject({ status: 'pass', codes: ['ECE_TOKEN_MISSING'] });
    expect(f.evidence.map(e => e.text)).toEqual([
      expect.stringMatching(/^ECE \(sign-in log\): last successful token redemption as support@/),
      expect.stringMatching(/^ECE \(sign-in log\): last successful token redemption as svc-ece@/),
    ]);
  });

  test('one mailbox without a token is named as not checked while the other passes', () => {
    const env = facts({
      mailboxes: facts().mailboxes.map(m => (m.address === SALES ? { ...m, hasToken: false } : m)),
    });
    // With ECE's sign-ins in the log, the item stands on them and names the untested mailbox.
    const f = token(edit(undefined, env));
    expect(f.status).toBe('pass');
    expect(f.summary).toContain(`not checked: ${SALES}: no token configured for ecebot`);
    // Without them, sales@'s token is established by nothing: the item is not a pass.
    const g = token(edit(obs => drop(obs, o => o.read === 'graph-sign-ins'), env));
    expect(g.status).toBe('skip');
    expect(g.summary).toContain(`${SALES}: no token configured for ecebot`);
    expect(g.summary).toContain(`established: ${SUPPORT}`);
  });

  test('a configured token no services server refreshed is not passed silently', () => {
    const f = token(edit(obs => drop(obs, is.token(SALES))));
    expect(f.summary).toContain(`${SALES}: no services server refreshed its token`);
    expect(f.codes).toEqual(['NO_WORKER']);
  });
});
