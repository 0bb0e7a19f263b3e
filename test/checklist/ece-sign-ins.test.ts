/**
 * ECE's own sign-ins (Entra's sign-in log) judged by the token item. Expectations from
 * checklist.md item 4 (the Kerberos/SSO workstation-user trap, InPrivate fix), o365-facts.md
 * §2.6 (access tokens last 60–90 minutes, so ECE redeems at least that often) and §3.4 (the
 * sign-in log: status.errorCode is the AADSTS number, 0 for success; non-interactive sign-ins
 * are token redemptions; the read needs AuditLog.Read.All and Entra ID P1).
 */
import { ECEBOT_USER_AGENT } from '../../src/model';
import { canonicalIp, eceSignInParts } from '../../src/checklist/ece-sign-ins';
import { token } from '../../src/checklist/token';
import type { EnvironmentFacts, Observation } from '../../src/model';
import {
  DAY,
  drop,
  edit,
  facts,
  graph,
  iso,
  JDOE,
  NOW,
  SALES,
  signIn,
  SUPPORT,
  SVC,
  swap,
} from './fixtures';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Replace the sign-in log read with these rows (a full 24 h window read in one page). */
const log =
  (rows: unknown[], over: Parameters<typeof graph<'signIns'>>[2] = {}) =>
  (obs: Observation[]) =>
    swap(
      obs,
      (o): o is Observation => o.kind === 'graph' && o.resource === 'signIns',
      () => graph('signIns', rows, { window: { since: iso(NOW, -DAY), pages: 1 }, ...over }),
    );

/** ECE's redemptions as `upn`, `minutesAgo` each. */
const redemptions = (upn: string, ...minutesAgo: number[]) =>
  minutesAgo.map(m => signIn(upn, iso(NOW, -m * MIN)));

const healthyRows = () => [...redemptions(SUPPORT, 20, 95), ...redemptions(SVC, 30, 105)];

const eceEvidence = (obs: ReturnType<typeof token>) =>
  obs.evidence.filter(e => e.text.startsWith('ECE (sign-in log): '));

describe("ECE's own sign-ins in the token item", () => {
  test('ECE redeeming as each account passes, and says it is ECE from the sign-in log', () => {
    const f = token(edit(log(healthyRows())));
    expect(f.status).toBe('pass');
    expect(f.summary).toContain('ECE (sign-in log): ECE signs in as');
    expect(eceEvidence(f).map(e => e.text)).toEqual([
      expect.stringContaining(`as ${SUPPORT} 20 min ago`),
      expect.stringContaining(`as ${SVC} 30 min ago`),
    ]);
    // ecebot's own test keeps its own label.
    expect(f.evidence.filter(e => e.text.startsWith('ecebot test token: '))).toHaveLength(2);
  });

  test('the client IP is compared with the ECE servers’ addresses when the inventory has them', () => {
    const base = facts();
    const env: EnvironmentFacts = {
      ...base,
      servers: base.servers.map(s =>
        s.role === 'services' ? { ...s, addresses: ['10.0.0.11', '2001:db8::11'] } : s,
      ),
    };
    const rows = [
      ...redemptions(SUPPORT, 20),
      signIn(SVC, iso(NOW, -30 * MIN), { ipAddress: '2001:DB8:0:0::11' }),
    ];
    const f = token(edit(log(rows), env));
    expect(eceEvidence(f).map(e => e.text)).toEqual([
      expect.stringContaining('from 10.0.0.11 (ECE server services-1)'),
      expect.stringContaining('from 2001:DB8:0:0::11 (ECE server services-1)'),
    ]);
    const other = token(
      edit(
        log([
          ...redemptions(SUPPORT, 20),
          signIn(SVC, iso(NOW, -30 * MIN), { ipAddress: '203.0.113.9' }),
        ]),
        env,
      ),
    );
    expect(eceEvidence(other)[1]?.text).toContain(
      "from 203.0.113.9, not an ECE server's address in the inventory",
    );
    // Without addresses in the inventory the IP is shown and not judged.
    expect(eceEvidence(token(edit(log(healthyRows()))))[0]?.text).toMatch(/from 10\.0\.0\.11$/);
  });

  test('ECE signing in as the workstation user (Kerberos/SSO) fails with the InPrivate fix', () => {
    const rows = [
      signIn(JDOE, iso(NOW, -20 * HOUR), {
        isInteractive: true,
        signInEventTypes: ['interactiveUser'],
        ipAddress: '192.0.2.50',
        clientAppUsed: 'Browser',
      }),
      ...redemptions(JDOE, 15, 90),
      ...redemptions(SVC, 30),
    ];
    const f = token(edit(log(rows)));
    // ecebot's test token is support@'s and right; ECE's own is jdoe@'s.
    expect(f).toMatchObject({ status: 'fail', code: 'ECE_SIGNS_IN_AS_OTHER_USER' });
    expect(f.summary).toContain(`ECE signs in as ${JDOE}, not as ${SUPPORT}`);
    expect(f.summary).toContain('Kerberos/SSO');
    const r = f.remediation.find(x => x.code === 'ECE_SIGNS_IN_AS_OTHER_USER')!;
    expect(r.text).toContain('workstation user');
    expect(r.fix).toBe(
      `ECE email account for ${SUPPORT} > Generate token, in an InPrivate window, signing in as ${SUPPORT}`,
    );
  });

  test('another user beside every account fails too, without guessing the mailbox', () => {
    const f = token(edit(log([...healthyRows(), ...redemptions(JDOE, 40)])));
    expect(f).toMatchObject({ status: 'fail', code: 'ECE_SIGNS_IN_AS_OTHER_USER' });
    expect(f.summary).toContain(`also signs in as ${JDOE}, which is no mailbox account`);
  });

  test("ECE's redemptions failing with AADSTS700082 fail the item with ECE's fix, although ecebot's test token works", () => {
    const rows = [
      ...redemptions(SUPPORT, 5 * 60, 6 * 60),
      ...[10, 85, 160].map(m =>
        signIn(SUPPORT, iso(NOW, -m * MIN), {
          status: {
            errorCode: 700082,
            failureReason: 'The refresh token has expired due to inactivity.',
          },
        }),
      ),
      ...redemptions(SVC, 30),
    ];
    const f = token(edit(log(rows)));
    expect(f).toMatchObject({ status: 'fail', code: 'AADSTS700082' });
    expect(f.summary).toContain(`ECE's token redemptions as ${SUPPORT}`);
    expect(eceEvidence(f)[0]?.text).toContain(
      'failures, newest first: AADSTS700082 10 min ago from 10.0.0.11, AADSTS700082 1 h 25 min ago',
    );
    const r = f.remediation.find(x => x.code === 'AADSTS700082')!;
    expect(r.text).toContain(`Regenerate the token in ECE for ${SUPPORT}`);
    expect(r.links.map(l => l.url)).toContain(
      'https://login.microsoftonline.com/error?code=700082',
    );
  });

  test('an unknown AADSTS number goes through the code table as ENTRA_ERROR', () => {
    const rows = [
      signIn(SUPPORT, iso(NOW, -10 * MIN), { status: { errorCode: 999999 } }),
      ...redemptions(SUPPORT, 60),
      ...redemptions(SVC, 30),
    ];
    expect(token(edit(log(rows)))).toMatchObject({ status: 'fail', code: 'ENTRA_ERROR' });
  });

  test('failures older than the last success are shown, not judged', () => {
    const rows = [
      ...redemptions(SUPPORT, 20),
      signIn(SUPPORT, iso(NOW, -95 * MIN), { status: { errorCode: 50173 } }),
      ...redemptions(SVC, 30),
    ];
    const f = token(edit(log(rows)));
    expect(f.status).toBe('pass');
    expect(eceEvidence(f)[0]?.text).toContain('AADSTS50173 1 h 35 min ago');
  });

  test.each([
    ['2 h 59 min', 179, undefined, 'pass'],
    ['3 h 1 min', 181, undefined, 'warn'],
    ['4 h with a 6 h gap', 240, 6 * HOUR, 'pass'],
    ['7 h with a 6 h gap', 420, 6 * HOUR, 'warn'],
  ] as const)('last redemption %s ago → %s', (_name, minutes, gap, status) => {
    const env = { ...facts(), ...(gap ? { maxSignInGapMs: gap } : {}) };
    const f = token(edit(log([...redemptions(SUPPORT, minutes), ...redemptions(SVC, 30)]), env));
    expect(f.status).toBe(status);
    if (status === 'warn') {
      expect(f.code).toBe('ECE_NOT_SIGNING_IN');
      expect(f.summary).toContain('so it has stopped reading');
      expect(eceEvidence(f)[0]?.text).toContain("Entra's log lags sign-ins by a few minutes");
      expect(f.remediation[0]?.text).toContain('60–90 minutes');
    }
  });

  test('no redemption in the whole window warns, naming the window', () => {
    const f = token(edit(log(redemptions(SUPPORT, 20))));
    expect(f).toMatchObject({ status: 'warn', code: 'ECE_NOT_SIGNING_IN' });
    expect(f.summary).toContain(`as ${SVC} for ${SALES} in the last 24 h`);
  });

  test('an interactive sign-in as the account is a person, not ECE reading', () => {
    const rows = [
      signIn(SUPPORT, iso(NOW, -10 * MIN), {
        isInteractive: true,
        signInEventTypes: ['interactiveUser'],
      }),
      ...redemptions(SUPPORT, 5 * 60),
      ...redemptions(SVC, 30),
    ];
    expect(token(edit(log(rows)))).toMatchObject({ status: 'warn', code: 'ECE_NOT_SIGNING_IN' });
  });

  test("ecebot's own redemptions of this run are not taken for ECE's", () => {
    // ecebot redeemed support@'s token at NOW (the fixture's startedAt); Entra logs it as ECE's.
    const rows = [
      signIn(SUPPORT, iso(NOW, 2000)),
      ...redemptions(SUPPORT, 5 * 60),
      ...redemptions(SVC, 30),
    ];
    expect(token(edit(log(rows)))).toMatchObject({ status: 'warn', code: 'ECE_NOT_SIGNING_IN' });
  });

  test("ecebot's redemptions of earlier runs, known by ecebot's User-Agent, are never blamed on ECE", () => {
    // An earlier run's test redemptions failed (ecebot's copy of the secret was wrong); ECE's
    // own redemptions, with another User-Agent, succeed.
    const ours = { userAgent: ECEBOT_USER_AGENT, status: { errorCode: 7000215 } };
    const rows = [
      signIn(SUPPORT, iso(NOW, -5 * MIN), ours),
      signIn(SUPPORT, iso(NOW, -65 * MIN), ours),
      ...redemptions(SUPPORT, 20, 95),
      ...redemptions(SVC, 30, 105),
    ];
    const f = token(edit(log(rows)));
    expect(f.codes).not.toContain('AADSTS7000215');
    expect(f.status).toBe('pass');
    // Without the User-Agent the same rows are ECE's failures.
    const theirs = rows.map(r => ({ ...r, userAgent: 'Java' }));
    expect(token(edit(log(theirs))).codes).toContain('AADSTS7000215');
  });

  test("other apps' rows and service-principal sign-ins are not ECE's user token", () => {
    const rows = [
      ...healthyRows(),
      signIn(JDOE, iso(NOW, -5 * MIN), { appId: '22222222-2222-2222-2222-222222222222' }),
      signIn(JDOE, iso(NOW, -5 * MIN), { signInEventTypes: ['servicePrincipal'] }),
    ];
    expect(token(edit(log(rows))).status).toBe('pass');
  });

  test('a read cut short by the page cap judges no absence it could not see', () => {
    const rows = [...redemptions(SUPPORT, 5, 10)];
    const f = token(
      edit(log(rows, { window: { since: iso(NOW, -DAY), pages: 4, truncated: 'pages' } })),
    );
    expect(f.status).toBe('pass');
    expect(f.summary).toContain(
      `the log read reaches back only 10 min, with no redemption as ${SVC}`,
    );
  });

  test.each([
    [
      'SIGN_IN_LOG_FORBIDDEN',
      403,
      "ecebot's read app lacks AuditLog.Read.All and Directory.Read.All",
    ],
    ['GRAPH_NO_PREMIUM', 403, 'the tenant has no Entra ID P1/P2'],
    ['GRAPH_THROTTLED', 429, 'Graph throttled the read'],
  ] as const)(
    'an unread log (%s) is a skip with the reason; ecebot’s test still decides',
    (code, status, reason) => {
      const f = token(edit(log([], { code, ok: false, status })));
      expect(f).toMatchObject({ status: 'pass' });
      expect(f.codes).toEqual([code]);
      expect(f.summary).toContain(`not checked: ECE (sign-in log): not read`);
      expect(f.summary).toContain(reason);
      expect(f.remediation[0]?.code).toBe(code);
    },
  );

  test('without probe credentials the log is not read, and the reason says so', () => {
    const parts = eceSignInParts({
      env: { ...facts(), probeConfigured: false },
      observations: drop(edit().observations, o => o.kind === 'graph'),
      now: NOW,
    });
    expect(parts).toEqual([expect.objectContaining({ status: 'skip', code: 'PROBE_UNAVAILABLE' })]);
    expect(parts[0]?.line).toContain('no probe credentials in the inventory');
  });
});

describe('IP addresses compared as addresses', () => {
  test.each([
    ['10.0.0.11', '10.0.0.11'],
    ['2001:DB8::11', '2001:db8:0:0:0:0:0:11'],
    ['2001:db8:0000::0011', '2001:db8:0:0:0:0:0:11'],
    ['::ffff:10.0.0.11', '10.0.0.11'],
    ['::1', '0:0:0:0:0:0:0:1'],
  ])('%s is %s', (a, b) => {
    expect(canonicalIp(a)).toBe(b);
  });
});
