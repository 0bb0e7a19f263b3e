/**
 * Uptime over a window, from history marks: pure, no I/O, no clock (docs/history.md "Uptime").
 *
 * A run counts as *up* when its status (the environment's, or the item's) is `pass` or `warn`:
 * a warning is a working item with advice (e.g. a secret that expires in 20 days), and mail
 * flows. It counts as *down* when it is `fail`. `skip` (the item was not looked at, e.g. no
 * Graph permission to read it) and `error` (ecebot's check itself broke: a timeout of its own,
 * an unexpected reply) say nothing about the customer's mail either way, so they are *not
 * counted*: neither up nor down, and every report says how many were left out so a reader can
 * judge. Uptime = up / (up + down); with nothing counted there is no figure.
 */
import type { Status } from '../model';
import type { HistoryMark } from '../store/item-history';

/** Uptime of one series over a window. */
export interface Uptime {
  /** Runs whose status was pass or warn. */
  up: number;
  /** Runs whose status was fail. */
  down: number;
  /** Runs left out: skip or error. */
  notCounted: number;
  /** up / (up + down), 0..1; undefined when no run was counted. */
  ratio?: number;
}

/** How a status counts. */
export function countsAs(s: Status): 'up' | 'down' | 'not-counted' {
  if (s === 'pass' || s === 'warn') return 'up';
  if (s === 'fail') return 'down';
  return 'not-counted';
}

/** The uptime of a list of marks. */
export function uptimeOf(marks: readonly HistoryMark[]): Uptime {
  let up = 0;
  let down = 0;
  let notCounted = 0;
  for (const m of marks) {
    const c = countsAs(m.status);
    if (c === 'up') up++;
    else if (c === 'down') down++;
    else notCounted++;
  }
  return { up, down, notCounted, ...(up + down ? { ratio: up / (up + down) } : {}) };
}

/**
 * A ratio as a percentage with one decimal, rounded *down*: 99.96 % reads 99.9 %, never 100 %,
 * so a report never claims more than was measured.
 */
export function percent(ratio: number): string {
  return (Math.floor(ratio * 1000 + 1e-9) / 10).toFixed(1);
}

/** Uptime of one UTC day. */
export interface DayUptime extends Uptime {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
}

/** Uptime per UTC day, oldest first; only days with at least one mark. */
export function dailyUptime(marks: readonly HistoryMark[]): DayUptime[] {
  const byDay = new Map<string, HistoryMark[]>();
  for (const m of marks) {
    const day = m.at.slice(0, 10);
    const list = byDay.get(day) ?? [];
    list.push(m);
    byDay.set(day, list);
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, list]) => ({ day, ...uptimeOf(list) }));
}
