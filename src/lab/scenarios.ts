/**
 * Fault scenarios: each starts from the healthy tenant and breaks one thing a real customer
 * has broken (o365-facts.md §5), so the item that owns it fails with its code. Items that test
 * end to end (connectivity, and token for app-level failures) may fail too; their findings then
 * name the owning item as the root cause. `expect` is the contract the scenario tests hold the
 * real probes and rules to.
 */
import type { ItemId, Status } from '../model';
import type { Code } from '../model';
import type { Fault } from './faults';
import { eceSignInHistory, refreshTokenOf, type LabMailbox, type LabTenant } from './tenant';

/** Inventory knobs a scenario can turn (what the admin told ecebot about ECE). */
export interface LabInventoryKnobs {
  version: string;
  es: number;
  externalUrl: boolean;
}

export interface Scenario {
  name: string;
  /** One line for `ecebot lab --help` and the README. */
  description: string;
  /**
   * What a correct check reports. `healthy` expects every item to pass. `remediation`, when
   * given, must match the remediation for `code` (its text and fix): the real fix, named.
   */
  expect?: { item: ItemId; status: Status; code: Code; remediation?: RegExp };
  /**
   * Items the scenario leaves without the evidence they need: a correct check reports them as
   * `skip` with the reason, never as a pass.
   */
  notEstablished?: ItemId[];
  tenant?: (t: LabTenant, now: Date) => void;
  inventory?: (k: LabInventoryKnobs) => void;
  faults?: Fault[];
  /** The ECE web server presents an expired certificate. */
  eceCertExpired?: boolean;
  /** Delay before every IMAP response, in ms. */
  imapDelayMs?: number;
}

const DAY = 86400000;
const HOUR = 3_600_000;

/** Drop ECE's seeded sign-ins as `upn` (the history healthyTenant writes). */
const withoutSignInsOf = (t: LabTenant, upn: string) => {
  t.signIns = t.signIns.filter(s => s.userPrincipalName.toLowerCase() !== upn.toLowerCase());
};
const mailbox = (t: LabTenant, local: string) => {
  const m = t.mailboxes.find(x => x.address.startsWith(`${local}@`));
  if (!m) throw new Error(`lab tenant has no mailbox ${local}@`);
  return m;
};

export const SCENARIOS: readonly Scenario[] = [
  { name: 'healthy', description: 'Everything on the checklist is in order.' },
  {
    name: 'old-es',
    description: 'ECE 12.6(1) without ES1, before OAuth support (CSCvr86493).',
    expect: { item: 'version', status: 'fail', code: 'ECE_ES_TOO_OLD' },
    inventory: k => {
      k.es = 0;
    },
  },
  {
    name: 'older-es',
    description:
      'ECE 12.6(1) ES3: OAuth works, but Cisco names ES10 or later for 12.6(1) and recommends the newest ES.',
    expect: { item: 'version', status: 'warn', code: 'ECE_ES_NOT_LATEST' },
    inventory: k => {
      k.es = 3;
    },
  },
  {
    name: 'no-external-url',
    description: '"External URL of the application" is not set in ECE.',
    expect: { item: 'external-url', status: 'fail', code: 'ECE_EXTERNAL_URL_MISSING' },
    inventory: k => {
      k.externalUrl = false;
    },
  },
  {
    name: 'redirect-mismatch',
    description: "The app registration's redirect URI is on another host than ECE's external URL.",
    expect: { item: 'app-registration', status: 'fail', code: 'ENTRA_REDIRECT_MISMATCH' },
    tenant: t => {
      t.eceApp.redirectUris = ['https://ece-old.example.com/system/oauth2/callback'];
    },
  },
  {
    name: 'secret-expired',
    description: "The ECE app's only client secret has expired (AADSTS7000222).",
    expect: { item: 'app-registration', status: 'fail', code: 'ENTRA_SECRET_EXPIRED' },
    tenant: (t, now) => {
      for (const s of t.eceApp.secrets)
        s.endDateTime = new Date(now.getTime() - 2 * DAY).toISOString();
    },
  },
  {
    name: 'secret-expiring',
    description: "The ECE app's client secret expires in 10 days.",
    expect: { item: 'app-registration', status: 'warn', code: 'ENTRA_SECRET_EXPIRING' },
    tenant: (t, now) => {
      for (const s of t.eceApp.secrets)
        s.endDateTime = new Date(now.getTime() + 10 * DAY).toISOString();
    },
  },
  {
    name: 'consent-missing',
    description: 'The delegated permissions were never granted admin consent (AADSTS65001).',
    expect: { item: 'app-registration', status: 'fail', code: 'ENTRA_CONSENT_MISSING' },
    tenant: t => {
      t.eceApp.consentedScopes = [];
    },
  },
  {
    name: 'wrong-user-token',
    description:
      "support@'s token was generated in a normal browser window and belongs to the workstation user jdoe@ (Kerberos SSO).",
    expect: { item: 'token', status: 'fail', code: 'ECE_TOKEN_WRONG_USER' },
    tenant: t => {
      const rt = refreshTokenOf(t, `support@${t.domain}`);
      if (rt)
        t.refreshTokens[rt] = { ...t.refreshTokens[rt]!, upn: `jdoe@${t.domain}`, amr: ['wia'] };
    },
  },
  {
    name: 'refresh-token-expired',
    description: "support@'s refresh token was unused for 90 days (AADSTS700082).",
    expect: { item: 'token', status: 'fail', code: 'AADSTS700082' },
    tenant: t => {
      const rt = refreshTokenOf(t, `support@${t.domain}`);
      if (rt) t.refreshTokens[rt]!.failWith = 700082;
    },
  },
  {
    name: 'smtp-auth-disabled',
    description: 'Authenticated SMTP is disabled on the support@ mailbox.',
    expect: { item: 'mailbox-protocols', status: 'fail', code: 'EXO_SMTP_AUTH_DISABLED' },
    tenant: t => {
      mailbox(t, 'support').smtpClientAuthenticationDisabled = true;
    },
  },
  {
    name: 'smtp-auth-disabled-tenant',
    description: 'SMTP AUTH is off for the tenant and no mailbox overrides it.',
    expect: { item: 'mailbox-protocols', status: 'fail', code: 'EXO_SMTP_AUTH_DISABLED_TENANT' },
    tenant: t => {
      t.smtpAuthDisabledOrg = true;
      for (const m of t.mailboxes) m.smtpClientAuthenticationDisabled = null;
    },
  },
  {
    name: 'imap-disabled',
    description: 'IMAP is disabled on support@, which ECE reads over IMAP.',
    expect: { item: 'mailbox-protocols', status: 'fail', code: 'EXO_IMAP_DISABLED' },
    tenant: t => {
      mailbox(t, 'support').imapEnabled = false;
    },
  },
  {
    name: 'imap-disabled-no-admin-read',
    description:
      'IMAP is disabled on support@ and ecebot has no Exchange admin read (its app lacks Exchange.ManageAsApp).',
    // Without Get-CASMailbox the only evidence is the IMAP login, which Exchange refuses with the
    // same "NO AUTHENTICATE failed." as a bad token (o365-facts.md §1.2): the login fails end to
    // end, and whether IMAP is disabled cannot be established.
    expect: { item: 'connectivity', status: 'fail', code: 'AUTH_FAILED' },
    // Without Exchange admin reads, Send As on the shared sales@ cannot be established either.
    notEstablished: ['mailbox-protocols', 'mailbox-rights'],
    tenant: t => {
      mailbox(t, 'support').imapEnabled = false;
      t.probeApp.roles = t.probeApp.roles.filter(r => r !== 'Exchange.ManageAsApp');
    },
  },
  {
    name: 'pop-disabled',
    description: 'POP3 is disabled on sales@, which ECE reads over POP3.',
    expect: { item: 'mailbox-protocols', status: 'fail', code: 'EXO_POP_DISABLED' },
    tenant: t => {
      mailbox(t, 'sales').popEnabled = false;
    },
  },
  {
    name: 'no-license',
    description: 'support@ has no Exchange Online licence.',
    expect: { item: 'license', status: 'fail', code: 'EXO_LICENSE_MISSING' },
    tenant: t => {
      const u = t.users.find(x => x.userPrincipalName === `support@${t.domain}`);
      if (u) u.licenses = [];
    },
  },
  {
    name: 'missing-full-access',
    description: 'The shared account svc-ece@ lost Full Access to sales@.',
    expect: { item: 'mailbox-rights', status: 'fail', code: 'EXO_FULL_ACCESS_MISSING' },
    tenant: t => {
      mailbox(t, 'sales').fullAccess = [];
    },
  },
  {
    name: 'port-993-blocked-on-services',
    description: 'A firewall rejects IMAP (993) from the services server.',
    expect: { item: 'network', status: 'fail', code: 'CONNECT_REFUSED' },
    faults: [{ vantage: 'services-1', endpoint: 'imap', kind: 'refuse' }],
  },
  {
    name: 'login-blocked-on-app-server',
    description: 'login.microsoftonline.com:443 is black-holed from the application server.',
    expect: { item: 'network', status: 'fail', code: 'TIMEOUT' },
    faults: [{ vantage: 'app-1', endpoint: 'login', kind: 'blackhole' }],
  },
  {
    name: 'ece-cert-expired',
    description: "The ECE web server's certificate has expired.",
    expect: { item: 'external-url', status: 'fail', code: 'ECE_EXTERNAL_URL_CERT' },
    eceCertExpired: true,
  },
  {
    name: 'slow-imap',
    description: 'Exchange Online answers every IMAP command after 0.6 s.',
    expect: { item: 'connectivity', status: 'warn', code: 'SLOW_RESPONSE' },
    imapDelayMs: 600,
  },

  {
    name: 'ece-token-windows-user',
    description:
      "ECE's own token for support@ was generated in a normal browser on a domain-joined workstation: Entra's sign-in log shows ECE signing in as the workstation user jdoe@ (Kerberos/SSO), while the token ecebot was given is support@'s.",
    expect: {
      item: 'token',
      status: 'fail',
      code: 'ECE_SIGNS_IN_AS_OTHER_USER',
      remediation: /InPrivate.*signing in as support@example\.com/,
    },
    tenant: (t, now) => {
      const support = `support@${t.domain}`;
      const jdoe = `jdoe@${t.domain}`;
      withoutSignInsOf(t, support);
      t.signIns.push(
        // The token generation: an interactive sign-in from the admin's workstation, silently
        // as the logged-in Windows user (checklist.md item 4). The workstation address is from
        // the documentation range (RFC 5737); the method's wording is the lab's choice.
        {
          createdDateTime: new Date(now.getTime() - 20 * HOUR).toISOString(),
          userPrincipalName: jdoe,
          appId: t.eceApp.appId,
          errorCode: 0,
          eventType: 'interactiveUser',
          ipAddress: '192.0.2.50',
          authenticationMethod: 'Windows Integrated Authentication',
        },
        // Since then ECE redeems jdoe@'s refresh token from the services server.
        ...eceSignInHistory(t, jdoe, now, { from: 20 * HOUR - 5 * 60_000 }),
      );
    },
  },
  {
    name: 'ece-stopped-retrieving',
    description:
      'ECE has not signed in as support@ for 23 hours (its retriever stopped), although the token ecebot was given still works.',
    expect: {
      item: 'token',
      status: 'warn',
      code: 'ECE_NOT_SIGNING_IN',
      remediation: /retriever and dispatcher/,
    },
    tenant: (t, now) => {
      const support = `support@${t.domain}`;
      withoutSignInsOf(t, support);
      t.signIns.push(...eceSignInHistory(t, support, now, { to: 23 * HOUR }));
    },
  },
  {
    name: 'ece-refresh-expired',
    description:
      "ECE's own refresh token for support@ is refused with AADSTS700082 (expired after 90 days unused) for the last 4 hours, while the token ecebot was given works.",
    expect: {
      item: 'token',
      status: 'fail',
      code: 'AADSTS700082',
      remediation: /Regenerate the token in ECE for support@example\.com.*InPrivate/s,
    },
    tenant: (t, now) => {
      const support = `support@${t.domain}`;
      withoutSignInsOf(t, support);
      t.signIns.push(
        ...eceSignInHistory(t, support, now, { to: 4 * HOUR + 10 * 60_000 }),
        ...eceSignInHistory(t, support, now, { from: 4 * HOUR, errorCode: 700082 }),
      );
    },
  },
  {
    name: 'no-audit-log',
    description:
      "ecebot's read app lacks AuditLog.Read.All, so ECE's own sign-ins cannot be read: the token item says so and is judged on ecebot's test alone.",
    // The token item still passes on ecebot's test: ECE's sign-ins are optional evidence
    // (src/checklist/rule.ts `Part.optional`), so not reading them does not leave the item
    // unestablished, but the code and its remediation are on the finding.
    expect: {
      item: 'token',
      status: 'pass',
      code: 'SIGN_IN_LOG_FORBIDDEN',
      remediation: /AuditLog\.Read\.All and Directory\.Read\.All/,
    },
    tenant: t => {
      t.probeApp.roles = t.probeApp.roles.filter(r => r !== 'AuditLog.Read.All');
    },
  },
  {
    // Exchange's rules per protocol (o365-facts.md §1.5): POP3 opens sales@ with svc-ece@'s
    // token (Full Access); SMTP AUTH is svc-ece@ itself, so sales@'s own SMTP AUTH switch does
    // not matter, and sales@ needs no licence ("Shared mailboxes usually don't require a
    // license", MicrosoftDocs/microsoft-365-docs remove-license-from-shared-mailbox.md).
    name: 'shared-account',
    description:
      'sales@ is an unlicensed shared mailbox with SMTP AUTH off; svc-ece@ (licensed, SMTP AUTH on) reads it with Full Access and sends as it with Send As.',
    tenant: t => {
      const sales = mailbox(t, 'sales');
      sales.smtpClientAuthenticationDisabled = true;
      const u = t.users.find(x => x.userPrincipalName === `sales@${t.domain}`);
      if (u) u.licenses = [];
    },
  },
  {
    name: 'shared-account-no-sendas',
    description:
      'svc-ece@ has Full Access to sales@ but no Send As: Exchange refuses the mail ECE sends from sales@ (554 5.2.252 SendAsDenied).',
    expect: { item: 'mailbox-rights', status: 'fail', code: 'EXO_SEND_AS_MISSING' },
    tenant: t => {
      mailbox(t, 'sales').sendAs = [];
    },
  },
  {
    // The token's upn is the UPN; ECE's alias is the primary SMTP address. Through the directory
    // (UPN, mail, proxyAddresses) they are one user, and Exchange accepts either as `user=`.
    name: 'upn-differs-from-smtp',
    description:
      "support@'s account signs in as j.support@<tenant>.onmicrosoft.com; its primary SMTP address is support@.",
    tenant: t => {
      const address = `support@${t.domain}`;
      const upn = `j.support@${t.domain.split('.')[0]}.onmicrosoft.com`;
      const u = t.users.find(x => x.userPrincipalName === address);
      if (!u) throw new Error('lab tenant has no user support@');
      u.userPrincipalName = upn;
      u.mail = address;
      u.proxyAddresses = [`SMTP:${address}`, `smtp:${upn}`];
      mailbox(t, 'support').owner = upn;
      for (const rt of Object.values(t.refreshTokens)) if (rt.upn === address) rt.upn = upn;
    },
  },
  {
    // Technote item 4: "sign in as a user with full control of the mailbox". jdoe@ holds Full
    // Access and Send As on support@ and generated its token (in an InPrivate window, so no
    // Kerberos "wia"); IMAP opens support@ with it, SMTP AUTH is jdoe@ itself.
    name: 'full-access-delegate',
    description:
      "support@'s token was generated by jdoe@, who has Full Access and Send As on support@.",
    tenant: t => {
      const support = mailbox(t, 'support');
      const jdoe = `jdoe@${t.domain}`;
      support.fullAccess.push(jdoe);
      support.sendAs.push(jdoe);
      // jdoe@ is a licensed user, so has a mailbox of its own to sign in to SMTP with.
      const own: LabMailbox = {
        address: jdoe,
        owner: jdoe,
        imapEnabled: true,
        popEnabled: true,
        smtpClientAuthenticationDisabled: false,
        fullAccess: [],
        sendAs: [],
        messages: 0,
      };
      t.mailboxes.push(own);
      const rt = refreshTokenOf(t, `support@${t.domain}`);
      if (rt) t.refreshTokens[rt] = { ...t.refreshTokens[rt]!, upn: jdoe, amr: ['pwd'] };
    },
  },
];

/** Scenario names, in the order above. */
export const SCENARIO_NAMES = SCENARIOS.map(s => s.name);

/**
 * The scenarios `ecebot demo` combines: one failure, one warning, one network fault, and one
 * finding from ECE's own sign-ins (the workstation-user trap ecebot's test token cannot see).
 */
export const DEMO_SCENARIOS = [
  'smtp-auth-disabled',
  'secret-expiring',
  'port-993-blocked-on-services',
  'ece-token-windows-user',
];

/** Parse `a,b` into scenarios, rejecting unknown names with a suggestion. */
export function pickScenarios(
  spec: string | undefined,
  suggest: (s: string, c: string[]) => string | undefined,
): Scenario[] {
  const names = (spec ?? 'healthy')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  return names.map(n => {
    const s = SCENARIOS.find(x => x.name === n);
    if (!s) {
      const close = suggest(n, SCENARIO_NAMES);
      throw new Error(
        `unknown scenario ${JSON.stringify(n)}${close ? ` (did you mean ${close}?)` : ''}; scenarios: ${SCENARIO_NAMES.join(', ')}`,
      );
    }
    return s;
  });
}
