/**
 * All environments at a glance, for on-call admins: each environment's state from its last
 * run, its worst item and how long ago that run finished, worst first; and the likely
 * Microsoft-side incidents (./incidents.ts) that touch the environments the reader may see.
 *
 * The judging parts ({@link overviewRows}, {@link incidentsSeenBy}) are pure; the gathering
 * ones read the store. Which environments a reader may see is decided by the caller, always
 * through src/teams/access.ts `visibleAt` in Teams (the CLI is single-operator and sees the
 * whole inventory).
 */
import type { Code, Finding, ItemId, Run, Status } from '../model';
import type { Environment } from '../inventory/types';
import type { Store } from '../store/types';
import {
  DEFAULT_INCIDENT_RULE,
  likelyIncidents,
  type FailureSighting,
  type IncidentRule,
  type LikelyIncident,
} from './incidents';

/**
 * Worst first. `error` (the check itself broke) ranks below `fail` (something is known to be
 * wrong) and above `warn`; `skip` (not looked at) above `pass`.
 */
export const SEVERITY_ORDER: readonly Status[] = ['fail', 'error', 'warn', 'skip', 'pass'];

/** Rank of a status, 0 the worst. */
export function severityRank(s: Status): number {
  return SEVERITY_ORDER.indexOf(s);
}

/** The worst item of a run. */
export interface WorstItem {
  item: ItemId;
  status: Status;
  code: Code;
}

/** One environment's line in the overview. */
export interface OverviewRow {
  environment: string;
  description?: string;
  /** Worst finding status of the last run; `never` when the environment has not run yet. */
  state: Status | 'never';
  /** Its worst item, when that is not a pass. */
  worst?: WorstItem;
  runId?: string;
  finishedAt?: string;
  /** Milliseconds from the last run's end to now (never negative). */
  ageMs?: number;
}

/** The worst finding of a run (the first in checklist order on a tie). */
export function worstFinding(run: Pick<Run, 'findings'>): Finding | undefined {
  let worst: Finding | undefined;
  for (const f of run.findings)
    if (!worst || severityRank(f.status) < severityRank(worst.status)) worst = f;
  return worst;
}

/** One environment's row from its last run (none: never run). */
export function overviewRow(
  env: Pick<Environment, 'name' | 'description'>,
  last: Run | undefined,
  now: Date,
): OverviewRow {
  const base = {
    environment: env.name,
    ...(env.description ? { description: env.description } : {}),
  };
  if (!last) return { ...base, state: 'never' };
  const worst = worstFinding(last);
  // A run without findings (nothing was selected) has only its own status to go by.
  const state: Status = worst?.status ?? last.status;
  return {
    ...base,
    state,
    ...(worst && worst.status !== 'pass'
      ? { worst: { item: worst.item, status: worst.status, code: worst.code } }
      : {}),
    runId: last.id,
    finishedAt: last.finishedAt,
    ageMs: Math.max(0, now.getTime() - Date.parse(last.finishedAt)),
  };
}

/**
 * Worst state first, then the newest run first; environments never run come last (nothing is
 * known about them), by name; equal rows by name so the order is stable.
 */
export function overviewRows(rows: readonly OverviewRow[]): OverviewRow[] {
  const rank = (r: OverviewRow) =>
    r.state === 'never' ? SEVERITY_ORDER.length : severityRank(r.state);
  const at = (r: OverviewRow) => (r.finishedAt ? Date.parse(r.finishedAt) : 0);
  return [...rows].sort(
    (a, b) => rank(a) - rank(b) || at(b) - at(a) || a.environment.localeCompare(b.environment),
  );
}

/** A likely incident as a reader may see it: counts only, never another customer's name. */
export interface SeenIncident {
  code: Code;
  /** Distinct tenants failing with the code in the window (the reader's included). */
  tenants: number;
  from: Date;
  to: Date;
  /** The reader's own environments failing with the code. */
  environments: string[];
}

/**
 * The incidents a reader hears about: those where one of the environments it may see failed
 * with the code in the incident's window. Other tenants stay a number.
 */
export function incidentsSeenBy(
  incidents: readonly LikelyIncident[],
  visible: readonly Pick<Environment, 'name' | 'tenant'>[],
  sightings: readonly (FailureSighting & { environment: string })[],
): SeenIncident[] {
  const names = new Set(visible.map(e => e.name));
  const out: SeenIncident[] = [];
  for (const i of incidents) {
    const mine = sightings.filter(
      s =>
        s.code === i.code &&
        names.has(s.environment) &&
        s.at.getTime() >= i.from.getTime() &&
        s.at.getTime() <= i.to.getTime() &&
        i.tenantIds.includes(s.tenantId.toLowerCase()),
    );
    if (!mine.length) continue;
    out.push({
      code: i.code,
      tenants: i.tenantIds.length,
      from: i.from,
      to: i.to,
      environments: [...new Set(mine.map(s => s.environment))].sort(),
    });
  }
  return out;
}

/** The last run of every environment, as rows in overview order. */
export async function gatherOverview(
  store: Pick<Store, 'history' | 'getRun'>,
  environments: Iterable<Pick<Environment, 'name' | 'description'>>,
  now: Date,
): Promise<OverviewRow[]> {
  const rows: OverviewRow[] = [];
  for (const env of environments) {
    const [last] = await store.history(env.name, 1);
    const run = last ? await store.getRun(last.id) : undefined;
    rows.push(overviewRow(env, run, now));
  }
  return overviewRows(rows);
}

/** How far back failing findings are gathered for the incident rule (runs finished since). */
export const SIGHTING_LOOKBACK_MS = 60 * 60_000;
/** Runs per environment looked at within the lookback. */
const SIGHTING_RUNS = 20;

/** Every failing code of the runs finished within the lookback, per environment and tenant. */
export async function gatherSightings(
  store: Pick<Store, 'history' | 'getRun'>,
  environments: Iterable<Pick<Environment, 'name' | 'tenant'>>,
  now: Date,
  lookbackMs = SIGHTING_LOOKBACK_MS,
): Promise<(FailureSighting & { environment: string })[]> {
  const since = now.getTime() - lookbackMs;
  const out: (FailureSighting & { environment: string })[] = [];
  for (const env of environments) {
    const recent = (await store.history(env.name, SIGHTING_RUNS)).filter(
      r => Date.parse(r.finishedAt) >= since && r.problems.length,
    );
    for (const summary of recent) {
      const run = await store.getRun(summary.id);
      if (!run) continue;
      const at = new Date(run.finishedAt);
      for (const f of run.findings) {
        if (f.status !== 'fail' && f.status !== 'error') continue;
        const codes = new Set<Code>(f.codes.length ? f.codes : [f.code]);
        codes.delete('OK');
        for (const code of codes)
          out.push({ code, tenantId: env.tenant.id, at, environment: env.name });
      }
    }
  }
  return out;
}

/** The whole overview a reader sees. */
export interface Overview {
  rows: OverviewRow[];
  incidents: SeenIncident[];
}

/**
 * The overview for a reader who may see `visible`, with incidents judged over `all` the
 * environments (the rule needs every tenant; the reader learns only counts).
 */
export async function buildOverview(
  store: Pick<Store, 'history' | 'getRun'>,
  visible: readonly Pick<Environment, 'name' | 'description' | 'tenant'>[],
  all: readonly Pick<Environment, 'name' | 'tenant'>[],
  now: Date,
  rule: IncidentRule = DEFAULT_INCIDENT_RULE,
): Promise<Overview> {
  const rows = await gatherOverview(store, visible, now);
  const sightings = await gatherSightings(store, all, now);
  const incidents = incidentsSeenBy(likelyIncidents(sightings, rule), visible, sightings);
  return { rows, incidents };
}
