/**
 * Likely Microsoft-side incidents, pure: the same code failing in several customers' tenants
 * at about the same time is more likely a Microsoft 365 service problem than a dozen customers
 * breaking their own configuration at once. The rule: one code, failing (status `fail` or
 * `error`) in at least {@link INCIDENT_MIN_TENANTS} distinct Entra tenants, all within
 * {@link INCIDENT_WINDOW_MS} of each other (both ends inclusive). No I/O, no clock.
 */
import type { Code } from '../model';

/** Distinct tenants failing with one code before it is called a likely incident. */
export const INCIDENT_MIN_TENANTS = 3;
/** How close together (first to last, inclusive) those failures must be. */
export const INCIDENT_WINDOW_MS = 15 * 60_000;

/** One failing finding, as the rule sees it. */
export interface FailureSighting {
  code: Code;
  /** The Entra tenant of the environment (inventory `tenant.id`); compared case-insensitively. */
  tenantId: string;
  /** When the run that found it finished. */
  at: Date;
}

/** One code failing in enough tenants within the window. */
export interface LikelyIncident {
  code: Code;
  /**
   * The tenants of the window with the most of them (lowercased). For deciding who may hear
   * about it; never shown: a customer must not learn another customer's tenant.
   */
  tenantIds: string[];
  /** The first and last failure of that window. */
  from: Date;
  to: Date;
}

/** Tunables of {@link likelyIncidents}. */
export interface IncidentRule {
  minTenants: number;
  windowMs: number;
}

export const DEFAULT_INCIDENT_RULE: IncidentRule = {
  minTenants: INCIDENT_MIN_TENANTS,
  windowMs: INCIDENT_WINDOW_MS,
};

/**
 * The window of one code's sightings (sorted by time) that holds the most distinct tenants,
 * the earliest such window on a tie. Two pointers: the window [i, j] grows with j and drops
 * sightings from i while they lie more than `windowMs` before sighting j.
 */
function widestWindow(
  sorted: readonly FailureSighting[],
  windowMs: number,
): { tenants: Set<string>; from: Date; to: Date } | undefined {
  let best: { tenants: Set<string>; from: Date; to: Date } | undefined;
  const count = new Map<string, number>();
  let i = 0;
  for (let j = 0; j < sorted.length; j++) {
    const s = sorted[j]!;
    const tj = s.tenantId.toLowerCase();
    count.set(tj, (count.get(tj) ?? 0) + 1);
    while (s.at.getTime() - sorted[i]!.at.getTime() > windowMs) {
      const ti = sorted[i]!.tenantId.toLowerCase();
      const left = (count.get(ti) ?? 1) - 1;
      if (left) count.set(ti, left);
      else count.delete(ti);
      i++;
    }
    if (!best || count.size > best.tenants.size)
      best = { tenants: new Set(count.keys()), from: sorted[i]!.at, to: s.at };
  }
  return best;
}

/**
 * The codes failing in at least `rule.minTenants` distinct tenants within `rule.windowMs`,
 * most tenants first, then by code. The same tenant failing twice counts once.
 */
export function likelyIncidents(
  sightings: readonly FailureSighting[],
  rule: IncidentRule = DEFAULT_INCIDENT_RULE,
): LikelyIncident[] {
  const byCode = new Map<Code, FailureSighting[]>();
  for (const s of sightings) {
    if (Number.isNaN(s.at.getTime())) continue;
    const list = byCode.get(s.code) ?? [];
    list.push(s);
    byCode.set(s.code, list);
  }
  const out: LikelyIncident[] = [];
  for (const [code, list] of byCode) {
    const sorted = [...list].sort((a, b) => a.at.getTime() - b.at.getTime());
    const w = widestWindow(sorted, rule.windowMs);
    if (w && w.tenants.size >= rule.minTenants)
      out.push({ code, tenantIds: [...w.tenants].sort(), from: w.from, to: w.to });
  }
  return out.sort(
    (a, b) => b.tenantIds.length - a.tenantIds.length || a.code.localeCompare(b.code),
  );
}
