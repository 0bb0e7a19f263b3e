/**
 * When to alert, pure: given what is remembered per item and a scheduled run's findings, decide
 * the alerts, reminders and recoveries, and what to remember next. No I/O, no clock but the
 * one given. An item alerts once after N consecutive failing scheduled runs (default 2), is
 * reminded every few hours while it stays failing, and recovers once when it passes again.
 */
import type { Finding, ItemId, Run } from '../model';

/** What is remembered about one item of one environment. */
export interface ItemAlertState {
  /** Consecutive failing scheduled runs. */
  failures: number;
  /** An alert went out and no recovery yet. */
  alerting: boolean;
  /** When the last alert or reminder went out (ISO). */
  lastNotifiedAt?: string;
}

/** What is remembered about one environment. */
export interface AlertState {
  /** The last run folded in: folding the same run twice changes nothing (retried jobs). */
  lastRunId?: string;
  items: Partial<Record<ItemId, ItemAlertState>>;
}

/** Tunables. */
export interface AlertPolicy {
  /** Consecutive failing scheduled runs before an alert (default 2). */
  threshold: number;
  /** Time between reminders while an item stays failing (default 4 h). */
  reminderMs: number;
}

export const DEFAULT_POLICY: AlertPolicy = { threshold: 2, reminderMs: 4 * 3600_000 };

/** One thing to tell subscribers. */
export interface Decision {
  kind: 'alert' | 'reminder' | 'recovery';
  item: ItemId;
  finding: Finding;
  /** Consecutive failing runs so far (0 for a recovery). */
  failures: number;
}

/** A failing item: failed, or the check itself broke (a worker missing counts). */
function failing(f: Finding): boolean {
  return f.status === 'fail' || f.status === 'error';
}

/** Fold one scheduled run into the state; returns the next state and what to send. */
export function decide(
  prev: AlertState,
  run: Run,
  now: Date,
  policy: AlertPolicy = DEFAULT_POLICY,
): { next: AlertState; decisions: Decision[] } {
  if (prev.lastRunId === run.id) return { next: prev, decisions: [] };
  const items: AlertState['items'] = { ...prev.items };
  const decisions: Decision[] = [];
  for (const f of run.findings) {
    const s: ItemAlertState = { failures: 0, alerting: false, ...items[f.item] };
    if (failing(f)) {
      s.failures += 1;
      if (!s.alerting && s.failures >= policy.threshold) {
        s.alerting = true;
        s.lastNotifiedAt = now.toISOString();
        decisions.push({ kind: 'alert', item: f.item, finding: f, failures: s.failures });
      } else if (
        s.alerting &&
        now.getTime() - Date.parse(s.lastNotifiedAt ?? '1970-01-01T00:00:00Z') >= policy.reminderMs
      ) {
        s.lastNotifiedAt = now.toISOString();
        decisions.push({ kind: 'reminder', item: f.item, finding: f, failures: s.failures });
      }
    } else if (f.status === 'skip') {
      // Not looked at this time: neither a failure nor a recovery.
      continue;
    } else {
      if (s.alerting) decisions.push({ kind: 'recovery', item: f.item, finding: f, failures: 0 });
      s.failures = 0;
      s.alerting = false;
      delete s.lastNotifiedAt;
    }
    items[f.item] = s;
  }
  return { next: { lastRunId: run.id, items }, decisions };
}
