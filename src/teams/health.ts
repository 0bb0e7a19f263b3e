/**
 * Readiness of the bot (`GET /readyz`), kept apart from restify so it can be tested alone.
 * Liveness (`/healthz`) needs nothing: it answers while the process serves. Readiness asks the
 * dependencies a turn needs, each under a short deadline so a hung Redis cannot hold the probe
 * past the orchestrator's own timeout (Kubernetes "Configure Liveness, Readiness and Startup
 * Probes": a probe that times out counts as failed).
 *
 * The endpoints are unauthenticated, so a check's detail is written here, from codes and counts,
 * never from an error message (a Redis error can quote its URL, password included).
 */
import type { Redis } from 'ioredis';
import type { Inventory } from '../inventory/load';
import { CENTRAL } from '../model';
import { liveness } from '../queue/heartbeat';
import { vantageId } from '../queue/names';

/** The outcome of one readiness check. */
export interface CheckResult {
  ok: boolean;
  /** Why, in a few words safe to show anyone (no URLs, no error messages). */
  detail?: string;
}

/** One readiness check; it may throw or hang, `readiness` bounds it. */
export type ReadinessCheck = () => Promise<CheckResult>;

/** What `/readyz` answers. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/** Deadline of one check by default: well inside a probe's usual 1–5 s timeout. */
const CHECK_DEADLINE_MS = 1000;

/** A safe word for a thrown error: its code or class name, never its message. */
function safeReason(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | undefined;
  if (typeof e?.code === 'string' && /^[A-Z0-9_]+$/.test(e.code)) return e.code;
  return typeof e?.name === 'string' ? e.name : 'error';
}

/** Run one check under a deadline; a throw or a timeout is a failed check. */
async function bounded(check: ReadinessCheck, deadlineMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>(resolve => {
    timer = setTimeout(
      () => resolve({ ok: false, detail: `no answer within ${deadlineMs} ms` }),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([
      check().catch((err: unknown) => ({ ok: false, detail: safeReason(err) })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Run every check in parallel; ready when all pass (and there is at least one). */
export async function readiness(
  checks: Record<string, ReadinessCheck>,
  deadlineMs: number = CHECK_DEADLINE_MS,
): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map(n => bounded(checks[n]!, deadlineMs)));
  const out: Record<string, CheckResult> = {};
  names.forEach((n, i) => (out[n] = results[i]!));
  return { ready: names.length > 0 && results.every(r => r.ok), checks: out };
}

/** In-process mode: ready once the inventory loaded and names at least one environment. */
export function inventoryCheck(inventory: () => Inventory): ReadinessCheck {
  return async () => {
    const n = inventory().environments.size;
    return n > 0
      ? { ok: true, detail: `${n} environment(s)` }
      : { ok: false, detail: 'no environments' };
  };
}

/** Redis answers PING (a producer connection fails at once while Redis is down). */
export function redisCheck(client: Redis): ReadinessCheck {
  return async () => {
    // ioredis' own state word (`connecting`, `reconnecting`, `end`…): says why, names no host.
    if (client.status !== 'ready') return { ok: false, detail: `not connected (${client.status})` };
    const pong = await client.ping();
    return pong === 'PONG' ? { ok: true } : { ok: false, detail: 'unexpected PING answer' };
  };
}

/**
 * Every vantage queue the inventory names: each server as ENV/SERVER (its own queue), plus the
 * shared `central` (see src/queue/names.ts).
 */
function vantagesOfInventory(inv: Inventory): string[] {
  const out = new Set<string>();
  for (const env of inv.environments.values())
    for (const s of env.servers) out.add(vantageId(env.name, s.name));
  out.add(CENTRAL);
  return [...out];
}

/**
 * At least one worker has a live heartbeat (src/queue/heartbeat.ts). Without any, every run
 * would end NO_WORKER, so the bot is up but cannot do its job. One ECE server without a worker
 * does not make the bot unready: taking the bot out of service would silence every chat, while
 * a run still reports that server's items as NO_WORKER; the detail names such servers.
 */
export function workersCheck(
  client: Redis,
  prefix: string,
  inventory: () => Inventory,
  /**
   * Name the environments and servers (ECEBOT_METRICS_DETAIL=1). Off by default: `/readyz` is
   * unauthenticated, and on a service shared by several customers the list of environments and
   * servers tells a stranger whose servers are watched and which of them is down.
   */
  detail = false,
): ReadinessCheck {
  return async () => {
    const vantages = vantagesOfInventory(inventory());
    const all = await liveness(client, prefix, vantages);
    const live = all.filter(l => l.live).map(l => l.vantage);
    const none = all.filter(l => !l.live).map(l => l.vantage);
    if (!live.length) return { ok: false, detail: 'no live worker heartbeat' };
    if (!detail)
      return { ok: true, detail: `${live.length} of ${all.length} vantage point(s) with a worker` };
    return {
      ok: true,
      detail: `live: ${live.join(', ')}${none.length ? `; no worker: ${none.join(', ')}` : ''}`,
    };
  };
}

/** Whether operations endpoints may name environments and servers (`ECEBOT_METRICS_DETAIL=1`). */
export function metricsDetail(vars: NodeJS.ProcessEnv): boolean {
  return vars.ECEBOT_METRICS_DETAIL === '1';
}
