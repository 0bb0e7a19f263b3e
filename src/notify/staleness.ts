/**
 * Staleness, pure: from ECE's own sign-ins (Entra's sign-in log, o365-facts.md §3.4), whether
 * ECE has stopped reading a mailbox — no successful token redemption as the mailbox's account
 * for longer than the environment's threshold — so the on-call engineer hears "ECE has stopped
 * reading support@" before customers notice missing mail. Told once when a mailbox goes quiet,
 * and once again when ECE's sign-ins resume.
 *
 * The threshold is the environment's `ece.maxSignInGap` (default 3 h, src/runner/facts.ts):
 * the same gap after which the token item warns `ECE_NOT_SIGNING_IN`, so the alert and the
 * finding never disagree. ECE redeems its refresh token whenever its access token expires, every
 * 60–90 minutes (access-tokens#token-lifetime), so three hours is two missed redemptions.
 *
 * No verdict without the log: when the sign-in read failed or was not made (no AuditLog.Read.All,
 * no Entra ID P1, throttled, a run of other items), nothing is decided and nothing is forgotten —
 * never a false alarm. Nor when the read reached back less than the threshold and found nothing.
 * The reading of the log is the token rule's own (src/checklist/ece-sign-ins.ts: the app's
 * user sign-ins, ecebot's own redemptions left out, the newest success per account).
 */
import { accountFacts, eceOnly, toEceSignIn } from '../checklist/ece-sign-ins';
import { graphRead, sameAddress } from '../checklist/rule';
import type { EnvironmentFacts, GraphReadObservation, Observation } from '../model';
import { DEFAULT_MAX_SIGN_IN_GAP_MS } from '../runner/facts';

/** What the log says of one mailbox. */
export interface SignInReading {
  mailbox: string;
  /** The account ECE's token for the mailbox is issued to (itself, or the shared account). */
  account: string;
  /** ECE's newest successful token redemption as that account, when the read found one. */
  lastSuccessAt?: string;
  /** How far back the read looked (ms before `now`); Infinity when it did not say. */
  lookedBackMs: number;
}

/**
 * Each mailbox's last successful ECE sign-in, or undefined when the log was not read (a
 * failed, refused or skipped read is no evidence either way).
 */
export function signInReadings(
  env: EnvironmentFacts,
  observations: Observation[],
  now: Date,
): SignInReading[] | undefined {
  const o = graphRead(observations, 'signIns')[0] as GraphReadObservation<'signIns'> | undefined;
  if (!o?.ok || !o.data) return undefined;
  const appRows = o.data.filter(g => !g.appId || sameAddress(g.appId, env.app.clientId));
  const rows = eceOnly(
    observations,
    env,
    appRows.flatMap(g => toEceSignIn(env, g) ?? []),
  );
  // As the token rule: a read stopped early reaches back only to the oldest row it got.
  const oldest = o.window?.truncated
    ? rows.reduce<string | undefined>((a, s) => (!a || s.at < a ? s.at : a), undefined)
    : o.window?.since;
  const lookedBackMs = oldest ? now.getTime() - Date.parse(oldest) : Number.POSITIVE_INFINITY;
  return accountFacts(env, rows).flatMap(f =>
    f.mailboxes.map(mailbox => ({
      mailbox,
      account: f.account,
      ...(f.lastSuccess ? { lastSuccessAt: f.lastSuccess.at } : {}),
      lookedBackMs,
    })),
  );
}

/** The environment's threshold: `ece.maxSignInGap`, else the default (3 h). */
export function staleAfterMs(env: Pick<EnvironmentFacts, 'maxSignInGapMs'>): number {
  return env.maxSignInGapMs ?? DEFAULT_MAX_SIGN_IN_GAP_MS;
}

/** What is remembered per environment. */
export interface StaleState {
  lastRunId?: string;
  /** By lower-cased mailbox address: told "stopped reading", no "resumed" yet. */
  stale: Record<string, { since?: string }>;
}

/** One thing to tell. */
export interface StaleDecision {
  kind: 'stale' | 'resumed';
  mailbox: string;
  account: string;
  /** The last successful sign-in (for `resumed`, the new one). */
  lastSuccessAt?: string;
  /** The threshold applied (ms). */
  thresholdMs: number;
  /** For `stale` without any success in the log: how far back it looked. */
  lookedBackMs: number;
}

/** Fold one run's readings: a mailbox goes stale once, and resumes once. */
export function decideStale(
  prev: StaleState,
  runId: string,
  readings: readonly SignInReading[] | undefined,
  now: Date,
  thresholdMs: number,
): { next: StaleState; decisions: StaleDecision[] } {
  if (prev.lastRunId === runId) return { next: prev, decisions: [] };
  const stale = { ...prev.stale };
  const decisions: StaleDecision[] = [];
  for (const r of readings ?? []) {
    const k = r.mailbox.toLowerCase();
    const base = {
      mailbox: r.mailbox,
      account: r.account,
      thresholdMs,
      lookedBackMs: r.lookedBackMs,
      ...(r.lastSuccessAt ? { lastSuccessAt: r.lastSuccessAt } : {}),
    };
    // Nothing found in a read that looked back less than the threshold proves nothing.
    if (!r.lastSuccessAt && r.lookedBackMs < thresholdMs) continue;
    const silentMs = r.lastSuccessAt ? now.getTime() - Date.parse(r.lastSuccessAt) : r.lookedBackMs;
    if (silentMs > thresholdMs) {
      if (!stale[k]) {
        stale[k] = r.lastSuccessAt ? { since: r.lastSuccessAt } : {};
        decisions.push({ kind: 'stale', ...base });
      }
    } else if (stale[k]) {
      delete stale[k];
      decisions.push({ kind: 'resumed', ...base });
    }
  }
  return { next: { lastRunId: runId, stale }, decisions };
}
