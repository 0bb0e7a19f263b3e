/**
 * Shared set-up for the Graph / Exchange admin tests: a healthy lab tenant, its keys, a lab CA,
 * and a ProbeContext that sends the real Microsoft names to 127.0.0.1 and trusts the lab CA.
 */
import { createCa, type LabCa } from '../../src/lab/ca';
import type { LabState } from '../../src/lab/server-types';
import { healthyTenant } from '../../src/lab/tenant';
import { createKeys, mintAccessToken, type LabKeys } from '../../src/lab/tokens';
import { DEFAULT_DEADLINES, type ProbeContext } from '../../src/probes/context';
import { CENTRAL } from '../../src/model';
import { Redactor } from '../../src/util/redact';

/** The hosts map every test uses: real names, loopback addresses. */
export const LAB_HOSTS = {
  'graph.microsoft.com': '127.0.0.1',
  'outlook.office365.com': '127.0.0.1',
  'ece.example.com': '127.0.0.1',
};

/** A fresh lab: tenant, keys, CA and a probe context trusting that CA. */
export function newLab(): { state: LabState; ca: LabCa; ctx: ProbeContext } {
  const state: LabState = { tenant: healthyTenant('https://ece.example.com'), keys: createKeys() };
  const ca = createCa();
  const ctx: ProbeContext = {
    vantage: CENTRAL,
    deadlines: DEFAULT_DEADLINES,
    ca: ca.certPem,
    hosts: { ...LAB_HOSTS },
    redactor: new Redactor(),
  };
  return { state, ca, ctx };
}

/** Options for a probe-app token. */
export interface TokenOptions {
  aud: 'https://graph.microsoft.com' | 'https://outlook.office365.com';
  roles?: string[];
  /** Issue time in seconds; defaults to now. */
  iat?: number;
  keys?: LabKeys;
}

/** An app-only token for ecebot's probe app, minted directly with the lab keys. */
export function probeToken(state: LabState, o: TokenOptions): string {
  return mintAccessToken(o.keys ?? state.keys, {
    aud: o.aud,
    tid: state.tenant.tenantId,
    appid: state.tenant.probeApp.appId,
    roles: o.roles ?? state.tenant.probeApp.roles,
    idtyp: 'app',
    lifetimeMinutes: 60,
    ...(o.iat !== undefined ? { iat: o.iat } : {}),
  });
}

/** Seconds since the epoch, two hours ago: a 60-minute token issued then has expired. */
export function twoHoursAgo(): number {
  return Math.floor(Date.now() / 1000) - 2 * 3600;
}
