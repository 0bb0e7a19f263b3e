/**
 * Forecasts, pure: credentials and certificates that will expire soon, from a run's
 * observations — the Entra app's client secrets and certificates (Graph `application`
 * passwordCredentials / keyCredentials, endDateTime) and the TLS certificates servers present
 * (validTo). Warned at 30 and again at 7 days, as a daily digest.
 */
import { credentialsOf, daysUntil, EXPIRY_WARN_DAYS } from '../checklist/app-registration';
import type { Observation } from '../model';

/**
 * Warning thresholds in days: the first is a heads-up, the second is urgent. The heads-up is
 * the app-registration item's own warning window, so a forecast and a finding never disagree.
 */
export const FORECAST_DAYS = [EXPIRY_WARN_DAYS, 7] as const;

export interface Forecast {
  kind: 'entra-secret' | 'entra-certificate' | 'tls-certificate';
  /** What expires: the secret's display name, or host:port for a TLS certificate. */
  subject: string;
  expiresAt: string;
  /** Whole days left, rounded up (a person's count). */
  days: number;
  /** 7 (urgent) or 30. */
  within: 7 | 30;
}

/** Whole days from `now` until `t` (epoch ms), rounded up, and the warning it falls under. */
export function daysLeft(t: number, now: Date): Pick<Forecast, 'days' | 'within'> {
  const days = daysUntil(t, now);
  return { days, within: days <= FORECAST_DAYS[1] ? 7 : 30 };
}

/** Everything expiring within 30 days (and not yet expired: that is a finding, not a forecast). */
export function forecasts(observations: readonly Observation[], now: Date): Forecast[] {
  const out = new Map<string, Forecast>();
  const add = (kind: Forecast['kind'], subject: string, t: number) => {
    if (Number.isNaN(t) || t <= now.getTime()) return;
    const left = daysLeft(t, now);
    if (left.days > FORECAST_DAYS[0]) return;
    const f: Forecast = { kind, subject, expiresAt: new Date(t).toISOString(), ...left };
    out.set(`${kind}|${subject}`, f);
  };
  for (const o of observations) {
    if (o.kind === 'graph' && o.resource === 'application' && o.ok && o.data) {
      // The same facts and the same reading as the app-registration item (credentialsOf).
      for (const c of credentialsOf(o.data)) {
        if (c.kind === 'secret') add('entra-secret', c.label ?? 'client secret', c.end);
        else add('entra-certificate', c.label ?? 'certificate', c.end);
      }
    }
    if ((o.kind === 'tls' || o.kind === 'https') && o.cert?.validTo)
      add('tls-certificate', o.target, Date.parse(o.cert.validTo));
  }
  return [...out.values()].sort((a, b) => a.days - b.days || a.subject.localeCompare(b.subject));
}
