/**
 * The simulated tenant: the state every lab server reads. Scenarios (./scenarios.ts) start
 * from `healthyTenant()` and change one thing. Field names follow Graph and Exchange Online
 * (o365-facts.md §3) so the servers can return them nearly as they are.
 */
import { randomUUID } from 'node:crypto';
import { PLAN, RESOURCE, SCOPE_ID, SKU } from '../knowledge/permissions';

// The ids the lab hands out are the real ones, from the same table the rules read.
export { PLAN, RESOURCE, SCOPE_ID, SKU };

export interface LabLicense {
  skuId: string;
  skuPartNumber: string;
  servicePlans: {
    servicePlanId: string;
    servicePlanName: string;
    provisioningStatus: string;
    appliesTo: string;
  }[];
}

export interface LabUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  licenses: LabLicense[];
  /**
   * Primary SMTP address (Graph `mail`), when the user has a mailbox; it need not be the UPN.
   * Absent: the lab takes the UPN.
   */
  mail?: string;
  /** Graph `proxyAddresses`: `SMTP:<primary>` and `smtp:<alias>` entries. */
  proxyAddresses?: string[];
}

export interface LabMailbox {
  address: string;
  /** The owning user's UPN (for a shared mailbox, the mailbox's own directory object). */
  owner: string;
  imapEnabled: boolean;
  popEnabled: boolean;
  /** `null` follows the tenant setting; `true` disabled; `false` enabled (overrides the tenant). */
  smtpClientAuthenticationDisabled: boolean | null;
  /** UPNs with Full Access besides the owner (Get-MailboxPermission). */
  fullAccess: string[];
  /**
   * UPNs with Send As besides the owner (Get-RecipientPermission). Full Access does not include
   * it: the two rights are granted apart (Add-MailboxPermission, Add-RecipientPermission).
   */
  sendAs: string[];
  /**
   * `shared`: an Exchange shared mailbox (RecipientTypeDetails SharedMailbox). Its directory
   * account is disabled for sign-in and "shared mailboxes usually don't require a license"
   * (MicrosoftDocs/microsoft-365-docs remove-license-from-shared-mailbox.md). Absent: a user's.
   */
  type?: 'shared';
  /** Messages in the inbox (for POP3 STAT / IMAP SELECT). */
  messages: number;
}

export interface LabSecret {
  keyId: string;
  displayName: string;
  hint: string;
  /** The secret value; only the lab and the inventory's secret file know it. */
  value: string;
  startDateTime: string;
  endDateTime: string;
}

export interface LabApp {
  appId: string;
  /** Application object id (Graph /applications/{id}). */
  id: string;
  /** Service principal (Enterprise application) object id. */
  spId: string;
  displayName: string;
  signInAudience: 'AzureADMyOrg' | 'AzureADMultipleOrgs';
  redirectUris: string[];
  secrets: LabSecret[];
  /** Delegated scopes configured under API permissions (names, e.g. IMAP.AccessAsUser.All). */
  requiredScopes: string[];
  /** Delegated scopes with admin consent (oauth2PermissionGrants, consentType AllPrincipals). */
  consentedScopes: string[];
  /** Access token lifetime in minutes (Entra default 60–90; a token lifetime policy can lower it). */
  accessTokenLifetimeMinutes: number;
  /**
   * "Allow public client flows" (Graph `isFallbackPublicClient`). Off for ECE's Web app, so the
   * device flow without a secret is refused with AADSTS7000218 (o365-facts.md §2.3).
   */
  isFallbackPublicClient?: boolean;
  /** Certificates uploaded under Certificates & secrets (keyCredentials), for client assertions. */
  certificates?: LabCertificate[];
}

/** A certificate credential of an app (Graph keyCredential), as the token endpoint checks it. */
export interface LabCertificate {
  keyId: string;
  displayName: string;
  /** The certificate (PEM); its public key verifies the assertion's signature. */
  certPem: string;
  startDateTime: string;
  endDateTime: string;
}

/**
 * ecebot's own sign-in app: a public client ("Allow public client flows", no secret), used only
 * for `signin ENV MAILBOX` with a device code (docs/deployment.md). Entra answers a secret sent
 * by a public client with AADSTS700025 (o365-facts.md §2.3).
 */
export interface LabSigninApp {
  appId: string;
  displayName: string;
  /** Delegated scopes with admin consent. */
  consentedScopes: string[];
}

/** ecebot's own read-only app (client credentials) for Graph and Exchange admin reads. */
export interface LabProbeApp {
  appId: string;
  secret: string;
  /** App roles granted: Graph (Application.Read.All…) and Exchange.ManageAsApp. */
  roles: string[];
}

/** A refresh token the lab will redeem. */
export interface LabRefreshToken {
  /** Whose token it is (the user who signed in). */
  upn: string;
  clientId: string;
  /**
   * When it was issued, on the lab clock (ISO 8601). Each refresh token lives 90 days from its
   * own issue; redeeming it hands out a successor and does not extend it (./entra-server.ts).
   * Unset: issued when the lab started.
   */
  issuedAt?: string;
  /**
   * Issued through a public-client flow (a device code without client credentials): redeemed
   * without a secret. A confidential client's refresh token needs its credential every time.
   */
  publicClient?: boolean;
  /** Entra error to answer instead of a token (e.g. 700082 inactive 90 days). */
  failWith?: number;
  /** `amr` claim of tokens minted from it; `wia` marks a Kerberos/Seamless SSO sign-in. */
  amr: string[];
}

/**
 * One entry of the lab's Entra sign-in log, in the fields Graph's signIn resource carries
 * (o365-facts.md §3.4). Every token the lab's Entra issues or refuses to a user adds one: an
 * authorization-code or device-code sign-in is interactive; a refresh-token redemption (what ECE
 * does whenever its access token expires) is a non-interactive user sign-in, listed only by the
 * beta endpoint with a `signInEventTypes` filter.
 */
export interface LabSignIn {
  createdDateTime: string;
  userPrincipalName: string;
  appId: string;
  /** 0 on success, else the AADSTS number. */
  errorCode: number;
  /** `interactiveUser` for a person at a prompt; `nonInteractiveUser` for a token redemption. */
  eventType?: 'interactiveUser' | 'nonInteractiveUser';
  /** The client's address as Entra saw it (the lab records the socket's peer). */
  ipAddress?: string;
  /** What authenticated the sign-in, as the log's authenticationDetails names it. */
  authenticationMethod?: string;
  /** The client's User-Agent header, as the log's `userAgent` keeps it. */
  userAgent?: string;
}

/**
 * A security group. `members` holds object ids of users or of other groups: membership is
 * transitive, as Graph's checkMemberGroups evaluates it (a member of a nested group counts).
 */
export interface LabGroup {
  id: string;
  displayName: string;
  members: string[];
}

export interface LabTenant {
  tenantId: string;
  domain: string;
  /** Entra ID P1/P2: without it, Graph sign-in logs answer 403 (o365-facts.md §3.4). */
  hasP1: boolean;
  /** Get-TransportConfig SmtpClientAuthenticationDisabled (org-wide). */
  smtpAuthDisabledOrg: boolean;
  users: LabUser[];
  mailboxes: LabMailbox[];
  eceApp: LabApp;
  probeApp: LabProbeApp;
  /** ecebot's own public-client app for device-code sign-ins. */
  signinApp: LabSigninApp;
  /** Opaque refresh token string → what it stands for. */
  refreshTokens: Record<string, LabRefreshToken>;
  signIns: LabSignIn[];
  /** Groups, for ecebot's admin check by group (Graph `checkMemberGroups`). */
  groups: LabGroup[];
}

const E3: LabLicense = {
  skuId: SKU.ENTERPRISEPACK,
  skuPartNumber: 'ENTERPRISEPACK',
  servicePlans: [
    {
      servicePlanId: PLAN.EXCHANGE_S_ENTERPRISE,
      servicePlanName: 'EXCHANGE_S_ENTERPRISE',
      provisioningStatus: 'Success',
      appliesTo: 'User',
    },
  ],
};

/** Opaque refresh token in the shape Entra hands out (`0.A…`), random per lab. */
export function newRefreshToken(): string {
  return `0.A${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '')}`;
}

/**
 * A tenant where everything on the checklist passes: support@ (own token, IMAP), sales@ (a
 * shared mailbox without a licence, served by svc-ece@ over POP3: svc-ece@ is a licensed user
 * with its own mailbox, Full Access and Send As on sales@, and signs in to SMTP as itself),
 * jdoe@ (a workstation user, for the Kerberos trap).
 * `externalHost` is the ECE external URL's host[:port], for the redirect URI.
 */
export function healthyTenant(externalOrigin: string, now: Date = new Date()): LabTenant {
  const domain = 'example.com';
  const user = (local: string, name: string, licensed = true): LabUser => ({
    id: randomUUID(),
    userPrincipalName: `${local}@${domain}`,
    displayName: name,
    licenses: licensed ? [structuredClone(E3)] : [],
  });
  const day = 86400000;
  const eceAppId = randomUUID();
  const rtSupport = newRefreshToken();
  const rtSvc = newRefreshToken();
  const users = [
    user('support', 'Support'),
    // The shared mailbox's own directory object: no licence needed (see LabMailbox.type).
    user('sales', 'Sales', false),
    user('svc-ece', 'ECE service account'),
    user('jdoe', 'Jan Doe'),
  ];
  // Jan Doe runs the mail platform: a member of "Mail operators", which is itself a member of
  // "ecebot admins" (nested, so only a transitive check finds him there).
  const operators: LabGroup = {
    id: randomUUID(),
    displayName: 'Mail operators',
    members: [users[3]!.id],
  };
  const admins: LabGroup = {
    id: randomUUID(),
    displayName: 'ecebot admins',
    members: [operators.id],
  };
  const helpdesk: LabGroup = {
    id: randomUUID(),
    displayName: 'Helpdesk',
    members: [users[0]!.id, users[1]!.id],
  };
  const tenant: LabTenant = {
    tenantId: randomUUID(),
    domain,
    hasP1: true,
    smtpAuthDisabledOrg: false,
    users,
    mailboxes: [
      {
        address: `support@${domain}`,
        owner: `support@${domain}`,
        imapEnabled: true,
        popEnabled: true,
        smtpClientAuthenticationDisabled: false,
        fullAccess: [],
        sendAs: [],
        messages: 3,
      },
      {
        address: `sales@${domain}`,
        owner: `sales@${domain}`,
        type: 'shared',
        imapEnabled: true,
        popEnabled: true,
        smtpClientAuthenticationDisabled: false,
        fullAccess: [`svc-ece@${domain}`],
        sendAs: [`svc-ece@${domain}`],
        messages: 5,
      },
      {
        // The shared account's own mailbox: SMTP AUTH signs in as svc-ece@ (o365-facts.md §1.5).
        address: `svc-ece@${domain}`,
        owner: `svc-ece@${domain}`,
        imapEnabled: true,
        popEnabled: true,
        smtpClientAuthenticationDisabled: false,
        fullAccess: [],
        sendAs: [],
        messages: 0,
      },
    ],
    eceApp: {
      appId: eceAppId,
      id: randomUUID(),
      spId: randomUUID(),
      displayName: 'Cisco ECE',
      signInAudience: 'AzureADMyOrg',
      redirectUris: [`${externalOrigin}/system/oauth2/callback`],
      secrets: [
        {
          keyId: randomUUID(),
          displayName: 'ece-2026',
          hint: 'lab',
          value: `lab~${randomUUID()}`,
          startDateTime: new Date(now.getTime() - 30 * day).toISOString(),
          endDateTime: new Date(now.getTime() + 365 * day).toISOString(),
        },
      ],
      requiredScopes: [
        'IMAP.AccessAsUser.All',
        'POP.AccessAsUser.All',
        'SMTP.Send',
        'offline_access',
      ],
      consentedScopes: [
        'IMAP.AccessAsUser.All',
        'POP.AccessAsUser.All',
        'SMTP.Send',
        'offline_access',
      ],
      accessTokenLifetimeMinutes: 75,
      isFallbackPublicClient: false,
      certificates: [],
    },
    signinApp: {
      appId: randomUUID(),
      displayName: 'ecebot sign-in',
      consentedScopes: [
        'IMAP.AccessAsUser.All',
        'POP.AccessAsUser.All',
        'SMTP.Send',
        'offline_access',
      ],
    },
    probeApp: {
      appId: randomUUID(),
      secret: `probe~${randomUUID()}`,
      roles: [
        'Application.Read.All',
        'Directory.Read.All',
        'User.Read.All',
        'AuditLog.Read.All',
        'Exchange.ManageAsApp',
      ],
    },
    refreshTokens: {
      // ECE generated these ten days ago (lab's choice), well inside their 90 days.
      [rtSupport]: {
        upn: `support@${domain}`,
        clientId: eceAppId,
        amr: ['pwd'],
        issuedAt: new Date(now.getTime() - 10 * day).toISOString(),
      },
      [rtSvc]: {
        upn: `svc-ece@${domain}`,
        clientId: eceAppId,
        amr: ['pwd'],
        issuedAt: new Date(now.getTime() - 10 * day).toISOString(),
      },
    },
    signIns: [],
    groups: [admins, operators, helpdesk],
  };
  // ECE has been reading both mailboxes: its redemptions as support@ and as svc-ece@ (sales@'s
  // shared account) are in the sign-in log.
  tenant.signIns = [
    ...eceSignInHistory(tenant, `support@${domain}`, now),
    ...eceSignInHistory(tenant, `svc-ece@${domain}`, now),
  ];
  return tenant;
}

/** How often the lab's ECE redeemed its refresh tokens before the lab started: the average
 * access-token lifetime (60–90 minutes, 75 on average; access-tokens#token-lifetime). */
export const ECE_REDEEM_EVERY_MS = 75 * 60_000;

/** The address the lab's ECE services server signs in from (every lab server is on loopback). */
export const LAB_ECE_ADDRESS = '127.0.0.1';

/**
 * The sign-in log ECE left in the 26 hours before `now`: a non-interactive redemption of each
 * token account's refresh token every 75 minutes, the newest 10 minutes ago, from the services
 * server. `authenticationMethod` "Previously satisfied" is the lab's choice of wording for a
 * refresh-token redemption.
 */
export function eceSignInHistory(
  t: Pick<LabTenant, 'eceApp'>,
  upn: string,
  now: Date,
  opts: { from?: number; to?: number; errorCode?: number } = {},
): LabSignIn[] {
  const out: LabSignIn[] = [];
  const to = opts.to ?? 10 * 60_000;
  const from = opts.from ?? 26 * 3_600_000;
  for (let ago = to; ago <= from; ago += ECE_REDEEM_EVERY_MS) {
    out.push({
      createdDateTime: new Date(now.getTime() - ago).toISOString(),
      userPrincipalName: upn,
      appId: t.eceApp.appId,
      errorCode: opts.errorCode ?? 0,
      eventType: 'nonInteractiveUser',
      ipAddress: LAB_ECE_ADDRESS,
      authenticationMethod: 'Previously satisfied',
    });
  }
  return out;
}

/** The primary SMTP address of a user: Graph `mail`, else the UPN. */
export function mailOf(u: LabUser): string {
  return u.mail ?? u.userPrincipalName;
}

/**
 * Every name a user goes by, lower-case: UPN, mail and SMTP proxy addresses (what Exchange
 * resolves a `user=` or a trustee by).
 */
export function namesOf(u: LabUser): string[] {
  const smtp = (u.proxyAddresses ?? []).filter(p => /^smtp:/i.test(p)).map(p => p.slice(5));
  return [u.userPrincipalName, mailOf(u), ...smtp].map(n => n.toLowerCase());
}

/** The user one of whose names is `name` (case-insensitive). */
export function userNamed(t: LabTenant, name: string): LabUser | undefined {
  const key = name.toLowerCase();
  return t.users.find(u => namesOf(u).includes(key));
}

/** The group with this display name (the lab's groups have unique names). */
export function groupNamed(t: LabTenant, displayName: string): LabGroup | undefined {
  return t.groups.find(g => g.displayName === displayName);
}

/** The refresh token the lab hands out for a user (first match). */
export function refreshTokenOf(t: LabTenant, upn: string): string | undefined {
  return Object.entries(t.refreshTokens).find(([, v]) => v.upn === upn)?.[0];
}
