/**
 * Uptime's definition (docs/history.md "Uptime"), the per-day split and CSV as RFC 4180 writes
 * it, on plain fixtures. Expected figures are worked out by hand from the definition: up =
 * pass or warn, down = fail, skip and error not counted.
 */
import { csvField, toCsv } from '../../src/history/csv';
import { reportOf } from '../../src/history/report';
import { countsAs, dailyUptime, percent, uptimeOf } from '../../src/history/uptime';
import type { Status } from '../../src/model';
import type { HistoryMark } from '../../src/store/item-history';

const mark = (n: number, status: Status, day = '2026-11-01'): HistoryMark => ({
  runId: `lab-${n}`,
  at: `${day}T${String(n).padStart(2, '0')}:00:00.000Z`,
  status,
});

describe('uptime', () => {
  test('pass and warn are up, fail is down, skip and error are not counted', () => {
    expect(countsAs('pass')).toBe('up');
    expect(countsAs('warn')).toBe('up');
    expect(countsAs('fail')).toBe('down');
    expect(countsAs('skip')).toBe('not-counted');
    expect(countsAs('error')).toBe('not-counted');
    const u = uptimeOf([
      mark(1, 'pass'),
      mark(2, 'warn'),
      mark(3, 'fail'),
      mark(4, 'skip'),
      mark(5, 'error'),
      mark(6, 'pass'),
    ]);
    // 3 up (pass, warn, pass) of 4 counted.
    expect(u).toEqual({ up: 3, down: 1, notCounted: 2, ratio: 0.75 });
  });

  test('nothing counted gives no figure rather than 0 % or 100 %', () => {
    expect(uptimeOf([mark(1, 'skip'), mark(2, 'error')])).toEqual({
      up: 0,
      down: 0,
      notCounted: 2,
    });
    expect(uptimeOf([])).toEqual({ up: 0, down: 0, notCounted: 0 });
  });

  test('percent has one decimal and never rounds up to a better figure', () => {
    expect(percent(0.75)).toBe('75.0');
    expect(percent(1)).toBe('100.0');
    expect(percent(0)).toBe('0.0');
    // 2879 of 2880: 99.965… % reads 99.9, not 100.0.
    expect(percent(2879 / 2880)).toBe('99.9');
    expect(percent(2 / 3)).toBe('66.6');
  });

  test('per UTC day, oldest first, only days with runs', () => {
    const days = dailyUptime([
      mark(23, 'fail', '2026-11-02'),
      mark(1, 'pass', '2026-11-01'),
      mark(2, 'skip', '2026-11-01'),
      mark(5, 'pass', '2026-11-02'),
      mark(9, 'error', '2026-11-04'),
    ]);
    expect(days).toEqual([
      { day: '2026-11-01', up: 1, down: 0, notCounted: 1, ratio: 1 },
      { day: '2026-11-02', up: 1, down: 1, notCounted: 0, ratio: 0.5 },
      { day: '2026-11-04', up: 0, down: 0, notCounted: 1 },
    ]);
  });

  test('a report keeps the window: marks before `since` or after `until` are left out', () => {
    const r = reportOf(
      {
        environment: 'lab',
        since: new Date('2026-11-01T02:00:00Z'),
        until: new Date('2026-11-01T05:00:00Z'),
        allItems: ['network'],
      },
      [mark(1, 'fail'), mark(2, 'pass'), mark(5, 'fail'), mark(6, 'fail')],
      new Map([['network', [mark(3, 'pass'), mark(9, 'fail')]]]),
    );
    expect(r.marks.map(m => m.runId)).toEqual(['lab-2', 'lab-5']);
    expect(r.uptime.ratio).toBe(0.5);
    expect(r.items).toEqual([
      {
        item: 'network',
        marks: [mark(3, 'pass')],
        uptime: { up: 1, down: 0, notCounted: 0, ratio: 1 },
      },
    ]);
  });
});

describe('CSV (RFC 4180)', () => {
  test('fields with a comma, a double quote or a line break are quoted, quotes doubled (§2.6, §2.7)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('lf\nonly')).toBe('"lf\nonly"');
  });

  test('every record, the header too, ends in CRLF (§2.1, §2.3)', () => {
    expect(
      toCsv(
        ['run_id', 'status'],
        [
          ['a', 'pass'],
          ['b,c', 'fail'],
        ],
      ),
    ).toBe('run_id,status\r\na,pass\r\n"b,c",fail\r\n');
  });
});
