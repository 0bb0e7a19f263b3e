/**
 * Maintenance windows, pure: whether an instant falls in one, and when the window it falls in
 * ends. Two kinds:
 *
 * - one-off (`mute ENV from 2026-12-05T22:00 to 2026-12-06T02:00`): two instants. A time
 *   typed without an offset is UTC; `Z` or `+01:00` say otherwise (ISO 8601 / RFC 3339 §5.6).
 * - weekly, from the inventory (`alerts.maintenance`): days of the week and a wall-clock range
 *   in an IANA time zone, read with Intl (the platform's tz database, no dependency). A range
 *   whose end is not after its start runs past midnight into the next day; `days` are the days
 *   it starts on. Wall-clock semantics at the DST changes: a range inside the skipped hour
 *   (spring forward) never opens that night; one inside the repeated hour (fall back) is open
 *   through both copies of it.
 */

/** Days as the inventory writes them (and Intl's `weekday: 'short'` in en-US, lowercased). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A one-off window: from (inclusive) to (exclusive), ISO instants. */
export interface OneOffWindow {
  kind: 'once';
  from: string;
  to: string;
}

/** A weekly window in a time zone: `from`/`to` are `HH:MM` wall-clock times. */
export interface WeeklyWindow {
  kind: 'weekly';
  days: readonly Weekday[];
  from: string;
  to: string;
  /** IANA time zone, e.g. `Europe/Amsterdam`. */
  tz: string;
}

export type MaintenanceWindow = OneOffWindow | WeeklyWindow;

/** `HH:MM`, 00:00 to 23:59. */
export const WALL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether Intl knows the time zone (an unknown one throws RangeError). */
export function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock weekday and minute of the day of an instant in a time zone. */
export function wallClock(at: Date, tz: string): { day: number; minute: number } {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map(p => [p.type, p.value]));
  const day = WEEKDAYS.indexOf((parts.weekday ?? '').toLowerCase() as Weekday);
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

function minutes(hhmm: string): number {
  const m = WALL_TIME.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}

function weeklyOpen(now: Date, w: WeeklyWindow): boolean {
  const { day, minute } = wallClock(now, w.tz);
  const from = minutes(w.from);
  const to = minutes(w.to);
  const on = (d: number) => w.days.includes(WEEKDAYS[(d + 7) % 7]!);
  if (from < to) return on(day) && minute >= from && minute < to;
  // Past midnight: the evening part on a listed day, the morning part the day after one.
  return (on(day) && minute >= from) || (on(day - 1) && minute < to);
}

/** Whether `now` falls in the window. */
export function isOpen(now: Date, w: MaintenanceWindow): boolean {
  if (w.kind === 'once') {
    const t = now.getTime();
    return t >= Date.parse(w.from) && t < Date.parse(w.to);
  }
  return weeklyOpen(now, w);
}

/** The first window that is open at `now`, if any. */
export function inWindow(
  now: Date,
  windows: readonly MaintenanceWindow[],
): MaintenanceWindow | undefined {
  return windows.find(w => isOpen(now, w));
}

/** A weekly window lasts at most a day; a little more covers a repeated DST hour. */
const LONGEST_WEEKLY_MS = 26 * 3600_000;

/**
 * When the window open at `now` closes: a one-off's end, or for a weekly window the first whole
 * minute at which it is no longer open (walked minute by minute: exact across DST changes,
 * which move wall clocks by whole minutes). Undefined when it is not open.
 */
export function windowEnd(now: Date, w: MaintenanceWindow): Date | undefined {
  if (!isOpen(now, w)) return undefined;
  if (w.kind === 'once') return new Date(w.to);
  const start = Math.floor(now.getTime() / 60_000) * 60_000;
  for (let t = start + 60_000; t <= start + LONGEST_WEEKLY_MS; t += 60_000)
    if (!weeklyOpen(new Date(t), w)) return new Date(t);
  return new Date(start + LONGEST_WEEKLY_MS);
}

/** Why a typed `from START to END` is not a window (cards word it, src/i18n/messages.ts). */
export type WindowProblem = 'incomplete' | 'no-to' | 'bad-time' | 'end-before-start' | 'too-long';

/** `2026-12-05T22:00`, seconds optional, then `Z`, `±HH:MM` or nothing (UTC). */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$/i;

/**
 * A typed instant for `mute ENV from … to …`: ISO 8601 date and time, UTC unless it carries an
 * offset. Undefined when it is not one or names a day that does not exist (2026-02-30).
 */
export function parseInstant(raw: string): Date | undefined {
  const m = INSTANT.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, off] = m;
  const at = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${off ? off.toUpperCase() : 'Z'}`);
  if (Number.isNaN(at.getTime())) return undefined;
  // Date rolls 02-30 over to 03-02: check the calendar date as typed.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
  return at;
}
