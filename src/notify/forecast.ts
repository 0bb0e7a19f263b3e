/**
 * Forecasts, pure: credentials and certificates that will expire soon, from a run's
 * observations — the Entra app's client secrets and certificates (Graph `application`
 * passwordCredentials / keyCredentials, endDateTime) and the TLS certificates servers present
 * (validTo). Warned at 30 and again at 7 days, as a daily digest.
 */
import type { Observation } from '../probes/types';

/** Warning thresholds in days: the first is a heads-up, the second is urgent. */
export const FORECAST_DAYS = [30, 7] as const;

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

const DAY = 86_400_000;

interface Credential {
  displayName?: string | null;
  keyId?: string;
  endDateTime?: string;
}

function credentialsOf(data: unknown): { secrets: Credential[]; certs: Credential[] } {
  const apps = Array.isArray(data) ? data : data ? [data] : [];
  const out = { secrets: [] as Credential[], certs: [] as Credential[] };
  for (const a of apps as { passwordCredentials?: Credential[]; keyCredentials?: Credential[] }[]) {
    out.secrets.push(...(a?.passwordCredentials ?? []));
    out.certs.push(...(a?.keyCredentials ?? []));
  }
  return out;
}

/** Whole days from `now` until `t` (epoch ms), rounded up, and the warning it falls under. */
export function daysLeft(t: number, now: Date): Pick<Forecast, 'days' | 'within'> {
  const days = Math.ceil((t - now.getTime()) / DAY);
  return { days, within: days <= FORECAST_DAYS[1] ? 7 : 30 };
}

/** Everything expiring within 30 days (and not yet expired: that is a finding, not a forecast). */
export function forecasts(observations: readonly Observation[], now: Date): Forecast[] {
  const out = new Map<string, Forecast>();
  const add = (kind: Forecast['kind'], subject: string, end: string | undefined) => {
    const t = end ? Date.parse(end) : NaN;
    if (Number.isNaN(t) || t <= now.getTime()) return;
    const left = daysLeft(t, now);
    if (left.days > FORECAST_DAYS[0]) return;
    const f: Forecast = { kind, subject, expiresAt: new Date(t).toISOString(), ...left };
    out.set(`${kind}|${subject}`, f);
  };
  for (const o of observations) {
    if (o.kind === 'graph' && o.resource === 'application' && o.ok) {
      const { secrets, certs } = credentialsOf(o.data);
      for (const s of secrets)
        add('entra-secret', s.displayName || s.keyId || 'client secret', s.endDateTime);
      for (const c of certs)
        add('entra-certificate', c.displayName || c.keyId || 'certificate', c.endDateTime);
    }
    if ((o.kind === 'tls' || o.kind === 'https') && o.cert?.validTo)
      add('tls-certificate', o.target, o.cert.validTo);
  }
  return [...out.values()].sort((a, b) => a.days - b.days || a.subject.localeCompare(b.subject));
}
