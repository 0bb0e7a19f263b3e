/**
 * Drift and staleness are pure: plain fixtures of observations in, facts, changes and decisions
 * out. Field meanings from Microsoft's references: Get-CASMailbox ImapEnabled/PopEnabled and
 * SmtpClientAuthenticationDisabled (true disables, false enables, null follows
 * Get-TransportConfig; o365-facts.md §3.5), Graph application passwordCredentials (keyId,
 * displayName, endDateTime; §3.1), oAuth2PermissionGrant consentType AllPrincipals (§3.2).
 */
import type { EnvironmentFacts, Observation, Run } from '../../src/model';
import { MemoryNoticeMemory, NoticeWatch } from '../../src/notify/notices';
import type { OutboxItem } from '../../src/notify/outbox';
import { DRIFT_LIMITS, foldFacts, readFacts, type DriftState } from '../../src/notify/drift';
import { changeLine, driftMessage, staleMessage } from '../../src/notify/notice-cards';
import { decideStale, signInReadings, type StaleState } from '../../src/notify/staleness';

const T0 = Date.UTC(2026, 10, 29, 14, 0);
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const base = { vantage: 'central', stage: 'done', startedAt: at(0), durationMs: 1, steps: [] };

function cas(mailbox: string, imap: boolean, pop = true, smtp: boolean | null = null): Observation {
  return {
    ...base,
    kind: 'exo',
    cmdlet: 'Get-CASMailbox',
    identity: mailbox,
    mailbox,
    target: 'outlook.office365.com:443',
    ok: true,
    code: 'OK',
    data: [{ ImapEnabled: imap, PopEnabled: pop, SmtpClientAuthenticationDisabled: smtp }],
  } as Observation;
}

function failedCas(mailbox: string): Observation {
  return {
    ...base,
    kind: 'exo',
    cmdlet: 'Get-CASMailbox',
    identity: mailbox,
    mailbox,
    target: 'outlook.office365.com:443',
    ok: false,
    code: 'EXO_FORBIDDEN',
    status: 403,
  } as unknown as Observation;
}

function app(secrets: { keyId: string; displayName: string; endDateTime: string }[]): Observation {
  return {
    ...base,
    kind: 'graph',
    resource: 'application',
    target: 'graph.microsoft.com:443',
    ok: true,
    code: 'OK',
    data: {
      web: { redirectUris: ['https://ece.example.com/system/oauth2/callback'] },
      passwordCredentials: secrets,
      requiredResourceAccess: [
        {
          resourceAppId: '00000002-0000-0ff1-ce00-000000000000',
          resourceAccess: [{ id: '652390e4-393a-48de-9484-05f9b1212954', type: 'Scope' }],
        },
      ],
    },
  } as Observation;
}

function rights(mailbox: string, fullAccess: string[]): Observation {
  return {
    ...base,
    kind: 'exo',
    cmdlet: 'Get-MailboxPermission',
    identity: mailbox,
    mailbox,
    target: 'outlook.office365.com:443',
    ok: true,
    code: 'OK',
    data: [
      { User: 'NT AUTHORITY\\SELF', AccessRights: ['FullAccess', 'ReadPermission'] },
      ...fullAccess.map(u => ({ User: u, AccessRights: ['FullAccess'] })),
      { User: 'denied@example.com', AccessRights: ['FullAccess'], Deny: true },
    ],
  } as Observation;
}

const run = (n: number, min: number) => ({ id: `prod-${n}`, finishedAt: at(min) });
const SUPPORT = 'support@example.com';

describe('drift: facts read in both runs, compared', () => {
  test('IMAP turned off between two passing runs is one change with its window', () => {
    let s: DriftState = { facts: {} };
    const first = foldFacts(s, run(1, 0), readFacts([cas(SUPPORT, true)]));
    expect(first.changes).toEqual([]);
    s = first.next;
    const second = foldFacts(s, run(2, 5), readFacts([cas(SUPPORT, false)]));
    expect(second.changes).toEqual([
      {
        field: 'imap',
        subject: SUPPORT,
        before: true,
        after: false,
        added: [],
        removed: [],
        since: at(0),
        until: at(5),
        sinceRunId: 'prod-1',
      },
    ]);
    expect(changeLine(second.changes[0]!, 'en')).toBe(
      `IMAP was turned off for **support@example.com** between 2026-11-29 14:00 UTC and 2026-11-29 14:05 UTC`,
    );
    expect(changeLine(second.changes[0]!, 'nl')).toBe(
      `IMAP is uitgezet voor **support@example.com** tussen 2026-11-29 14:00 UTC en 2026-11-29 14:05 UTC`,
    );
  });

  test('a read that failed is no change, and the next read is compared with the last one read', () => {
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([cas(SUPPORT, true)]));
    const two = foldFacts(one.next, run(2, 5), readFacts([failedCas(SUPPORT)]));
    expect(two.changes).toEqual([]);
    const three = foldFacts(two.next, run(3, 10), readFacts([cas(SUPPORT, false)]));
    expect(three.changes.map(c => [c.field, c.since, c.until])).toEqual([['imap', at(0), at(10)]]);
  });

  test('a run that did not read a fact at all is no change either', () => {
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([cas(SUPPORT, true)]));
    const two = foldFacts(one.next, run(2, 5), readFacts([]));
    expect(two.changes).toEqual([]);
    expect(two.next.facts['imap|support@example.com']?.value).toBe(true);
  });

  test('the same run folded twice (a retried job) tells nothing the second time', () => {
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([cas(SUPPORT, true)]));
    const two = foldFacts(one.next, run(2, 5), readFacts([cas(SUPPORT, false)]));
    const again = foldFacts(two.next, run(2, 5), readFacts([cas(SUPPORT, false)]));
    expect(two.changes).toHaveLength(1);
    expect(again.changes).toEqual([]);
    expect(again.next).toBe(two.next);
  });

  test('SMTP AUTH: null follows the organisation, true disables (o365-facts.md §3.5)', () => {
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([cas(SUPPORT, true, true, null)]));
    const two = foldFacts(one.next, run(2, 5), readFacts([cas(SUPPORT, true, true, true)]));
    expect(two.changes.map(c => changeLine(c, 'en'))).toEqual([
      'SMTP AUTH for **support@example.com** changed from the organisation setting to off between 2026-11-29 14:00 UTC and 2026-11-29 14:05 UTC',
    ]);
  });

  test('a new client secret is named by keyId, display name and expiry; the value never is', () => {
    const old = { keyId: 'k-1', displayName: 'ece-2026', endDateTime: '2027-01-01T00:00:00Z' };
    const renewed = { keyId: 'k-2', displayName: 'ece-2027', endDateTime: '2028-01-01T00:00:00Z' };
    const withValue = { ...renewed, secretText: 'S3cr3t~value', hint: 'S3c' };
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([app([old])]));
    const two = foldFacts(one.next, run(2, 5), readFacts([app([old, withValue])]));
    expect(two.changes.map(c => [c.field, c.added, c.removed])).toEqual([
      ['credentials', ['secret k-2 "ece-2027" until 2028-01-01T00:00:00Z'], []],
    ]);
    const m = JSON.stringify(driftMessage('prod', 'prod-2', two.changes));
    expect(m).toContain('k-2');
    expect(m).not.toContain('S3cr3t');
    expect(JSON.stringify(two.next)).not.toContain('S3cr3t');
  });

  test("Full Access: the mailbox's own SELF row and denied rows are not trustees", () => {
    const one = foldFacts(
      { facts: {} },
      run(1, 0),
      readFacts([rights('sales@example.com', ['svc-ece@example.com'])]),
    );
    expect(one.next.facts['fullAccess|sales@example.com']?.value).toEqual(['svc-ece@example.com']);
    const two = foldFacts(one.next, run(2, 5), readFacts([rights('sales@example.com', [])]));
    expect(two.changes.map(c => changeLine(c, 'en'))).toEqual([
      'Full Access on **sales@example.com** between 2026-11-29 14:00 UTC and 2026-11-29 14:05 UTC: removed svc-ece@example.com',
    ]);
  });

  test('a licence change says the CAS mailbox plan is re-applied', () => {
    const lic = (plans: string[]): Observation =>
      ({
        ...base,
        kind: 'graph',
        resource: 'licenseDetails',
        mailbox: SUPPORT,
        target: 'graph.microsoft.com:443',
        ok: true,
        code: 'OK',
        data: [
          {
            skuPartNumber: 'ENTERPRISEPACK',
            servicePlans: plans.map(p => ({ servicePlanName: p, provisioningStatus: 'Success' })),
          },
        ],
      }) as Observation;
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([lic(['EXCHANGE_S_ENTERPRISE'])]));
    const two = foldFacts(one.next, run(2, 5), readFacts([lic(['EXCHANGE_S_STANDARD'])]));
    const m = JSON.stringify(driftMessage('prod', 'prod-2', two.changes));
    expect(m).toContain('ENTERPRISEPACK EXCHANGE\\\\_S\\\\_STANDARD Success');
    expect(m).toContain('CAS mailbox plan');
    expect(m).toContain('CAS-postvakplan');
  });

  test('what is kept is bounded: sets are cut, old facts forgotten', () => {
    const many = Array.from(
      { length: DRIFT_LIMITS.maxEntries + 50 },
      (_, i) => `u${i}@example.com`,
    );
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([rights(SUPPORT, many)]));
    const v = one.next.facts['fullAccess|support@example.com']!.value as string[];
    expect(v).toHaveLength(DRIFT_LIMITS.maxEntries);
    expect(v.at(-1)).toBe('… 51 more');
    const later = foldFacts(
      one.next,
      { id: 'prod-2', finishedAt: new Date(T0 + DRIFT_LIMITS.keepMs + 60_000).toISOString() },
      [],
    );
    expect(later.next.facts).toEqual({});
  });

  test('outside text is escaped for Teams markdown (src/render/escape.ts: no link, no live URL)', () => {
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([rights(SUPPORT, [])]));
    const two = foldFacts(one.next, run(2, 5), readFacts([rights(SUPPORT, ['[x](https://evil)'])]));
    expect(changeLine(two.changes[0]!, 'en')).toContain('added \\[x\\](https:\u2060//evil)');
  });

  test('the notification preview is plain text; the card escapes', () => {
    const box = 'first_line@example.com';
    const one = foldFacts({ facts: {} }, run(1, 0), readFacts([cas(box, true)]));
    const two = foldFacts(one.next, run(2, 5), readFacts([cas(box, false)]));
    const m = driftMessage('prod', 'prod-2', two.changes);
    expect(m.text).toBe(
      'prod: IMAP was turned off for first_line@example.com between 2026-11-29 14:00 UTC and 2026-11-29 14:05 UTC',
    );
    expect(JSON.stringify(m.card)).toContain('**first\\\\_line@example.com**');
  });
});

describe('staleness: ECE sign-ins per mailbox, judged only when the log was read', () => {
  const env: EnvironmentFacts = {
    name: 'prod',
    ece: { version: '12.6(1)', es: 1 },
    servers: [{ name: 'services-1', role: 'services' }],
    tenantId: 't',
    app: { clientId: 'ece-app' },
    mailboxes: [
      { address: SUPPORT, access: 'mailbox', retrieve: 'imap', hasToken: true },
      {
        address: 'sales@example.com',
        access: 'shared',
        account: 'svc-ece@example.com',
        retrieve: 'pop3',
        hasToken: true,
      },
    ],
    probeConfigured: true,
    slowMs: 2000,
    maxSignInGapMs: 3 * 3_600_000,
  };
  const H = 3_600_000;
  const now = new Date(T0);
  const signIn = (user: string, agoMs: number, errorCode = 0) => ({
    createdDateTime: new Date(T0 - agoMs).toISOString(),
    userPrincipalName: user,
    appId: 'ece-app',
    status: { errorCode },
    isInteractive: false,
    signInEventTypes: ['nonInteractiveUser'],
  });
  const log = (rows: unknown[], ok = true): Observation =>
    ({
      ...base,
      kind: 'graph',
      resource: 'signIns',
      target: 'graph.microsoft.com:443',
      ok,
      code: ok ? 'OK' : 'SIGN_IN_LOG_FORBIDDEN',
      ...(ok ? { data: rows } : { status: 403 }),
      window: { since: new Date(T0 - 26 * H).toISOString(), pages: 1 },
    }) as unknown as Observation;

  test('per mailbox, through the shared account', () => {
    const r = signInReadings(
      env,
      [log([signIn(SUPPORT, 4 * H), signIn('svc-ece@example.com', 10 * 60_000)])],
      now,
    );
    expect(r?.map(x => [x.mailbox, x.account, x.lastSuccessAt])).toEqual([
      [SUPPORT, SUPPORT, at(-240)],
      ['sales@example.com', 'svc-ece@example.com', at(-10)],
    ]);
  });

  test('no AuditLog permission: no verdict, nothing forgotten', () => {
    expect(signInReadings(env, [log([], false)], now)).toBeUndefined();
    expect(signInReadings(env, [], now)).toBeUndefined();
    const prev: StaleState = { stale: { [SUPPORT]: {} } };
    const d = decideStale(prev, 'prod-2', undefined, now, 3 * H);
    expect(d.decisions).toEqual([]);
    expect(d.next.stale).toEqual(prev.stale);
  });

  test('stale once past the threshold, not again, resumed once', () => {
    const gap = 3 * H;
    const step = (s: StaleState, id: string, ago: number | undefined, t: Date) =>
      decideStale(
        s,
        id,
        [
          {
            mailbox: SUPPORT,
            account: SUPPORT,
            ...(ago !== undefined
              ? { lastSuccessAt: new Date(t.getTime() - ago).toISOString() }
              : {}),
            lookedBackMs: 26 * H,
          },
        ],
        t,
        gap,
      );
    const a = step({ stale: {} }, 'r1', 2 * H, now);
    expect(a.decisions).toEqual([]);
    const b = step(a.next, 'r2', gap + 60_000, now);
    expect(b.decisions.map(d => d.kind)).toEqual(['stale']);
    const c = step(b.next, 'r3', gap + 2 * H, now);
    expect(c.decisions).toEqual([]);
    const d = step(c.next, 'r4', 10 * 60_000, now);
    expect(d.decisions.map(x => x.kind)).toEqual(['resumed']);
    const e = step(d.next, 'r5', undefined, now);
    expect(e.decisions.map(x => x.kind)).toEqual(['stale']);
    const m = staleMessage('prod', 'r5', 'stale', e.decisions);
    expect(m.text).toBe('prod: ECE has stopped reading support@example.com');
    expect(JSON.stringify(m.card)).toContain('ECE leest **support@example.com** niet meer');
  });

  test('a read that looked back less than the threshold and found nothing proves nothing', () => {
    const d = decideStale(
      { stale: {} },
      'r1',
      [{ mailbox: SUPPORT, account: SUPPORT, lookedBackMs: H }],
      now,
      3 * H,
    );
    expect(d.decisions).toEqual([]);
  });
});

describe('notices in memory: the same folding without Redis', () => {
  function watch(memory: MemoryNoticeMemory, muted = false) {
    const queued: { id: string; text: string }[] = [];
    const w = new NoticeWatch({
      memory,
      muted: () => Promise.resolve(muted),
      outbox: {
        enqueue: (item: OutboxItem, id?: string) => {
          queued.push({ id: id ?? '', text: item.message.text ?? '' });
          return Promise.resolve(id ?? '');
        },
      },
      audienceOf: () => Promise.resolve(['c1', 'c2']),
    });
    return { w, queued };
  }
  const runOf = (n: number, min: number): Run => ({
    id: `prod-${n}`,
    environment: 'prod',
    startedAt: at(min),
    finishedAt: at(min),
    status: 'pass',
    ece: {},
    findings: [],
  });

  test('one card per conversation with an id of kind, run and conversation; a retried run queues nothing', async () => {
    const memory = new MemoryNoticeMemory();
    const { w, queued } = watch(memory);
    await w.afterRun(runOf(1, 0), [cas(SUPPORT, true)]);
    await w.afterRun(runOf(2, 5), [cas(SUPPORT, false)]);
    await w.afterRun(runOf(2, 5), [cas(SUPPORT, false)]);
    expect(queued.map(q => q.id)).toEqual(['drift-prod-2-c1', 'drift-prod-2-c2']);
    expect(queued[0]!.text).toBe(
      'prod: IMAP was turned off for support@example.com between 2026-11-29 14:00 UTC and 2026-11-29 14:05 UTC',
    );
  });

  test('a stored state that does not parse (Redis is a trust boundary) is a fresh start', async () => {
    const memory = new MemoryNoticeMemory();
    await memory.set('drift', 'prod', '{"facts":{"imap|x":{"field":"rm -rf","value":1}}}');
    await memory.set('stale', 'prod', 'not json');
    const { w, queued } = watch(memory);
    expect(await w.driftState('prod')).toEqual({ facts: {} });
    expect(await w.staleState('prod')).toEqual({ stale: {} });
    await w.afterRun(runOf(1, 0), [cas(SUPPORT, false)]);
    expect(queued).toEqual([]);
  });
});
