/**
 * Identifiers of the Microsoft 365 objects the checks reason about: Exchange Online service
 * plans and SKUs, resource application ids, delegated scopes and token audiences. The lab
 * (src/lab/tenant.ts) builds its tenant from the same constants, so the simulator and the rules
 * cannot drift apart.
 *
 * Sources: o365-facts.md §1.6 (scopes, audiences), §2.4 (claims), §3.3 (licences), §3.6
 * (what ecebot's own read-only app needs).
 */

/** Exchange Online service plan ids (o365-facts.md §3.3, from Microsoft's licensing CSV). */
export const PLAN = {
  /** Exchange Online (Plan 2), part of Office 365 E3/E5 and Microsoft 365 E3/E5. */
  EXCHANGE_S_ENTERPRISE: 'efb87545-963c-4e0d-99df-69c6916d9eb0',
  /** Exchange Online (Plan 1), e.g. in Office 365 E1 and Business plans. */
  EXCHANGE_S_STANDARD: '9aaf7827-d63c-4b61-89c3-182f06f82e5c',
} as const;

/** SKU ids (o365-facts.md §3.3). */
export const SKU = {
  /** Office 365 E3. */
  ENTERPRISEPACK: '6fd2c87f-b296-42f0-b197-1e91e994b900',
  /** Office 365 E1 (part number not verified, o365-facts.md §3.3). */
  STANDARDPACK: '18181a46-0d4e-45cd-891e-60aabd171b4e',
} as const;

/** Resource application ids (o365-facts.md §1.6, §3.1). */
export const RESOURCE = {
  /** Office 365 Exchange Online. */
  EXCHANGE: '00000002-0000-0ff1-ce00-000000000000',
  /** Microsoft Graph. */
  GRAPH: '00000003-0000-0000-c000-000000000000',
} as const;

/**
 * Delegated permission ids on Microsoft Graph (o365-facts.md §1.6). Whether the "Office 365
 * Exchange Online" entries carry the same ids is unverified, so rules resolve ids through the
 * resource service principal's `oauth2PermissionScopes` first and use this table as a fallback.
 */
export const SCOPE_ID = {
  'IMAP.AccessAsUser.All': '652390e4-393a-48de-9484-05f9b1212954',
  'POP.AccessAsUser.All': 'd7b7f2d9-0f45-4ea1-9d42-e50810c06991',
  'SMTP.Send': '258f6531-6087-4cc4-bb90-092c5fb3ed3f',
  offline_access: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182',
} as const;

/** A delegated scope ECE needs. */
export type MailScope = keyof typeof SCOPE_ID;

/** A mail protocol ECE speaks to Exchange Online. */
export type MailProtocol = 'imap' | 'pop3' | 'smtp';

/** The delegated scope each protocol needs in the token's `scp` (o365-facts.md §1.6). */
export const PROTOCOL_SCOPE: Readonly<Record<MailProtocol, MailScope>> = {
  imap: 'IMAP.AccessAsUser.All',
  pop3: 'POP.AccessAsUser.All',
  smtp: 'SMTP.Send',
};

/**
 * The delegated permissions the ECE app registration must carry for the retrieve protocols in
 * use: each protocol's scope, SMTP.Send (the dispatcher always sends) and offline_access
 * (without it Entra returns no refresh token and ECE cannot refresh — o365-facts.md §5 #17).
 */
export function requiredScopes(retrieves: Iterable<'imap' | 'pop3'>): MailScope[] {
  const out: MailScope[] = [];
  for (const r of new Set(retrieves)) out.push(PROTOCOL_SCOPE[r]);
  out.push('SMTP.Send', 'offline_access');
  return out;
}

/**
 * Audiences of a token Exchange Online accepts for IMAP/POP/SMTP. v1 tokens carry the resource
 * URI (`https://outlook.office.com` or `https://outlook.office365.com`, whichever prefix the
 * scope used; `https://ps.outlook.com` for app-only), v2 tokens the resource's app id
 * (o365-facts.md §1.6, §2.4). A Graph audience means the wrong scope was requested.
 */
export const EXCHANGE_AUDIENCES: readonly string[] = [
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://ps.outlook.com',
  RESOURCE.EXCHANGE,
];

/** Whether an `aud` claim names Exchange Online (case and trailing slash ignored). */
export function isExchangeAudience(aud: string | undefined): boolean {
  if (!aud) return false;
  const a = aud.trim().toLowerCase().replace(/\/+$/, '');
  return EXCHANGE_AUDIENCES.includes(a);
}

/** The `amr` value Entra sets for Windows Integrated Authentication (Kerberos / Seamless SSO). */
export const AMR_WINDOWS_INTEGRATED = 'wia';

/** Service plan names that give a mailbox, best first (o365-facts.md §3.3). */
export const EXCHANGE_PLAN_NAMES = ['EXCHANGE_S_ENTERPRISE', 'EXCHANGE_S_STANDARD'] as const;

/**
 * What ecebot's own read-only app needs for each tenant read (o365-facts.md §3.6), for the
 * reason a check gives when it could not look.
 */
export const PROBE_PERMISSIONS = {
  application: 'Application.Read.All',
  servicePrincipal: 'Directory.Read.All',
  grants: 'Directory.Read.All',
  resourceServicePrincipal: 'Directory.Read.All',
  licenseDetails: 'User.Read.All',
  signIns: 'AuditLog.Read.All and Directory.Read.All (tenant with Entra ID P1)',
  exchange: 'Exchange.ManageAsApp and the Global Reader (or Exchange Administrator) role',
} as const;
