/**
 * Fixtures of the bundle tests: an inventory with two environments whose secrets are known, and
 * a run whose transcript carries every kind of secret a careless probe could have kept. The
 * planted values follow the wire formats they imitate: XOAUTH2's `user=…^Aauth=Bearer …^A^A`
 * (o365-facts.md §1.5, RFC 7628), HTTP Basic (RFC 7617), cookies (RFC 6265), an OAuth 2.0
 * token request body (RFC 6749 §6) and URL userinfo (RFC 3986 §3.2.1).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Run } from '../../src/model';

export const APP_SECRET = `app~${randomBytes(18).toString('base64url')}`;
export const PROBE_SECRET = `probe+${randomBytes(18).toString('base64')}`;
export const REFRESH = `0.A${randomBytes(60).toString('base64url')}`;
export const JWT = `eyJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJzdXBwb3J0QGV4YW1wbGUuY29tIn0.${randomBytes(40).toString('base64url')}`;
export const BASIC = Buffer.from(`proxyuser:${randomBytes(9).toString('hex')}`).toString('base64');
export const COOKIE = `ESTSAUTH=${randomBytes(24).toString('hex')}`;
export const FORM_PASSWORD = randomBytes(12).toString('hex');
export const URL_PASSWORD = randomBytes(12).toString('hex');
export const XOAUTH2 = Buffer.from(
  `user=support@example.com\x01auth=Bearer ${JWT}\x01\x01`,
).toString('base64');
export const GUID = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;

/** The inventory (environments `prod` and `other`) in `dir`, with the app secret's file. */
export function inventoryFile(dir: string): string {
  writeFileSync(join(dir, 'app-secret.txt'), `${APP_SECRET}\n`);
  const env = (tenant: number) => ({
    ece: { version: '12.6(1)', es: 4 },
    servers: [{ name: 'services-1', role: 'services' }],
    tenant: { id: GUID(tenant) },
    app: {
      clientId: GUID(tenant + 1),
      secret: 'file:app-secret.txt',
      // Under keys no secret-key rule knows (`cert`, `key`): only the reference rule takes them.
      certificate: { cert: 'file:ece-app.crt', key: 'file:ece-app.key' },
    },
    probe: { clientId: GUID(tenant + 2), secret: 'env:BUNDLE_TEST_PROBE_SECRET' },
    mailboxes: [
      {
        address: 'support@example.com',
        access: 'mailbox',
        retrieve: 'imap',
        refreshToken: 'env:BUNDLE_TEST_REFRESH',
      },
    ],
    endpoints: { proxy: 'http://proxy.example.com:3128', proxyCredentials: 'env:NOT_SET_HERE' },
  });
  const path = join(dir, 'inventory.yaml');
  writeFileSync(path, stringify({ environments: { prod: env(1), other: env(5) } }));
  return path;
}

/** The variables the inventory's `env:` references name. */
export const VARS = { BUNDLE_TEST_PROBE_SECRET: PROBE_SECRET, BUNDLE_TEST_REFRESH: REFRESH };

/** A run whose transcripts carry every kind of secret a careless probe could have kept. */
export function leakyRun(): Run {
  return {
    id: 'prod-20261203091500-0a1b',
    environment: 'prod',
    startedAt: '2026-12-03T09:15:00.000Z',
    finishedAt: '2026-12-03T09:15:09.000Z',
    status: 'fail',
    ece: { version: '12.6(1)', es: 4 },
    findings: [
      {
        item: 'connectivity',
        title: 'Connectivity',
        status: 'fail',
        summary: `login failed for ${APP_SECRET}`,
        code: 'AUTH_FAILED',
        codes: ['AUTH_FAILED'],
        evidence: [
          {
            vantage: 'services-1',
            target: 'outlook.office365.com:993',
            text: 'NO AUTHENTICATE failed',
            code: 'AUTH_FAILED',
            ok: false,
            durationMs: 120,
            transcript: [
              'S: * OK The Microsoft Exchange IMAP4 service is ready.',
              `C: A1 AUTHENTICATE XOAUTH2 ${XOAUTH2}`,
              'S: A1 NO AUTHENTICATE failed.',
              `C: Authorization: Basic ${BASIC}`,
              `S: Set-Cookie: ${COOKIE}; path=/; secure`,
              `C: grant_type=refresh_token&refresh_token=${REFRESH}&client_secret=${PROBE_SECRET}`,
              `C: POST https://proxyuser:${URL_PASSWORD}@proxy.example.com/ password=${FORM_PASSWORD}`,
              'S: <redacted token 1200 chars> stays as it was',
            ],
          },
        ],
        remediation: [],
        failedOn: ['services-1'],
        vantages: ['services-1'],
        durationMs: 120,
      },
      {
        item: 'version',
        title: 'ECE version',
        status: 'pass',
        summary: '12.6(1) ES4',
        code: 'OK',
        codes: [],
        evidence: [
          { vantage: 'inventory', target: 'ece', text: '12.6(1) ES4', code: 'OK', ok: true },
        ],
        remediation: [],
        failedOn: [],
        vantages: ['inventory'],
        durationMs: 0,
      },
    ],
  } as Run;
}

/** Every planted secret value. */
export const PLANTED = [
  APP_SECRET,
  PROBE_SECRET,
  REFRESH,
  JWT,
  XOAUTH2,
  BASIC,
  COOKIE,
  FORM_PASSWORD,
  URL_PASSWORD,
];
