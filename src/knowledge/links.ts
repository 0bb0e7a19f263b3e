/**
 * Every documentation link ecebot may show. Only addresses marked *seen* in o365-facts.md §4
 * are here: a guessed URL that 404s in front of a customer costs more trust than no link. Cisco's
 * ECE admin guides have no verified public URL, so remediation names the guide and links the
 * technote instead (./docs.ts).
 */
import type { Link } from '../model';

const link = (title: string, url: string): Link => ({ title, url });

/** The seen links, by a short key. */
export const LINKS = {
  // Cisco.
  technote: link(
    // The copy seen is on cisco.com's Italian site (it_it, see below); a reader needs the title only.
    'Cisco technote 218453: Troubleshoot ECE OAuth2 authentication with Office 365',
    'https://cisco.com/c/it_it/support/docs/contact-center/enterprise-chat-email-1261/218453-troubleshoot-ece-oauth2-authentication-w.html',
  ),
  communityEce116: link(
    'Community walkthrough: ECE 11.6 OAuth configuration with ES12 and ES12_ET1',
    'https://voiptechwikis.com/ece-oauth-config/',
  ),

  // Microsoft: mail protocols and Exchange Online.
  oauthImapPopSmtp: link(
    'Microsoft: Authenticate an IMAP, POP or SMTP connection using OAuth',
    'https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth',
  ),
  smtpAuth: link(
    'Microsoft: Enable or disable authenticated client SMTP submission (SMTP AUTH)',
    'https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission',
  ),
  smtpAuthDisabled: link(
    'Microsoft: SMTP AUTH is disabled (aka.ms/smtp_auth_disabled)',
    'https://aka.ms/smtp_auth_disabled',
  ),
  popImapEnable: link(
    'Microsoft: Enable or disable POP3 or IMAP4 access for a user',
    'https://docs.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/pop3-and-imap4/enable-or-disable-pop3-or-imap4-access',
  ),
  popImapTroubleshoot: link(
    'Microsoft: Troubleshoot POP, IMAP, OWA and ActiveSync in Office 365',
    'https://docs.microsoft.com/en-us/exchange/troubleshoot/configure-mailboxes/pop3-imap-owa-activesync-office-365',
  ),
  popImapSettings: link(
    'Microsoft: POP and IMAP email settings for Outlook',
    'https://support.office.com/article/pop-and-imap-email-settings-for-outlook-8361e398-8af4-4e97-b147-6c6c4ac95353',
  ),
  basicAuthDeprecation: link(
    'Microsoft: Deprecation of Basic authentication in Exchange Online',
    'https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online',
  ),
  smtpBasicAuthRetirement: link(
    'Microsoft: Exchange Online to retire Basic auth for Client Submission (SMTP AUTH)',
    'https://techcommunity.microsoft.com/blog/exchange/exchange-online-to-retire-basic-auth-for-client-submission-smtp-auth/4114750',
  ),
  endpoints: link(
    'Microsoft 365 URLs and IP address ranges web service (worldwide)',
    'https://endpoints.office.com/endpoints/worldwide',
  ),
  endpointsShort: link('Microsoft 365 IP address and URL web service', 'http://aka.ms/ipurlws'),
  rca: link(
    'Microsoft Remote Connectivity Analyzer (Office 365 tests)',
    'https://testconnectivity.microsoft.com/tests/o365',
  ),
  exoAppOnly: link(
    'Microsoft: App-only authentication for unattended scripts in Exchange Online PowerShell',
    'https://github.com/MicrosoftDocs/office-docs-powershell/blob/main/exchange/docs-conceptual/app-only-auth-powershell-v2.md',
  ),

  // Microsoft: identity.
  aadstsReference: link(
    'Microsoft Entra authentication and authorization error codes (AADSTS)',
    'https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes',
  ),
  redirectUriMismatch: link(
    'Microsoft: Redirect URI mismatch (AADSTS50011)',
    'https://aka.ms/redirectUriMismatchError',
  ),
  tokenLifetimes: link(
    'Microsoft: Configurable token lifetimes in the Microsoft identity platform',
    'https://learn.microsoft.com/en-us/entra/identity-platform/configurable-token-lifetimes',
  ),
  accessTokenLifetime: link(
    'Microsoft: Access tokens, token lifetime',
    'https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#token-lifetime',
  ),
  refreshTokens: link(
    'Microsoft: Refresh tokens in the Microsoft identity platform',
    'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
  ),
  certCreds: link(
    'Microsoft: Certificate credentials for application authentication',
    'https://aka.ms/certCreds',
  ),
  signInLogs: link(
    'Microsoft Graph: List signIns',
    'https://learn.microsoft.com/en-us/graph/api/signin-list',
  ),
  licensingPlans: link(
    'Microsoft: Product names and service plan identifiers for licensing',
    'https://learn.microsoft.com/en-us/entra/identity/users/licensing-service-plan-reference',
  ),
  tenancy: link(
    'Microsoft: Single-tenant and multi-tenant apps',
    'https://learn.microsoft.com/en-us/azure/active-directory/develop/single-and-multi-tenant-apps',
  ),
} as const satisfies Record<string, Link>;

export type LinkKey = keyof typeof LINKS;

/**
 * Microsoft's live AADSTS lookup page, one per code. The address pattern was seen with real
 * codes (o365-facts.md §2.1, §4: `https://login.microsoftonline.com/error?code=50058`).
 */
export function aadstsLookup(n: number): Link {
  return link(`Microsoft: AADSTS${n} explained`, `${AADSTS_LOOKUP_PREFIX}${n}`);
}

const AADSTS_LOOKUP_PREFIX = 'https://login.microsoftonline.com/error?code=';

/**
 * The addresses o365-facts.md §4 marks as seen, transcribed by hand (not derived from LINKS), so
 * a test can hold every link ecebot shows against this list. Add here only with a source.
 */
export const SEEN_URLS: ReadonlySet<string> = new Set([
  // Cisco technote 218453, Italian copy on cisco.com (the English path was seen only on a mirror).
  'https://cisco.com/c/it_it/support/docs/contact-center/enterprise-chat-email-1261/218453-troubleshoot-ece-oauth2-authentication-w.html',
  'https://voiptechwikis.com/ece-oauth-config/',
  'https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth',
  'https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission',
  'https://aka.ms/smtp_auth_disabled',
  'https://docs.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/pop3-and-imap4/enable-or-disable-pop3-or-imap4-access',
  'https://docs.microsoft.com/en-us/exchange/troubleshoot/configure-mailboxes/pop3-imap-owa-activesync-office-365',
  'https://support.office.com/article/pop-and-imap-email-settings-for-outlook-8361e398-8af4-4e97-b147-6c6c4ac95353',
  'https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365',
  'https://techcommunity.microsoft.com/blog/exchange/exchange-online-to-retire-basic-auth-for-client-submission-smtp-auth/4114750',
  'https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online',
  'https://devblogs.microsoft.com/microsoft365dev/announcing-oauth-2-0-support-for-imap-smtp-client-protocols-in-exchange-online/',
  'https://github.com/MicrosoftDocs/office-docs-powershell/blob/main/exchange/docs-conceptual/app-only-auth-powershell-v2.md',
  'https://github.com/DanijelkMSFT/ThisandThat/blob/main/Get-IMAPAccessToken.ps1',
  'https://endpoints.office.com/endpoints/worldwide',
  'https://endpoints.office.com/version',
  'http://aka.ms/ipurlws',
  'https://testconnectivity.microsoft.com/tests/o365',
  'https://testconnectivity.microsoft.com/',
  'https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes',
  'https://aka.ms/redirectUriMismatchError',
  'https://learn.microsoft.com/en-us/entra/identity-platform/configurable-token-lifetimes',
  'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
  'https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#token-lifetime',
  'https://aka.ms/certCreds',
  'https://learn.microsoft.com/en-us/graph/api/signin-list',
  'https://learn.microsoft.com/en-us/entra/identity/users/licensing-service-plan-reference',
  'https://learn.microsoft.com/en-us/azure/active-directory/develop/single-and-multi-tenant-apps',
  'https://help.egain.com/help/administration/email_accounts_create.htm',
  'https://help.egain.com/help/administration/email_accounts_testing.htm',
]);

/** Whether a URL is one ecebot is allowed to show. */
export function isSeenUrl(url: string): boolean {
  if (SEEN_URLS.has(url)) return true;
  return (
    url.startsWith(AADSTS_LOOKUP_PREFIX) && /^\d+$/.test(url.slice(AADSTS_LOOKUP_PREFIX.length))
  );
}
