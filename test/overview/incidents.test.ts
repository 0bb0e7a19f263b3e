/**
 * The likely-incident rule on plain fixtures: one code failing in three or more distinct
 * tenants within 15 minutes (both ends inclusive). The thresholds are the product's rule
 * (docs/overview-and-webhook.md), so the fixtures sit on both sides of each boundary.
 */
import {
  INCIDENT_MIN_TENANTS,
  INCIDENT_WINDOW_MS,
  likelyIncidents,
  type FailureSighting,
} from '../../src/overview/incidents';

const T = ['aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002'];
const T3 = 'cccccccc-0000-4000-8000-000000000003';
const T4 = 'dddddddd-0000-4000-8000-000000000004';
const at = (min: number) => new Date(Date.UTC(2026, 11, 3, 9, 0) + min * 60_000);
const s = (code: FailureSighting['code'], tenantId: string, min: number): FailureSighting => ({
  code,
  tenantId,
  at: at(min),
});

describe('likelyIncidents', () => {
  it('the rule is three tenants within fifteen minutes', () => {
    expect(INCIDENT_MIN_TENANTS).toBe(3);
    expect(INCIDENT_WINDOW_MS).toBe(15 * 60_000);
  });

  it('two tenants are not an incident', () => {
    expect(likelyIncidents([s('MAIL_TEMPORARY', T[0]!, 0), s('MAIL_TEMPORARY', T[1]!, 1)])).toEqual(
      [],
    );
  });

  it('three tenants within the window are one, with their count and window', () => {
    const got = likelyIncidents([
      s('MAIL_TEMPORARY', T[0]!, 0),
      s('MAIL_TEMPORARY', T[1]!, 7),
      s('MAIL_TEMPORARY', T3, 15),
    ]);
    expect(got).toHaveLength(1);
    expect(got[0]!.code).toBe('MAIL_TEMPORARY');
    expect(got[0]!.tenantIds).toHaveLength(3);
    expect(got[0]!.from).toEqual(at(0));
    expect(got[0]!.to).toEqual(at(15));
  });

  it('three tenants spread over 16 minutes are not', () => {
    expect(
      likelyIncidents([
        s('MAIL_TEMPORARY', T[0]!, 0),
        s('MAIL_TEMPORARY', T[1]!, 8),
        s('MAIL_TEMPORARY', T3, 16),
      ]),
    ).toEqual([]);
  });

  it('the same tenant twice counts once (tenant ids compared case-insensitively)', () => {
    expect(
      likelyIncidents([
        s('MAIL_TEMPORARY', T[0]!, 0),
        s('MAIL_TEMPORARY', T[0]!.toUpperCase(), 2),
        s('MAIL_TEMPORARY', T[1]!, 4),
      ]),
    ).toEqual([]);
  });

  it('different codes do not add up', () => {
    expect(
      likelyIncidents([
        s('MAIL_TEMPORARY', T[0]!, 0),
        s('MAIL_TEMPORARY', T[1]!, 1),
        s('CONNECT_TIMEOUT', T3, 2),
      ]),
    ).toEqual([]);
  });

  it('a window later in the day counts even after an old lone failure', () => {
    const got = likelyIncidents([
      s('CONNECT_TIMEOUT', T4, -120),
      s('CONNECT_TIMEOUT', T[0]!, 0),
      s('CONNECT_TIMEOUT', T[1]!, 5),
      s('CONNECT_TIMEOUT', T3, 10),
    ]);
    expect(got.map(i => [i.code, i.tenantIds.length])).toEqual([['CONNECT_TIMEOUT', 3]]);
    expect(got[0]!.tenantIds).not.toContain(T4);
  });

  it('orders by tenant count, input order does not matter', () => {
    const input = [
      s('CONNECT_TIMEOUT', T3, 3),
      s('MAIL_TEMPORARY', T[0]!, 0),
      s('CONNECT_TIMEOUT', T[0]!, 1),
      s('MAIL_TEMPORARY', T4, 9),
      s('MAIL_TEMPORARY', T[1]!, 4),
      s('CONNECT_TIMEOUT', T[1]!, 2),
      s('MAIL_TEMPORARY', T3, 6),
    ];
    const got = likelyIncidents(input);
    expect(got.map(i => [i.code, i.tenantIds.length])).toEqual([
      ['MAIL_TEMPORARY', 4],
      ['CONNECT_TIMEOUT', 3],
    ]);
    expect(likelyIncidents([...input].reverse())).toEqual(got);
  });
});
