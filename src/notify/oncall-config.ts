/**
 * An environment's on-call settings as the alert pipeline and the escalation worker use them,
 * read from the inventory's `alerts` (src/inventory/schema.ts AlertsSchema, checked at load).
 */
import type { Inventory } from '../inventory/load';
import type { EscalationConfig } from './escalation';
import type { WeeklyWindow } from './windows';

/** Escalation waits 30 minutes unless the inventory says otherwise. */
export const DEFAULT_ESCALATE_AFTER_MS = 30 * 60_000;

/** What the on-call parts need of one environment. */
export interface OnCallConfig {
  /** Reminder interval (AlertPolicy.reminderMs when unset). */
  reminderMs?: number;
  escalation?: EscalationConfig;
  windows: WeeklyWindow[];
}

/** `30m` → 1 800 000 (s, m, h or d; the schema has checked the form). */
export function durationMs(d: string): number {
  const m = /^(\d+)([smhd])$/.exec(d);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(d)}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's']!;
}

/** The on-call settings of each environment, read from the current inventory at every call. */
export function onCallConfigOf(
  inventory: () => Inventory,
): (environment: string) => OnCallConfig | undefined {
  return environment => {
    const a = inventory().environments.get(environment)?.alerts;
    if (!a) return undefined;
    return {
      ...(a.reminder ? { reminderMs: durationMs(a.reminder) } : {}),
      ...(a.escalateTo
        ? {
            escalation: {
              to: a.escalateTo,
              afterMs: a.escalateAfter ? durationMs(a.escalateAfter) : DEFAULT_ESCALATE_AFTER_MS,
            },
          }
        : {}),
      windows: (a.maintenance ?? []).map(w => ({ kind: 'weekly' as const, ...w })),
    };
  };
}
