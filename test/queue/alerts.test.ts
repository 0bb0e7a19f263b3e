/**
 * The alert decisions and forecasts are pure: table tests, fixtures in, decisions out.
 */
import type { ItemId, Run, Status } from '../../src/model';
import { decide, type AlertState } from '../../src/notify/alerts';
import { decisionMessage, digestMessage } from '../../src/notify/cards';
import { forecasts } from '../../src/notify/forecast';
import type { Observation } from '../../src/model';
import { findingOf } from './support';

const H = 3600_000;
const T0 = Date.UTC(2026, 10, 1);

function run(n: number, statuses: Partial<Record<ItemId, Status>>): Run {
  const findings = Object.entries(statuses).map(([item, status]) =>
    findingOf(item as ItemId, status!),
  );
  return {
    id: `prod-${n}`,
    environment: 'prod',
    startedAt: new Date(T0 + n * H).toISOString(),
    finishedAt: new Date(T0 + n * H).toISOString(),
    status: 'pass',
    ece: {},
    findings,
  };
}

/** Fold a sequence of (hour, network status) runs; list what each run decided. */
function fold(seq: [number, Status][], threshold = 2, reminderMs = 4 * H): string[][] {
  let state: AlertState = { items: {} };
  return seq.map(([hour, status]) => {
    const { next, decisions } = decide(
      state,
      run(hour, { network: status }),
      new Date(T0 + hour * H),
      {
        threshold,
        reminderMs,
      },
    );
    state = next;
    return decisions.map(d => `${d.kind}:${d.failures}`);
  });
}

describe('decide: alert after N consecutive failing runs, remind, recover once', () => {
  test.each<[string, [number, Status][], string[][], number]>([
    [
      'one failure is not an alert',
      [
        [0, 'fail'],
        [1, 'pass'],
      ],
      [[], []],
      2,
    ],
    [
      'two in a row alert once',
      [
        [0, 'fail'],
        [1, 'fail'],
        [2, 'fail'],
      ],
      [[], ['alert:2'], []],
      2,
    ],
    [
      'errors count as failures',
      [
        [0, 'error'],
        [1, 'fail'],
      ],
      [[], ['alert:2']],
      2,
    ],
    [
      'recovery once, then quiet',
      [
        [0, 'fail'],
        [1, 'fail'],
        [2, 'pass'],
        [3, 'pass'],
      ],
      [[], ['alert:2'], ['recovery:0'], []],
      2,
    ],
    [
      'warn is passing',
      [
        [0, 'fail'],
        [1, 'fail'],
        [2, 'warn'],
      ],
      [[], ['alert:2'], ['recovery:0']],
      2,
    ],
    [
      'skip neither fails nor recovers',
      [
        [0, 'fail'],
        [1, 'skip'],
        [2, 'fail'],
        [3, 'skip'],
      ],
      [[], [], ['alert:2'], []],
      2,
    ],
    [
      'a pass between failures resets the count',
      [
        [0, 'fail'],
        [1, 'pass'],
        [2, 'fail'],
        [3, 'fail'],
      ],
      [[], [], [], ['alert:2']],
      2,
    ],
    [
      'reminder every 4 hours while failing',
      [
        [0, 'fail'],
        [1, 'fail'],
        [3, 'fail'],
        [5, 'fail'],
        [9, 'fail'],
      ],
      [[], ['alert:2'], [], ['reminder:4'], ['reminder:5']],
      2,
    ],
    [
      'threshold 3',
      [
        [0, 'fail'],
        [1, 'fail'],
        [2, 'fail'],
      ],
      [[], [], ['alert:3']],
      3,
    ],
  ])('%s', (_name, seq, want, threshold) => {
    expect(fold(seq, threshold)).toEqual(want);
  });

  test('the same run folded twice (a retried job) decides nothing the second time', () => {
    const a = decide({ items: {} }, run(0, { network: 'fail' }), new Date(T0));
    const b = decide(a.next, run(1, { network: 'fail' }), new Date(T0 + H));
    expect(b.decisions.map(d => d.kind)).toEqual(['alert']);
    const again = decide(b.next, run(1, { network: 'fail' }), new Date(T0 + H));
    expect(again.decisions).toEqual([]);
    expect(again.next).toBe(b.next);
  });

  test('items are independent; one card per kind lists them all', () => {
    let s: AlertState = { items: {} };
    s = decide(s, run(0, { network: 'fail', token: 'fail', license: 'pass' }), new Date(T0)).next;
    const { decisions } = decide(
      s,
      run(1, { network: 'fail', token: 'fail', license: 'fail' }),
      new Date(T0 + H),
    );
    expect(decisions.map(d => d.kind)).toEqual(['alert', 'alert']);
    expect(decisions.map(d => d.item).sort()).toEqual(['network', 'token']);
    const m = decisionMessage('prod', 'prod-1', 'alert', decisions);
    expect(m.text).toBe(`prod: checks failing: ${decisions.map(d => d.item).join(', ')}`);
    expect(JSON.stringify(m.card)).toContain('2 scheduled runs in a row');
    expect(JSON.stringify(m.card).length).toBeLessThan(28 * 1024);
  });
});

describe('forecasts: Entra secrets and certificates, TLS certificates within 30 or 7 days', () => {
  const now = new Date(T0);
  const days = (n: number) => new Date(T0 + n * 24 * H).toISOString();
  const base = {
    vantage: 'central',
    ok: true,
    code: 'OK',
    stage: 'done',
    startedAt: days(0),
    durationMs: 1,
    steps: [],
  };
  const obs = [
    {
      ...base,
      kind: 'graph',
      target: 'application',
      resource: 'application',
      data: {
        passwordCredentials: [
          { displayName: 'ece-2026', endDateTime: days(6.5) },
          { displayName: 'old', endDateTime: days(-1) },
          { displayName: 'far', endDateTime: days(90) },
        ],
        keyCredentials: [{ displayName: 'CN=ece', endDateTime: days(29) }],
      },
    },
    {
      ...base,
      vantage: 'services-1',
      kind: 'tls',
      target: 'outlook.office365.com:993',
      cert: { validTo: days(12) },
    },
    {
      ...base,
      vantage: 'app-1',
      kind: 'tls',
      target: 'outlook.office365.com:993',
      cert: { validTo: days(12) },
    },
    {
      ...base,
      vantage: 'app-1',
      kind: 'https',
      target: 'https://ece.example.com',
      cert: { validTo: days(45) },
    },
  ] as unknown as Observation[];

  test('expiring within 30 days, urgent within 7, expired and far ones left out, duplicates merged', () => {
    expect(forecasts(obs, now).map(f => [f.kind, f.subject, f.days, f.within])).toEqual([
      ['entra-secret', 'ece-2026', 7, 7],
      ['tls-certificate', 'outlook.office365.com:993', 12, 30],
      ['entra-certificate', 'CN=ece', 29, 30],
    ]);
  });

  test('the digest card names each item', () => {
    const m = digestMessage('prod', forecasts(obs, now));
    expect(m.text).toBe('prod: 3 expiring within 30 days');
    expect(JSON.stringify(m.card)).toContain(
      '**Urgent** Entra client secret ece-2026 expires in 7 days',
    );
  });
});
