/**
 * What to do about each code: a sentence, the exact fix filled in for the environment (a
 * PowerShell line, an ECE or Entra setting path), and links chosen for the ECE release. Every
 * code in ./codes.ts except OK has an entry (a test holds the registry to that); links come only
 * from ./links.ts (seen URLs) and ./docs.ts (guides by release).
 *
 * Fixes cite their sources: Set-CASMailbox / Add-MailboxPermission (o365-facts.md §3.5, §5),
 * Entra portal paths (o365-facts.md §3.1–3.2), ECE setting paths (checklist.md item 2).
 */
import type { EnvironmentFacts } from '../checklist/rule';
import type { Link, Remediation } from '../checklist/types';
import { CODES, type Code } from './codes';
import { docsFor } from './docs';
import { aadstsLookup, LINKS } from './links';
import { PROBE_PERMISSIONS } from './permissions';
import { checkVersion, formatEs, LAST_ES_RELEASE } from './versions';

/** What a remediation is filled in with. */
export interface RemediationContext {
  env: EnvironmentFacts;
  /** The mailbox it is about. */
  mailbox?: string;
  /** The account whose token serves the mailbox (shared model), or that got the token. */
  account?: string;
  /** The ECE server it failed from. */
  vantage?: string;
  host?: string;
  port?: number;
  /** Days until a credential expires. */
  days?: number;
  /** Delegated scopes involved (missing permission, consent or token scope). */
  scopes?: string[];
}

interface Advice {
  text: string;
  fix?: string;
  links: Link[];
}

type Entry = (ctx: RemediationContext) => Advice;

// Small fill-ins. Placeholders in angle brackets only where the inventory cannot know the value.
const guide = (ctx: RemediationContext): Link[] => docsFor(ctx.env.ece.version).links;
const mbx = (ctx: RemediationContext): string => ctx.mailbox ?? '<mailbox>';
const signInAs = (ctx: RemediationContext): string => ctx.account ?? ctx.mailbox ?? '<account>';
const where = (ctx: RemediationContext): string => (ctx.vantage ? ` from ${ctx.vantage}` : '');
const hostPort = (ctx: RemediationContext): string =>
  ctx.host ? (ctx.port ? `${ctx.host}:${ctx.port}` : ctx.host) : 'the Microsoft 365 endpoint';
const appPath = (ctx: RemediationContext): string =>
  `Entra admin center > App registrations > ${ctx.env.app.clientId}`;
const scopeList = (ctx: RemediationContext, fallback: string): string =>
  ctx.scopes?.length ? ctx.scopes.join(', ') : fallback;
const externalHost = (ctx: RemediationContext): string => {
  try {
    return ctx.env.ece.externalUrl ? new URL(ctx.env.ece.externalUrl).host : '<ECE external host>';
  } catch {
    return '<ECE external host>';
  }
};
/** The origin admins log in with: from adminUrl when known, else the external URL's host. */
const adminOrigin = (ctx: RemediationContext): string => {
  for (const u of [ctx.env.ece.adminUrl, ctx.env.ece.externalUrl]) {
    if (!u) continue;
    try {
      const url = new URL(u);
      if (url.hostname.includes('.')) return `https://${url.host}`;
    } catch {
      // not a URL: try the next one
    }
  }
  return 'https://<FQDN admins use to open ECE>';
};

const firewall = (ctx: RemediationContext): string =>
  `Allow outbound TCP ${ctx.port ?? '<port>'}${where(ctx)} to ${ctx.host ?? '<host>'}`;
const netLinks: Link[] = [LINKS.endpoints, LINKS.endpointsShort, LINKS.technote];

/** Regenerate the ECE token for a mailbox: the technote's InPrivate advice (checklist item 4). */
const regenerate =
  (why: string): Entry =>
  ctx => ({
    text: `${why} Regenerate the token in ECE for ${mbx(ctx)}: open the ECE console in an InPrivate/incognito window so the browser asks for credentials, and sign in as ${signInAs(ctx)}.`,
    fix: `ECE email account for ${mbx(ctx)} > Generate token, in an InPrivate window, signing in as ${signInAs(ctx)}`,
    links: [...guide(ctx), LINKS.refreshTokens],
  });

const grantConsent: Entry = ctx => ({
  text: 'Grant admin consent to the ECE application for its delegated mail permissions (or have each token user consent when signing in).',
  fix: `${appPath(ctx)} > API permissions > Grant admin consent`,
  links: [...guide(ctx), LINKS.oauthImapPopSmtp],
});

const addPermissions: Entry = ctx => ({
  text: `Add the delegated permissions ECE needs to its app registration, then grant consent: ${scopeList(ctx, 'IMAP.AccessAsUser.All or POP.AccessAsUser.All, SMTP.Send, offline_access')}.`,
  fix: `${appPath(ctx)} > API permissions > Add a permission > Office 365 Exchange Online (or Microsoft Graph) > Delegated: ${scopeList(ctx, 'IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send, offline_access')}`,
  links: [...guide(ctx), LINKS.oauthImapPopSmtp],
});

const newSecret =
  (why: string): Entry =>
  ctx => ({
    text: `${why} Create a new client secret (or a certificate) for the ECE app and enter its Value in ECE's email account settings.`,
    fix: `${appPath(ctx)} > Certificates & secrets > New client secret; paste its Value (not the Secret ID) into ECE`,
    links: [...guide(ctx), LINKS.certCreds],
  });

const conditionalAccess =
  (why: string): Entry =>
  () => ({
    text: `${why} The sign-in logs of the ECE app show which policy applied; exclude the mail account or allow its sign-in from the ECE servers.`,
    links: [LINKS.signInLogs, LINKS.aadstsReference],
  });

const accountProblem =
  (why: string): Entry =>
  ctx => ({
    text: `${why} Fix the account ${signInAs(ctx)} in Entra ID, then regenerate the token in ECE (InPrivate window, signing in as ${signInAs(ctx)}).`,
    links: [...guide(ctx), LINKS.aadstsReference],
  });

const requestBug: Entry = () => ({
  text: 'Entra rejected the request as malformed: this is a client-side bug (ECE or ecebot); report it with the Details transcript.',
  links: [LINKS.aadstsReference],
});

const probeAccess: Entry = () => ({
  text: `Give ecebot's read-only app (inventory \`probe\`) its permissions: Graph ${PROBE_PERMISSIONS.application}, ${PROBE_PERMISSIONS.grants}, ${PROBE_PERMISSIONS.licenseDetails} (application, admin-consented), and ${PROBE_PERMISSIONS.exchange} for the Exchange reads.`,
  links: [LINKS.exoAppOnly, LINKS.signInLogs],
});

const ENTRIES: Partial<Record<Code, Entry>> = {
  // Transport.
  DNS_NOT_FOUND: ctx => ({
    text: `${ctx.host ?? 'The host'} does not resolve${where(ctx)}: fix the server's DNS (or proxy) so Microsoft 365 names resolve.`,
    fix: `Make ${ctx.host ?? '<host>'} resolvable${where(ctx)} (test there: Resolve-DnsName ${ctx.host ?? '<host>'})`,
    links: netLinks,
  }),
  DNS_TIMEOUT: ctx => ({
    text: `The DNS server used${where(ctx)} did not answer in time for ${ctx.host ?? 'the host'}.`,
    fix: `Check the DNS servers configured${where(ctx)} (test there: Resolve-DnsName ${ctx.host ?? '<host>'})`,
    links: netLinks,
  }),
  DNS_SERVER_FAILURE: ctx => ({
    text: `The DNS server used${where(ctx)} answered with a failure (SERVFAIL or REFUSED) for ${ctx.host ?? 'the host'}: it cannot resolve Microsoft 365 names for this server.`,
    fix: `Check the DNS servers configured${where(ctx)} and their forwarders (test there: Resolve-DnsName ${ctx.host ?? '<host>'})`,
    links: netLinks,
  }),
  CONNECT_REFUSED: ctx => ({
    text: `${hostPort(ctx)} refused the connection${where(ctx)}: a firewall rejects it. Open the port to the Microsoft 365 endpoints (checklist item 8).`,
    fix: firewall(ctx),
    links: netLinks,
  }),
  CONNECT_TIMEOUT: ctx => ({
    text: `The connection to ${hostPort(ctx)}${where(ctx)} never completed: a firewall drops the packets.`,
    fix: firewall(ctx),
    links: netLinks,
  }),
  CONNECT_RESET: ctx => ({
    text: `The connection to ${hostPort(ctx)}${where(ctx)} was reset by a firewall or proxy.`,
    fix: firewall(ctx),
    links: netLinks,
  }),
  TLS_CERT_INVALID: ctx => ({
    text: `${hostPort(ctx)} presented a certificate the server does not trust${where(ctx)}: usually a TLS-inspecting proxy. Exempt the Microsoft 365 endpoints from inspection (or trust the proxy's CA on the server).`,
    links: netLinks,
  }),
  TLS_CERT_EXPIRED: ctx => ({
    text: `${hostPort(ctx)} presented an expired (or not yet valid) certificate${where(ctx)}: check the server's clock, and any TLS-inspecting proxy in the path.`,
    links: netLinks,
  }),
  TLS_HANDSHAKE_FAILED: ctx => ({
    text: `The TLS handshake with ${hostPort(ctx)} failed${where(ctx)}: something in the path does not let TLS through unchanged.`,
    links: netLinks,
  }),
  STARTTLS_UNAVAILABLE: ctx => ({
    text: `STARTTLS to ${hostPort(ctx)} was refused${where(ctx)}: an SMTP-inspecting firewall strips it. Exchange Online requires STARTTLS before AUTH on port 587.`,
    fix: `Disable SMTP inspection for ${ctx.host ?? 'smtp.office365.com'}:587${where(ctx)}`,
    links: [LINKS.popImapSettings, ...netLinks],
  }),
  GREETING_TIMEOUT: ctx => ({
    text: `${hostPort(ctx)} accepted the connection but said nothing${where(ctx)}: a proxy or firewall holds the traffic.`,
    fix: firewall(ctx),
    links: netLinks,
  }),
  TIMEOUT: ctx => ({
    text: `${hostPort(ctx)} stopped answering${where(ctx)}: a firewall black-holes the traffic, or the path is very slow.`,
    fix: firewall(ctx),
    links: netLinks,
  }),
  PROTOCOL_ERROR: ctx => ({
    text: `${hostPort(ctx)} answered something the protocol does not allow${where(ctx)}: check that the host is really Exchange Online and no proxy rewrites the conversation.`,
    links: [LINKS.popImapSettings, LINKS.technote],
  }),
  REPLY_TOO_LONG: ctx => ({
    text: `${hostPort(ctx)} sent a reply far longer than the protocol allows${where(ctx)}; ecebot stopped reading after 64 KiB. Exchange Online never does this: check that the host is really Exchange Online and no proxy or interception device answers in its place.`,
    links: [LINKS.popImapSettings, LINKS.technote],
  }),
  HTTP_ERROR: ctx => ({
    text: `The HTTPS server answered with an error status${where(ctx)}; see the status and server words in the evidence.`,
    links: guide(ctx),
  }),

  // Mail protocol authentication.
  AUTH_FAILED: ctx => ({
    text: `Exchange Online rejected the token for ${mbx(ctx)}: its audience or scopes are wrong, it expired, or the protocol is disabled for the mailbox. See the token and mailbox-protocols items.`,
    links: [LINKS.oauthImapPopSmtp, LINKS.popImapTroubleshoot, ...guide(ctx)],
  }),
  AUTHENTICATED_NOT_CONNECTED: ctx => ({
    text: `The token is valid but its user cannot open ${mbx(ctx)}: it was generated as another user (often the workstation user through Kerberos SSO), or that account lacks Full Access.`,
    fix: ctx.account
      ? `Add-MailboxPermission -Identity ${mbx(ctx)} -User ${ctx.account} -AccessRights FullAccess -InheritanceType All`
      : `Regenerate the token for ${mbx(ctx)} in an InPrivate window, signing in as ${mbx(ctx)}`,
    links: [...guide(ctx), LINKS.oauthImapPopSmtp],
  }),
  SMTP_AUTH_DISABLED: ctx => ({
    text: `Exchange Online refuses SMTP AUTH for ${mbx(ctx)}. Enable Authenticated SMTP for the mailbox (this overrides the tenant setting); if the mailbox setting is already enabled, security defaults or an authentication policy block it.`,
    fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false`,
    links: [LINKS.smtpAuth, LINKS.smtpAuthDisabled],
  }),
  SMTP_BASIC_AUTH_DISABLED: ctx => ({
    text: `The ECE account for ${mbx(ctx)} still sends a password; Exchange Online accepts only OAuth 2.0. Switch the account to OAuth 2.0 and generate its token.`,
    links: [...guide(ctx), LINKS.smtpBasicAuthRetirement, LINKS.basicAuthDeprecation],
  }),
  SMTP_BLOCKED_BY_POLICY: () => ({
    text: 'Conditional Access or security defaults block SMTP AUTH for this account; the sign-in logs show which policy applied.',
    links: [LINKS.smtpAuth, LINKS.signInLogs],
  }),
  SEND_AS_DENIED: ctx => ({
    text: ctx.account
      ? `${ctx.account} may not send as ${mbx(ctx)}: give the shared account Send As on the mailbox.`
      : `The token's user may not send as ${mbx(ctx)}: the token was generated as another user. Regenerate it signing in as ${mbx(ctx)}.`,
    fix: ctx.account
      ? `Add-RecipientPermission -Identity ${mbx(ctx)} -Trustee ${ctx.account} -AccessRights SendAs`
      : `Regenerate the token for ${mbx(ctx)} in an InPrivate window, signing in as ${mbx(ctx)}`,
    links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
  }),
  SEND_REJECTED: ctx => ({
    text: `Exchange Online accepted the login for ${mbx(ctx)} but refused the test message; the server's words in the evidence say why (e.g. 5.7.60 or SendAsDenied: the account may not send as this address; 5.1.8: the mailbox is blocked for outbound spam).`,
    links: [LINKS.oauthImapPopSmtp, LINKS.smtpAuth],
  }),
  TOKEN_EXPIRED_SESSION: () => ({
    text: 'The access token expired during the session: keep the access token lifetime at 60 minutes or more and let ECE refresh before expiry.',
    links: [LINKS.accessTokenLifetime, LINKS.refreshTokens],
  }),
  XOAUTH2_NOT_OFFERED: ctx => ({
    text: `${hostPort(ctx)} does not offer XOAUTH2: it is not Exchange Online, or a proxy rewrites the capabilities. ECE must use outlook.office365.com (993/995) and smtp.office365.com (587).`,
    links: [LINKS.popImapSettings, LINKS.oauthImapPopSmtp],
  }),

  // Entra ID.
  AADSTS50011: ctx => ({
    text: `The redirect URI ECE sends is not registered on the app: register it exactly (scheme, host, port, path) on the external URL's host ${externalHost(ctx)}.`,
    fix: `${appPath(ctx)} > Authentication > Web > Redirect URIs: add the ECE callback on https://${externalHost(ctx)}`,
    links: [LINKS.redirectUriMismatch, ...guide(ctx)],
  }),
  AADSTS90002: ctx => ({
    text: `The tenant ECE names was not found: use the tenant id ${ctx.env.tenantId}.`,
    links: [LINKS.aadstsReference, ...guide(ctx)],
  }),
  AADSTS700016: ctx => ({
    text: `Entra has no application ${ctx.env.app.clientId} in tenant ${ctx.env.tenantId}: check the client id in ECE and that the app was registered in this tenant.`,
    links: [LINKS.aadstsReference, ...guide(ctx)],
  }),
  AADSTS50194: ctx => ({
    text: `The app is single-tenant, so ECE must use the tenant-specific authority (tenant ${ctx.env.tenantId}), not /common.`,
    links: [LINKS.tenancy, LINKS.aadstsReference],
  }),
  AADSTS7000215: newSecret(
    'Entra rejected the client secret; the usual cause is the secret ID pasted instead of its Value.',
  ),
  AADSTS7000222: newSecret('The client secret ECE uses has expired.'),
  AADSTS7000218: ctx => ({
    text: "The token request carried no client secret: enter the app's client secret Value in ECE's email account settings.",
    fix: `${appPath(ctx)} > Certificates & secrets: copy a valid secret Value into ECE`,
    links: [LINKS.aadstsReference, ...guide(ctx)],
  }),
  AADSTS700025: ctx => ({
    text: 'The app is registered as a public client, but ECE sends a secret: register the redirect URI under the Web platform.',
    fix: `${appPath(ctx)} > Authentication: use the Web platform for the ECE redirect URI`,
    links: [LINKS.aadstsReference, ...guide(ctx)],
  }),
  AADSTS700024: () => ({
    text: "The client assertion's time range is not valid: synchronise the server clock (NTP).",
    links: [LINKS.certCreds, LINKS.aadstsReference],
  }),
  AADSTS65001: grantConsent,
  AADSTS90094: grantConsent,
  AADSTS90095: grantConsent,
  AADSTS65005: addPermissions,
  AADSTS650056: addPermissions,
  AADSTS650057: addPermissions,
  AADSTS650052: () => ({
    text: 'The tenant has no Exchange Online service (the resource is not subscribed): assign Exchange Online licences in this tenant.',
    links: [LINKS.licensingPlans, LINKS.aadstsReference],
  }),
  AADSTS500011: ctx => ({
    text: `Exchange Online (the resource) was not found in tenant ${ctx.env.tenantId}: check the tenant id and that Exchange Online is provisioned.`,
    links: [LINKS.licensingPlans, LINKS.aadstsReference],
  }),
  AADSTS70011: ctx => ({
    text: 'The requested scope is not valid: ECE must ask for https://outlook.office.com/IMAP.AccessAsUser.All (or POP.AccessAsUser.All), https://outlook.office.com/SMTP.Send and offline_access.',
    links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
  }),
  AADSTS28002: ctx => ({
    text: 'The scopes name more than one resource: request Outlook scopes only, never Graph and Outlook in one token request.',
    links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
  }),
  AADSTS700022: ctx => ({
    text: 'The scopes name more than one resource: request Outlook scopes only, never Graph and Outlook in one token request.',
    links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
  }),
  AADSTS54005: regenerate('The authorization code was already redeemed.'),
  AADSTS70008: regenerate('The authorization code or refresh token expired or was revoked.'),
  AADSTS700082: regenerate(
    'The refresh token expired after 90 days without use (ECE stopped refreshing it).',
  ),
  AADSTS50173: regenerate('The grant was revoked (password change or an admin revoked sessions).'),
  AADSTS70043: conditionalAccess(
    'A Conditional Access sign-in frequency policy invalidated the refresh token.',
  ),
  AADSTS50089: regenerate('The sign-in took too long.'),
  AADSTS50126: accountProblem('The user name or password was wrong.'),
  AADSTS50034: accountProblem('The account does not exist in this tenant.'),
  AADSTS50020: accountProblem('The account signed in is a guest or personal account.'),
  AADSTS50057: accountProblem('The account is disabled.'),
  AADSTS50053: accountProblem('The account is locked.'),
  AADSTS50055: accountProblem('The password has expired.'),
  AADSTS50076: regenerate(
    'Multi-factor authentication is required: complete it during the interactive sign-in.',
  ),
  AADSTS50079: regenerate('The account must enrol in multi-factor authentication first.'),
  AADSTS50074: regenerate('Multi-factor authentication was not completed.'),
  AADSTS53003: conditionalAccess('Conditional Access blocked the sign-in.'),
  AADSTS530035: conditionalAccess('Security defaults blocked the sign-in.'),
  AADSTS53000: conditionalAccess('Conditional Access requires a compliant device.'),
  AADSTS53001: conditionalAccess('Conditional Access requires a domain-joined device.'),
  AADSTS50105: ctx => ({
    text: `The app requires user assignment and ${signInAs(ctx)} is not assigned: assign the account to the ECE enterprise application.`,
    fix: `Entra admin center > Enterprise applications > ${ctx.env.app.clientId} > Users and groups > Add ${signInAs(ctx)}`,
    links: [LINKS.aadstsReference],
  }),
  AADSTS81012: regenerate(
    'The browser signed in as the workstation user (Kerberos/Seamless SSO), not the account chosen.',
  ),
  AADSTS50058: regenerate('No interactive session was available for single sign-on.'),
  AADSTS9002313: requestBug,
  AADSTS900144: requestBug,
  AADSTS90014: requestBug,
  AADSTS70016: ctx => ({
    text: 'The device-code sign-in is still waiting: finish signing in on the Microsoft page.',
    fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
    links: [LINKS.aadstsReference],
  }),
  ENTRA_ERROR: () => ({
    text: 'Entra ID refused the request with an error ecebot has no entry for; the AADSTS reference explains the code in the evidence.',
    links: [LINKS.aadstsReference],
  }),
  ENTRA_UNREACHABLE: ctx => ({
    text: `Entra ID (login.microsoftonline.com:443) could not be reached${where(ctx)}: token creation and refresh need it.`,
    fix: `Allow outbound TCP 443${where(ctx)} to login.microsoftonline.com`,
    links: netLinks,
  }),
  DEVICE_CODE_DECLINED: ctx => ({
    text: 'The person signing in declined; start the sign-in again.',
    fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
    links: [LINKS.aadstsReference],
  }),
  DEVICE_CODE_CANCELLED: ctx => ({
    text: 'The device-code sign-in was cancelled before anyone signed in; start it again when ready.',
    fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
    links: [LINKS.aadstsReference],
  }),
  DEVICE_CODE_EXPIRED: ctx => ({
    text: 'Nobody signed in before the device code expired; start the sign-in again.',
    fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
    links: [LINKS.aadstsReference],
  }),

  // Graph and the Exchange admin API (ecebot's own reads).
  GRAPH_FORBIDDEN: probeAccess,
  GRAPH_NO_PREMIUM: () => ({
    text: 'Sign-in logs need Entra ID P1 or P2; without them ecebot judges from the tokens themselves.',
    links: [LINKS.signInLogs],
  }),
  GRAPH_NOT_FOUND: ctx => ({
    text: `Graph has no such object${ctx.mailbox ? `: check that ${ctx.mailbox} is a user principal name in tenant ${ctx.env.tenantId}` : ''}.`,
    links: [LINKS.technote],
  }),
  GRAPH_UNEXPECTED_REPLY: () => ({
    text: "ecebot could not read Microsoft Graph's answer, so nothing was judged from it. The evidence holds the shape of the reply (field names and types, no values); report it with the Details.",
    links: [LINKS.technote],
  }),
  EXO_UNAUTHORIZED: () => ({
    text: "The Exchange admin API refused ecebot's token: give its app the Exchange.ManageAsApp application permission on Office 365 Exchange Online, with admin consent.",
    links: [LINKS.exoAppOnly],
  }),
  EXO_FORBIDDEN: () => ({
    text: "The Exchange admin API refused the cmdlet: assign ecebot's service principal the Global Reader (or Exchange Administrator) role.",
    links: [LINKS.exoAppOnly],
  }),
  EXO_THROTTLED: () => ({
    text: 'The Exchange admin API throttled ecebot; run the check again later.',
    links: [LINKS.exoAppOnly],
  }),
  EXO_UNEXPECTED_REPLY: () => ({
    text: "ecebot could not read the Exchange admin API's answer, so nothing was judged from it. The evidence holds the shape of the reply (property names and types, no values); report it with the Details.",
    links: [LINKS.exoAppOnly],
  }),

  // Checklist findings.
  ECE_VERSION_UNSUPPORTED: ctx => ({
    text: `ECE ${ctx.env.ece.version} cannot use OAuth with Office 365: upgrade to 11.6(1) ES12 ET1 or a later release (${LAST_ES_RELEASE} ES1 or newer recommended).`,
    links: guide(ctx),
  }),
  ECE_ES_TOO_OLD: ctx => {
    const min = checkVersion(ctx.env.ece.version, ctx.env.ece.es, ctx.env.ece.et).minimum;
    const need = min ? `${min.release} ${formatEs(min.es, min.et)}` : 'the OAuth minimum';
    return {
      text: `Install ${need} or later (Cisco bug CSCvr86493); Cisco recommends the newest ES for the release.`,
      fix: `Install ECE ${need} (or the newest ES for ${ctx.env.ece.version})`,
      links: guide(ctx),
    };
  },
  ECE_VERSION_UNKNOWN: ctx => ({
    text: `ecebot knows no OAuth minimum for ECE ${ctx.env.ece.version}: check the version in the inventory and Cisco's release notes for the release.`,
    links: guide(ctx),
  }),
  ECE_ES_NOT_LATEST: ctx => ({
    text: `Install the newest Engineering Special for ECE ${ctx.env.ece.version} (Cisco's best practice).`,
    links: guide(ctx),
  }),
  ECE_EXTERNAL_URL_MISSING: ctx => ({
    text: 'OAuth needs the external URL: set it to the https URL agents and admins use to log in.',
    fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
    links: guide(ctx),
  }),
  ECE_EXTERNAL_URL_NOT_HTTPS: ctx => ({
    text: 'The external URL must be an https URL in the form https://ece.example.com.',
    fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
    links: guide(ctx),
  }),
  ECE_EXTERNAL_URL_NOT_FQDN: ctx => ({
    text: 'The external URL must use the fully qualified domain name admins open the console with, not a short name or an IP address.',
    fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
    links: guide(ctx),
  }),
  ECE_EXTERNAL_URL_ADMIN_MISMATCH: ctx => ({
    text: 'The external URL must be on the FQDN used to open the administration console (and the redirect URI registered in Entra must match it).',
    fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
    links: guide(ctx),
  }),
  ECE_EXTERNAL_URL_UNREACHABLE: ctx => ({
    text: `The external URL ${ctx.env.ece.externalUrl ?? ''} cannot be opened${where(ctx)}: check DNS, the firewall and the load balancer for ${externalHost(ctx)}.`,
    links: guide(ctx),
  }),
  ECE_EXTERNAL_URL_CERT: ctx => ({
    text: `The certificate served for ${externalHost(ctx)}${where(ctx)} is not valid: install a current certificate naming that FQDN on the web server or load balancer.`,
    links: guide(ctx),
  }),
  ENTRA_APP_NOT_FOUND: ctx => ({
    text: `No app registration with client id ${ctx.env.app.clientId} exists in tenant ${ctx.env.tenantId}: check the client id in ECE and the inventory, or register the app as the admin guide describes.`,
    links: guide(ctx),
  }),
  ENTRA_REDIRECT_MISMATCH: ctx => ({
    text: `Register ECE's OAuth redirect URI on the external URL's host ${externalHost(ctx)} (Entra compares it byte for byte, AADSTS50011).`,
    fix: `${appPath(ctx)} > Authentication > Web > Redirect URIs: add the ECE callback on https://${externalHost(ctx)}`,
    links: [...guide(ctx), LINKS.redirectUriMismatch],
  }),
  ENTRA_SECRET_EXPIRED: newSecret(
    'Every client secret and certificate of the ECE app has expired.',
  ),
  ENTRA_SECRET_EXPIRING: ctx =>
    newSecret(
      `The ECE app's client secret expires in ${ctx.days ?? '?'} day${ctx.days === 1 ? '' : 's'}; rotate it before then.`,
    )(ctx),
  ENTRA_PERMISSION_MISSING: addPermissions,
  ENTRA_CONSENT_MISSING: ctx => ({
    ...grantConsent(ctx),
    text: `Grant consent for ${scopeList(ctx, 'the delegated mail permissions')} to the ECE application (admin consent covers every mailbox account).`,
  }),
  ENTRA_TOKEN_LIFETIME_SHORT: ctx => ({
    text: 'Access tokens must last at least 60 minutes (technote item 3): remove or raise the token lifetime policy assigned to the ECE app or the tenant.',
    fix: `Token lifetime policy on ${ctx.env.app.clientId}: AccessTokenLifetime of 01:00:00 or more`,
    links: [LINKS.tokenLifetimes, LINKS.accessTokenLifetime],
  }),
  ECE_TOKEN_MISSING: ctx => ({
    text: `ecebot has no token for ${mbx(ctx)}: sign in once through ecebot, or give the inventory a refreshToken reference for the mailbox.`,
    fix: `signin ${ctx.env.name} ${mbx(ctx)} (or set refreshToken: env:NAME on the mailbox in the inventory)`,
    links: guide(ctx),
  }),
  ECE_TOKEN_WRONG_USER: regenerate(
    'The token belongs to another user, typically the workstation user when the browser signed in with Kerberos/Seamless SSO (amr "wia").',
  ),
  ECE_TOKEN_WRONG_AUDIENCE: ctx => ({
    text: 'The token is not for Exchange Online (a Graph token is rejected by IMAP, POP and SMTP): ECE must request the https://outlook.office.com scopes; then regenerate the token.',
    links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
  }),
  ECE_TOKEN_SCOPE_MISSING: ctx => ({
    text: `The token lacks ${scopeList(ctx, 'a scope the mailbox needs')}: add the permission to the app, consent, and regenerate the token for ${mbx(ctx)}.`,
    fix: `${appPath(ctx)} > API permissions: ${scopeList(ctx, '<scope>')}; then regenerate the token in ECE for ${mbx(ctx)}`,
    links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
  }),
  EXO_SMTP_AUTH_DISABLED: ctx => ({
    text: `Authenticated SMTP is disabled for ${mbx(ctx)}; ECE's dispatcher needs it to send.`,
    fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false`,
    links: [LINKS.smtpAuth, LINKS.smtpAuthDisabled],
  }),
  EXO_SMTP_AUTH_DISABLED_TENANT: ctx => ({
    text: `SMTP AUTH is disabled for the tenant and ${mbx(ctx)} follows the tenant setting. Enable it for the mailbox (least change), or for the whole tenant with Set-TransportConfig -SmtpClientAuthenticationDisabled $false.`,
    fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false`,
    links: [LINKS.smtpAuth, LINKS.smtpAuthDisabled],
  }),
  EXO_IMAP_DISABLED: ctx => ({
    text: `IMAP is disabled for ${mbx(ctx)}, which ECE reads over IMAP.`,
    fix: `Set-CASMailbox -Identity ${mbx(ctx)} -ImapEnabled $true`,
    links: [LINKS.popImapEnable, LINKS.popImapTroubleshoot],
  }),
  EXO_POP_DISABLED: ctx => ({
    text: `POP3 is disabled for ${mbx(ctx)}, which ECE reads over POP3.`,
    fix: `Set-CASMailbox -Identity ${mbx(ctx)} -PopEnabled $true`,
    links: [LINKS.popImapEnable, LINKS.popImapTroubleshoot],
  }),
  EXO_LICENSE_MISSING: ctx => ({
    text: `${mbx(ctx)} has no Exchange Online plan. Cisco asks for at least an E3 licence (Exchange Online Plan 2).`,
    fix: `Microsoft 365 admin center > Users > Active users > ${mbx(ctx)} > Licenses and apps: assign Office 365 E3 (or another licence with Exchange Online Plan 2)`,
    links: [LINKS.licensingPlans, LINKS.technote],
  }),
  EXO_LICENSE_BELOW_E3: ctx => ({
    text: `${mbx(ctx)} has a lower Exchange Online plan than E3. Cisco's checklist asks for E3 or above; Microsoft itself only requires an Exchange Online mailbox plan for IMAP, POP and SMTP, so this is a warning, not a failure.`,
    fix: `Microsoft 365 admin center > Users > Active users > ${mbx(ctx)} > Licenses and apps: assign Office 365 E3 (Exchange Online Plan 2) to follow Cisco's requirement`,
    links: [LINKS.licensingPlans, LINKS.technote],
  }),
  EXO_FULL_ACCESS_MISSING: ctx => ({
    text: `${ctx.account ?? 'The shared account'} needs Full Access to ${mbx(ctx)} (and no Deny entry for it; remove one with Remove-MailboxPermission … -Deny).`,
    fix: `Add-MailboxPermission -Identity ${mbx(ctx)} -User ${ctx.account ?? '<account>'} -AccessRights FullAccess -InheritanceType All`,
    links: [...guide(ctx), LINKS.oauthImapPopSmtp],
  }),
  NO_WORKER: ctx => ({
    text: `No ecebot worker answered for ${ctx.vantage ?? 'this vantage point'} in time: check that the worker runs on that server and reaches the queue.`,
    fix: `ecebot worker --vantage ${ctx.vantage ?? '<server>'}`,
    links: [LINKS.technote],
  }),
  CHECK_CRASHED: () => ({
    text: 'The check itself broke: this is an ecebot bug or an answer it did not expect. The evidence holds what it saw; report it with the Details.',
    links: [LINKS.technote],
  }),
  SLOW_RESPONSE: ctx => ({
    text: `Exchange Online answered slowly${where(ctx)}${ctx.mailbox ? ` for ${ctx.mailbox}` : ''}: check proxies, TLS inspection and the route to Microsoft 365; compare with Microsoft's Remote Connectivity Analyzer.`,
    links: [LINKS.rca, LINKS.endpoints],
  }),
  PROBE_UNAVAILABLE: probeAccess,
};

/** Whether the registry has an entry of its own for a code (a test holds every code to it). */
export function hasRemediation(code: Code): boolean {
  return code !== 'OK' && ENTRIES[code] !== undefined;
}

/**
 * The remediation for a code, filled in for the environment. AADSTS codes also get Microsoft's
 * lookup page for that number. A code without an entry (added to the registry later) gets its
 * registry meaning and the technote, never an exception.
 */
export function remediationFor(code: Code, ctx: RemediationContext): Remediation {
  const entry = ENTRIES[code];
  const advice: Advice = entry
    ? entry(ctx)
    : { text: CODES[code].meaning, links: docsFor(ctx.env.ece.version).links };
  const n = /^AADSTS(\d+)$/.exec(code)?.[1];
  const links = n ? [...advice.links, aadstsLookup(Number(n))] : advice.links;
  const out: Remediation = { code, text: advice.text, links: dedupe(links) };
  if (advice.fix) out.fix = advice.fix;
  return out;
}

function dedupe(links: Link[]): Link[] {
  const seen = new Set<string>();
  return links.filter(l => !seen.has(l.url) && (seen.add(l.url), true));
}
