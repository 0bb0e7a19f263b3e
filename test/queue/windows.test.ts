/**
 * Maintenance windows are pure: fixtures in, open or not out. The DST dates come from the EU
 * rule (Directive 2000/84/EC: summer time starts and ends at 01:00 UTC on the last Sunday of
 * March and of October) and the US rule (Energy Policy Act of 2005: second Sunday of March and
 * first Sunday of November at 02:00 local time); times are written as UTC instants so the
 * expectation does not depend on the code under test.
 */
import {
  inWindow,
  isOpen,
  knownTimeZone,
  parseInstant,
  windowEnd,
  type MaintenanceWindow,
  type WeeklyWindow,
} from '../../src/notify/windows';

const at = (iso: string) => new Date(iso);

describe('one-off windows', () => {
  const w: MaintenanceWindow = {
    kind: 'once',
    from: '2026-12-05T22:00:00.000Z',
    to: '2026-12-06T02:00:00.000Z',
  };
  test.each([
    ['2026-12-05T21:59:59Z', false],
    ['2026-12-05T22:00:00Z', true],
    ['2026-12-06T01:59:59Z', true],
    ['2026-12-06T02:00:00Z', false],
  ])('%s open: %s', (t, open) => {
    expect(isOpen(at(t), w)).toBe(open);
    expect(inWindow(at(t), [w])).toBe(open ? w : undefined);
  });

  test('ends at its end', () => {
    expect(windowEnd(at('2026-12-05T23:00:00Z'), w)?.toISOString()).toBe(w.to);
    expect(windowEnd(at('2026-12-06T03:00:00Z'), w)).toBeUndefined();
  });
});

describe('weekly windows in a time zone', () => {
  // Saturday 22:00 to Sunday 02:00 Amsterdam time (past midnight).
  const night: WeeklyWindow = {
    kind: 'weekly',
    days: ['sat'],
    from: '22:00',
    to: '02:00',
    tz: 'Europe/Amsterdam',
  };

  test.each([
    // 2026-12-05 is a Saturday; Amsterdam is UTC+1 in winter.
    ['Sat 21:59 local', '2026-12-05T20:59:00Z', false],
    ['Sat 22:00 local', '2026-12-05T21:00:00Z', true],
    ['Sun 01:59 local', '2026-12-06T00:59:00Z', true],
    ['Sun 02:00 local', '2026-12-06T01:00:00Z', false],
    ['Fri 23:00 local (not a listed day)', '2026-12-04T22:00:00Z', false],
    ['Sun 23:00 local (the evening part is Saturday only)', '2026-12-06T22:00:00Z', false],
    // Summer: UTC+2.
    ['Sat 22:30 local in July', '2026-07-04T20:30:00Z', true],
    ['Sat 21:30 local in July', '2026-07-04T19:30:00Z', false],
  ])('%s', (_name, t, open) => {
    expect(isOpen(at(t), night)).toBe(open);
  });

  test('ends at 02:00 local, whatever the offset', () => {
    expect(windowEnd(at('2026-12-05T23:00:00Z'), night)?.toISOString()).toBe(
      '2026-12-06T01:00:00.000Z',
    );
    expect(windowEnd(at('2026-07-04T21:00:00Z'), night)?.toISOString()).toBe(
      '2026-07-05T00:00:00.000Z',
    );
  });

  // EU 2026: summer time ends Sunday 25 October at 01:00 UTC (03:00 CEST → 02:00 CET), so the
  // wall hour 02:00–03:00 happens twice; it starts Sunday 29 March at 01:00 UTC (02:00 → 03:00),
  // so 02:00–03:00 does not happen at all.
  const repeated: WeeklyWindow = {
    kind: 'weekly',
    days: ['sun'],
    from: '02:00',
    to: '03:00',
    tz: 'Europe/Amsterdam',
  };

  test('fall back: the repeated hour is in the window both times', () => {
    expect(isOpen(at('2026-10-25T00:00:00Z'), repeated)).toBe(true); // 02:00 CEST
    expect(isOpen(at('2026-10-25T00:59:00Z'), repeated)).toBe(true); // 02:59 CEST
    expect(isOpen(at('2026-10-25T01:00:00Z'), repeated)).toBe(true); // 02:00 CET
    expect(isOpen(at('2026-10-25T01:59:00Z'), repeated)).toBe(true); // 02:59 CET
    expect(isOpen(at('2026-10-25T02:00:00Z'), repeated)).toBe(false); // 03:00 CET
    expect(windowEnd(at('2026-10-25T00:10:00Z'), repeated)?.toISOString()).toBe(
      '2026-10-25T02:00:00.000Z',
    );
  });

  test('spring forward: a window inside the skipped hour does not open that night', () => {
    expect(isOpen(at('2026-03-29T00:59:00Z'), repeated)).toBe(false); // 01:59 CET
    expect(isOpen(at('2026-03-29T01:00:00Z'), repeated)).toBe(false); // 03:00 CEST
    // The Sunday after, it opens as usual.
    expect(isOpen(at('2026-04-05T00:30:00Z'), repeated)).toBe(true); // 02:30 CEST
  });

  test('a US zone: the window follows New York wall time across the March change', () => {
    // US 2026: clocks go forward Sunday 8 March at 02:00 EST (07:00 UTC).
    const morning: WeeklyWindow = {
      kind: 'weekly',
      days: ['sun'],
      from: '06:00',
      to: '07:00',
      tz: 'America/New_York',
    };
    expect(isOpen(at('2026-03-01T11:30:00Z'), morning)).toBe(true); // 06:30 EST
    expect(isOpen(at('2026-03-08T10:30:00Z'), morning)).toBe(true); // 06:30 EDT
    expect(isOpen(at('2026-03-08T11:30:00Z'), morning)).toBe(false); // 07:30 EDT
  });

  test('the first open window of several is named', () => {
    const once: MaintenanceWindow = {
      kind: 'once',
      from: '2026-12-01T00:00:00Z',
      to: '2026-12-02T00:00:00Z',
    };
    expect(inWindow(at('2026-12-05T21:30:00Z'), [once, night])).toBe(night);
    expect(inWindow(at('2026-12-01T12:00:00Z'), [once, night])).toBe(once);
    expect(inWindow(at('2026-12-03T12:00:00Z'), [once, night])).toBeUndefined();
  });

  test('time zones are the platform’s IANA names', () => {
    expect(knownTimeZone('Europe/Amsterdam')).toBe(true);
    expect(knownTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});

describe('typed instants (mute ENV from … to …)', () => {
  test.each([
    ['2026-12-05T22:00', '2026-12-05T22:00:00.000Z'],
    ['2026-12-05T22:00:30', '2026-12-05T22:00:30.000Z'],
    ['2026-12-05T22:00Z', '2026-12-05T22:00:00.000Z'],
    ['2026-12-05T22:00+01:00', '2026-12-05T21:00:00.000Z'],
    ['2026-12-05t22:00-05:00', '2026-12-06T03:00:00.000Z'],
  ])('%s is %s (UTC unless an offset is given)', (raw, iso) => {
    expect(parseInstant(raw)?.toISOString()).toBe(iso);
  });

  test.each([
    '2026-02-30T10:00',
    '2026-12-05',
    '22:00',
    '2026-12-05T24:00',
    'tomorrow',
    '2026-12-05T22:00+25:00',
  ])('%s is refused', raw => {
    expect(parseInstant(raw)).toBeUndefined();
  });
});
