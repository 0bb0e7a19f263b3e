/**
 * The one code table. Probes put a code on every observation and step; checklist rules match on
 * codes, never on message text (the server's words travel beside the code as evidence). Each
 * code's entry holds everything ecebot knows about it: the checklist item it points to, its
 * meaning in English and Dutch, the short phrase evidence lines use, and what to do about it.
 * `satisfies Record<Code, CodeEntry>` makes the compiler refuse a code without an entry, an entry
 * without a field, and an entry for a code that ../model/codes.ts does not name.
 *
 * Sources for the wire texts: o365-facts.md §1 (Exchange Online IMAP, POP3, SMTP) and §2.3
 * (AADSTS codes from Microsoft's reference-error-codes page).
 *
 * Remediation: a sentence, the exact fix filled in for the environment (a PowerShell line, an
 * ECE or Entra setting path), and links chosen for the ECE release. Links come only from
 * ./links.ts (seen URLs) and ./docs.ts (guides by release). Fixes cite their sources:
 * Set-CASMailbox / Add-MailboxPermission (o365-facts.md §3.5, §5), Entra portal paths
 * (o365-facts.md §3.1–3.2), ECE setting paths (checklist.md item 2). ./remediation.ts fills an
 * entry in for one code (`remediationFor`).
 */
import type { EnvironmentFacts } from '../model';
import type { ItemId, Link } from '../model';
import type { Code } from '../model/codes';
import { docsFor } from './docs';
import { aadstsLookup, LINKS } from './links';
import { PROBE_PERMISSIONS } from './permissions';
import { checkVersion, formatEs, LAST_ES_RELEASE, newestKnownEs } from './versions';

export type { Code };

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
  /**
   * The port the check actually reached when it is not the service's own (an inventory that
   * points a check elsewhere, such as the lab): fixes name `port`, the service's, and this one
   * only as such.
   */
  probedPort?: number;
  /** Days until a credential expires. */
  days?: number;
  /** Delegated scopes involved (missing permission, consent or token scope). */
  scopes?: string[];
  /**
   * The AADSTS number Entra answered, when there was one: an unknown number keeps it, with
   * Microsoft's lookup page, instead of a generic message (reference-error-codes: "link
   * directly to a specific error by adding the error code number to the URL").
   */
  aadsts?: number;
  /** Entra's own words (error_description's first line, already redacted by the probe). */
  server?: string;
}

/** What to do about a code, before ./remediation.ts adds the AADSTS lookup and drops repeats. */
export interface Advice {
  text: string;
  fix?: string;
  links: Link[];
}

/** A code's remediation, filled in for one environment (and mailbox, server, …). */
export type Remedy = (ctx: RemediationContext) => Advice;

/** Everything ecebot knows about one code. */
export interface CodeEntry {
  /** The checklist item the code points to (null: transport-level or ecebot's own, any item). */
  item: ItemId | null;
  /** What the code means, per card language. */
  meaning: { en: string; nl: string };
  /**
   * The outcome in an evidence line: "993 *refused*", "login… *timed out*"; `failed (CODE)`,
   * naming the entry's own code, where no shorter words fit.
   */
  phrase: string;
  /** What to do about it. */
  remediation: Remedy;
}

// Small fill-ins, shared with the Dutch table (./codes-nl.ts). Placeholders in angle brackets
// only where the inventory cannot know the value.
const guide = (ctx: RemediationContext): Link[] => docsFor(ctx.env.ece.version).links;
export const mbx = (ctx: RemediationContext): string => ctx.mailbox ?? '<mailbox>';
export const signInAs = (ctx: RemediationContext): string =>
  ctx.account ?? ctx.mailbox ?? '<account>';
const where = (ctx: RemediationContext): string => (ctx.vantage ? ` from ${ctx.vantage}` : '');
/** `host:port`, or `unknown` (in the reader's language) when no host is known. */
export const hostPortOr = (ctx: RemediationContext, unknown: string): string =>
  ctx.host ? (ctx.port ? `${ctx.host}:${ctx.port}` : ctx.host) : unknown;
const hostPort = (ctx: RemediationContext): string => hostPortOr(ctx, 'the Microsoft 365 endpoint');
export const appPath = (ctx: RemediationContext): string =>
  `Entra admin center > App registrations > ${ctx.env.app.clientId}`;
export const scopeList = (ctx: RemediationContext, fallback: string): string =>
  ctx.scopes?.length ? ctx.scopes.join(', ') : fallback;
/** The external URL's host, or `unknown` (in the reader's language) when it has none. */
export const externalHostOr = (ctx: RemediationContext, unknown: string): string => {
  try {
    return ctx.env.ece.externalUrl ? new URL(ctx.env.ece.externalUrl).host : unknown;
  } catch {
    return unknown;
  }
};
const externalHost = (ctx: RemediationContext): string =>
  externalHostOr(ctx, '<ECE external host>');
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
  `Allow outbound TCP ${ctx.port ?? '<port>'}${where(ctx)} to ${ctx.host ?? '<host>'}${
    ctx.probedPort ? ` (reached on port ${ctx.probedPort})` : ''
  }`;
const netLinks: Link[] = [LINKS.endpoints, LINKS.endpointsShort, LINKS.technote];

/** Regenerate the ECE token for a mailbox: the technote's InPrivate advice (checklist item 4). */
const regenerate =
  (why: string): Remedy =>
  ctx => ({
    text: `${why} Regenerate the token in ECE for ${mbx(ctx)}: open the ECE console in an InPrivate/incognito window so the browser asks for credentials, and sign in as ${signInAs(ctx)}.`,
    fix: `ECE email account for ${mbx(ctx)} > Generate token, in an InPrivate window, signing in as ${signInAs(ctx)}`,
    links: [...guide(ctx), LINKS.refreshTokens],
  });

const grantConsent: Remedy = ctx => ({
  text: 'Grant admin consent to the ECE application for its delegated mail permissions (or have each token user consent when signing in).',
  fix: `${appPath(ctx)} > API permissions > Grant admin consent`,
  links: [...guide(ctx), LINKS.oauthImapPopSmtp],
});

const addPermissions: Remedy = ctx => ({
  text: `Add the delegated permissions ECE needs to its app registration, then grant consent: ${scopeList(ctx, 'IMAP.AccessAsUser.All or POP.AccessAsUser.All, SMTP.Send, offline_access')}.`,
  fix: `${appPath(ctx)} > API permissions > Add a permission > Office 365 Exchange Online (or Microsoft Graph) > Delegated: ${scopeList(ctx, 'IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send, offline_access')}`,
  links: [...guide(ctx), LINKS.oauthImapPopSmtp],
});

const newSecret =
  (why: string): Remedy =>
  ctx => ({
    text: `${why} Create a new client secret (or a certificate) for the ECE app and enter its Value in ECE's email account settings.`,
    fix: `${appPath(ctx)} > Certificates & secrets > New client secret; paste its Value (not the Secret ID) into ECE`,
    links: [...guide(ctx), LINKS.certCreds],
  });

const conditionalAccess =
  (why: string): Remedy =>
  () => ({
    text: `${why} The sign-in logs of the ECE app show which policy applied; exclude the mail account or allow its sign-in from the ECE servers.`,
    links: [LINKS.signInLogs, LINKS.aadstsReference],
  });

const accountProblem =
  (why: string): Remedy =>
  ctx => ({
    text: `${why} Fix the account ${signInAs(ctx)} in Entra ID, then regenerate the token in ECE (InPrivate window, signing in as ${signInAs(ctx)}).`,
    links: [...guide(ctx), LINKS.aadstsReference],
  });

/**
 * ecebot's own test token for a mailbox (from `signin ENV MAILBOX`, through ecebot's public-client
 * sign-in app) is fixed by signing in again: it is not ECE's token, and regenerating ECE's would
 * change nothing (DESIGN.md "Two kinds of token evidence").
 */
const signInAgain =
  (why: string): Remedy =>
  ctx => ({
    text: `${why} This is ecebot's own test token, not ECE's: ECE's token is not affected. Run \`signin ${ctx.env.name} ${mbx(ctx)}\` again and sign in as ${signInAs(ctx)} in a private browser window.`,
    fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
    links: [LINKS.refreshTokens, LINKS.aadstsReference],
  });

/**
 * A stored refresh token Entra cannot parse or does not accept for this app: AADSTS9002313
 * "Request is malformed or invalid" and AADSTS70000 "Refresh Token is malformed or invalid" are
 * what a token truncated or altered in copying gets (msal-android #558: "Something's wrong with
 * your refresh token; it's malformed or invalid"). Nothing in ECE or ecebot is broken: the copy
 * is, so it is copied again in full or generated again.
 */
const tokenDamaged =
  (why: string): Remedy =>
  ctx => ({
    text: `${why} The refresh token for ${mbx(ctx)} is damaged or not one this app issued: usually it was cut off or altered when copied (a line break, a missing end), or it belongs to another app registration. Copy the token again in full wherever it was pasted, or generate the token again in ECE in an InPrivate window signing in as ${signInAs(ctx)}.`,
    fix: `Copy the refresh token for ${mbx(ctx)} again in full, or ECE email account for ${mbx(ctx)} > Generate token (InPrivate window, signing in as ${signInAs(ctx)})`,
    links: [...guide(ctx), LINKS.refreshTokens],
  });

/**
 * Multi-factor authentication demanded of the mail account. Security defaults apply to every
 * account and cannot exclude one ("Security defaults policies can't be customized", Microsoft's
 * security-defaults page), so the lasting fix under security defaults is Conditional Access
 * policies instead of them, or the account completing MFA when the token is generated.
 */
const mfaRequired =
  (why: string): Remedy =>
  ctx => ({
    text: `${why} Generate the token again in ECE for ${mbx(ctx)} (InPrivate window, signing in as ${signInAs(ctx)}) and complete multi-factor authentication during that sign-in. The sign-in log shows which policy asked for it: under security defaults no account can be excluded, so if the requirement must not apply to the mail account, replace security defaults with Conditional Access policies (for example one allowing it from the ECE servers' network); per-user MFA or a Conditional Access policy is changed where it is set.`,
    fix: `ECE email account for ${mbx(ctx)} > Generate token, completing MFA as ${signInAs(ctx)}`,
    links: [...guide(ctx), LINKS.signInLogs, LINKS.aadstsReference],
  });

/**
 * Entra found no tenant by the id or domain the request named (AADSTS90002 "InvalidTenantName",
 * AADSTS900023 "neither a valid DNS name, nor a valid external domain"). Repeating that value
 * would repeat what failed: the value itself is compared with the tenant's own, or the request
 * went to the wrong cloud (reference-error-codes 90002: "a cross-cloud app was used against the
 * wrong cloud").
 */
const tenantNotFound: Remedy = ctx => ({
  text: `Entra has no tenant by the id or domain the request named${ctx.server ? ` ("${ctx.server}")` : ''}. Compare the tenant id or domain in ECE's email account settings (and in ecebot's inventory) character by character with "Tenant ID" on the Overview page of Microsoft Entra ID: usually it is a typo, a domain that is not verified in the tenant, or a placeholder; a tenant in another cloud (US Government, China) signs in on that cloud's login host, not login.microsoftonline.com.`,
  fix: 'Entra admin center > Overview > Tenant ID: copy it into the tenant id field of the ECE email account',
  links: [LINKS.aadstsReference, ...guide(ctx)],
});

/** Whether the token's account is the mailbox itself (its own token, not a shared account's). */
export const ownToken = (ctx: RemediationContext): boolean =>
  !!ctx.account &&
  !!ctx.mailbox &&
  ctx.account.trim().toLowerCase() === ctx.mailbox.trim().toLowerCase();

/** Send As refused for another account, or for a token of unknown user. */
const sendAsDenied: Remedy = ctx => ({
  text: ctx.account
    ? `${ctx.account} may not send as ${mbx(ctx)}: give ${ctx.account} Send As on the mailbox.`
    : `The token's user may not send as ${mbx(ctx)}: the token was generated as another user. Regenerate it signing in as ${mbx(ctx)}.`,
  fix: ctx.account
    ? `Add-RecipientPermission -Identity ${mbx(ctx)} -Trustee ${ctx.account} -AccessRights SendAs`
    : `Regenerate the token for ${mbx(ctx)} in an InPrivate window, signing in as ${mbx(ctx)}`,
  links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
});

const requestBug: Remedy = () => ({
  text: 'Entra rejected the request as malformed: this is a client-side bug (ECE or ecebot); report it with the Details transcript.',
  links: [LINKS.aadstsReference],
});

const probeAccess: Remedy = () => ({
  text: `Give ecebot's read-only app (inventory \`probe\`) its permissions: Graph ${PROBE_PERMISSIONS.application}, ${PROBE_PERMISSIONS.grants}, ${PROBE_PERMISSIONS.licenseDetails} (application, admin-consented), and ${PROBE_PERMISSIONS.exchange} for the Exchange reads.`,
  links: [LINKS.exoAppOnly, LINKS.signInLogs],
});

/** Every code ecebot emits, with its item, meanings, phrase and remediation. */
export const CODE_TABLE = {
  OK: {
    item: null,
    meaning: {
      en: 'Worked as expected.',
      nl: 'Werkte zoals verwacht.',
    },
    phrase: 'ok',
    // OK is never a finding's fault; asked anyway, it answers with its meaning and the
    // release's guides.
    remediation: ctx => ({ text: 'Worked as expected.', links: guide(ctx) }),
  },

  // Transport (any probe).
  DNS_NOT_FOUND: {
    item: 'network',
    meaning: {
      en: 'The host name does not resolve (NXDOMAIN or no address).',
      nl: 'De hostnaam wordt niet omgezet (NXDOMAIN of geen adres).',
    },
    phrase: 'does not resolve',
    remediation: ctx => ({
      text: `${ctx.host ?? 'The host'} does not resolve${where(ctx)}: fix the server's DNS (or proxy) so Microsoft 365 names resolve.`,
      fix: `Make ${ctx.host ?? '<host>'} resolvable${where(ctx)} (test there: Resolve-DnsName ${ctx.host ?? '<host>'})`,
      links: netLinks,
    }),
  },
  DNS_TIMEOUT: {
    item: 'network',
    meaning: {
      en: 'The DNS lookup did not answer within its deadline.',
      nl: 'De DNS-opzoeking kreeg binnen de gestelde tijd geen antwoord.',
    },
    phrase: 'DNS lookup timed out',
    remediation: ctx => ({
      text: `The DNS server used${where(ctx)} did not answer in time for ${ctx.host ?? 'the host'}.`,
      fix: `Check the DNS servers configured${where(ctx)} (test there: Resolve-DnsName ${ctx.host ?? '<host>'})`,
      links: netLinks,
    }),
  },
  DNS_SERVER_FAILURE: {
    item: 'network',
    meaning: {
      en: 'The DNS server answered with a failure (SERVFAIL or REFUSED, RFC 1035 §4.1.1) instead of an address.',
      nl: 'De DNS-server antwoordde met een fout (SERVFAIL of REFUSED, RFC 1035 §4.1.1) in plaats van met een adres.',
    },
    phrase: 'failed (DNS_SERVER_FAILURE)',
    remediation: ctx => ({
      text: `The DNS server used${where(ctx)} answered with a failure (SERVFAIL or REFUSED) for ${ctx.host ?? 'the host'}: it cannot resolve Microsoft 365 names for this server.`,
      fix: `Check the DNS servers configured${where(ctx)} and their forwarders (test there: Resolve-DnsName ${ctx.host ?? '<host>'})`,
      links: netLinks,
    }),
  },
  CONNECT_REFUSED: {
    item: 'network',
    meaning: {
      en: 'The TCP connection was refused (nothing listens, or a firewall rejects).',
      nl: 'De TCP-verbinding werd geweigerd (er luistert niets, of een firewall weigert haar).',
    },
    phrase: 'refused',
    remediation: ctx => ({
      text: `${hostPort(ctx)} refused the connection${where(ctx)}: a firewall rejects it. Open the port to the Microsoft 365 endpoints (checklist item 8).`,
      fix: firewall(ctx),
      links: netLinks,
    }),
  },
  CONNECT_TIMEOUT: {
    item: 'network',
    meaning: {
      en: 'The TCP connection did not complete within its deadline (a firewall drops packets).',
      nl: 'De TCP-verbinding kwam niet binnen de gestelde tijd tot stand (een firewall laat de pakketten vallen).',
    },
    phrase: 'timed out',
    remediation: ctx => ({
      text: `The connection to ${hostPort(ctx)}${where(ctx)} never completed: a firewall drops the packets.`,
      fix: firewall(ctx),
      links: netLinks,
    }),
  },
  CONNECT_RESET: {
    item: 'network',
    meaning: {
      en: 'The connection was reset by the peer or a middlebox.',
      nl: 'De verbinding werd verbroken (reset) door de andere kant of door een apparaat onderweg.',
    },
    phrase: 'reset',
    remediation: ctx => ({
      text: `The connection to ${hostPort(ctx)}${where(ctx)} was reset by a firewall or proxy.`,
      fix: firewall(ctx),
      links: netLinks,
    }),
  },
  TLS_CERT_INVALID: {
    item: 'network',
    meaning: {
      en: 'The server certificate is not trusted or does not name the host.',
      nl: 'Het servercertificaat wordt niet vertrouwd of noemt de host niet.',
    },
    phrase: 'presented an untrusted certificate',
    remediation: ctx => ({
      text: `${hostPort(ctx)} presented a certificate the server does not trust${where(ctx)}: usually a TLS-inspecting proxy. Exempt the Microsoft 365 endpoints from inspection (or trust the proxy's CA on the server).`,
      links: netLinks,
    }),
  },
  TLS_CERT_EXPIRED: {
    item: 'network',
    meaning: {
      en: 'The server certificate has expired (or is not yet valid).',
      nl: 'Het servercertificaat is verlopen (of nog niet geldig).',
    },
    phrase: 'presented an expired certificate',
    remediation: ctx => ({
      text: `${hostPort(ctx)} presented an expired (or not yet valid) certificate${where(ctx)}: check the server's clock, and any TLS-inspecting proxy in the path.`,
      links: netLinks,
    }),
  },
  TLS_HANDSHAKE_FAILED: {
    item: 'network',
    meaning: {
      en: 'The TLS handshake failed (the peer does not speak TLS, or an interception device broke it).',
      nl: 'De TLS-handshake mislukte (de andere kant spreekt geen TLS, of een inspectieapparaat heeft hem verstoord).',
    },
    phrase: 'TLS handshake failed',
    remediation: ctx => ({
      text: `The TLS handshake with ${hostPort(ctx)} failed${where(ctx)}: something in the path does not let TLS through unchanged.`,
      links: netLinks,
    }),
  },
  STARTTLS_UNAVAILABLE: {
    item: 'network',
    meaning: {
      en: 'The SMTP server did not offer or accept STARTTLS (RFC 3207).',
      nl: 'De SMTP-server bood STARTTLS niet aan of accepteerde het niet (RFC 3207).',
    },
    phrase: 'STARTTLS refused',
    remediation: ctx => ({
      text: `STARTTLS to ${hostPort(ctx)} was refused${where(ctx)}: an SMTP-inspecting firewall strips it. Exchange Online requires STARTTLS before AUTH on port 587.`,
      fix: `Disable SMTP inspection for ${ctx.host ?? 'smtp.office365.com'}:587${where(ctx)}`,
      links: [LINKS.popImapSettings, ...netLinks],
    }),
  },
  GREETING_TIMEOUT: {
    item: 'network',
    meaning: {
      en: 'The server accepted the connection but sent no greeting within its deadline.',
      nl: 'De server nam de verbinding aan, maar stuurde binnen de gestelde tijd geen begroeting.',
    },
    phrase: 'sent no greeting',
    remediation: ctx => ({
      text: `${hostPort(ctx)} accepted the connection but said nothing${where(ctx)}: a proxy or firewall holds the traffic.`,
      fix: firewall(ctx),
      links: netLinks,
    }),
  },
  TIMEOUT: {
    item: 'network',
    meaning: {
      en: 'The server stopped answering within the step deadline.',
      nl: 'De server antwoordde niet meer binnen de tijdslimiet van de stap.',
    },
    phrase: 'timed out',
    remediation: ctx => ({
      text: `${hostPort(ctx)} stopped answering${where(ctx)}: a firewall black-holes the traffic, or the path is very slow.`,
      fix: firewall(ctx),
      links: netLinks,
    }),
  },
  PROTOCOL_ERROR: {
    item: null,
    meaning: {
      en: 'The server answered something the protocol does not allow here.',
      nl: 'De server antwoordde iets wat het protocol hier niet toestaat.',
    },
    phrase: 'failed (PROTOCOL_ERROR)',
    remediation: ctx => ({
      text: `${hostPort(ctx)} answered something the protocol does not allow${where(ctx)}: check that the host is really Exchange Online and no proxy rewrites the conversation.`,
      links: [LINKS.popImapSettings, LINKS.technote],
    }),
  },
  REPLY_TOO_LONG: {
    item: null,
    meaning: {
      en: 'The server sent a reply far longer than the protocol allows (an SMTP reply line is at most 512 octets, RFC 5321 §4.5.3.1.5); ecebot stopped reading it.',
      nl: 'De server stuurde een antwoord dat veel langer is dan het protocol toestaat (een SMTP-antwoordregel is hooguit 512 octets, RFC 5321 §4.5.3.1.5); ecebot is gestopt met lezen.',
    },
    phrase: 'failed (REPLY_TOO_LONG)',
    remediation: ctx => ({
      text: `${hostPort(ctx)} sent a reply far longer than the protocol allows${where(ctx)}; ecebot stopped reading after 64 KiB. Exchange Online never does this: check that the host is really Exchange Online and no proxy or interception device answers in its place.`,
      links: [LINKS.popImapSettings, LINKS.technote],
    }),
  },
  HTTP_ERROR: {
    item: null,
    meaning: {
      en: 'The HTTPS server answered with an error status.',
      nl: 'De HTTPS-server antwoordde met een foutstatus.',
    },
    phrase: 'failed (HTTP_ERROR)',
    remediation: ctx => ({
      text: `The HTTPS server answered with an error status${where(ctx)}; see the status and server words in the evidence.`,
      links: guide(ctx),
    }),
  },

  // Network item: TLS versions, legacy endpoints, HTTP(S) proxies; external URL: enterprise CA.
  // Microsoft requires TLS 1.2 or later for Microsoft 365 and retires the opt-in legacy-TLS
  // POP3/IMAP4 endpoints (pop-legacy/imap-legacy.office365.com) between July and December 2026
  // (message center MC1293480; "Opt in to the Exchange Online endpoint for legacy TLS clients
  // using POP3 or IMAP4", learn.microsoft.com). Proxies: RFC 9110 §9.3.6 (CONNECT), §15.5.8 (407).
  TLS_VERSION_REFUSED: {
    item: 'network',
    meaning: {
      en: 'The server (or a device in the path) refused every TLS version from 1.2 up: only TLS 1.0/1.1 would get through, which Microsoft 365 no longer accepts.',
      nl: 'De server (of een apparaat onderweg) weigerde elke TLS-versie vanaf 1.2: alleen TLS 1.0/1.1 zou erdoor komen, en dat accepteert Microsoft 365 niet meer.',
    },
    phrase: 'refused TLS 1.2 and later',
    remediation: ctx => ({
      text: `${hostPort(ctx)} refused TLS 1.2 and later${where(ctx)}: Exchange Online and Entra speak TLS 1.2+, so whatever answered is a device in the path (a TLS-inspecting firewall or proxy) limited to TLS 1.0/1.1. Let TLS 1.2 and 1.3 through unchanged, or exempt the Microsoft 365 endpoints from inspection.`,
      fix: `Allow TLS 1.2 and 1.3${where(ctx)} to ${ctx.host ?? '<host>'}:${ctx.port ?? '<port>'} (no TLS downgrade or inspection for Microsoft 365 endpoints)`,
      links: netLinks,
    }),
  },
  TLS_LEGACY_ENDPOINT: {
    item: 'network',
    meaning: {
      en: 'A legacy-TLS endpoint (*-legacy.office365.com) is configured: Microsoft retires TLS 1.0/1.1 for POP3 and IMAP4 in 2026, and these endpoints with it.',
      nl: 'Er is een legacy-TLS-eindpunt (*-legacy.office365.com) ingesteld: Microsoft schakelt TLS 1.0/1.1 voor POP3 en IMAP4 in 2026 uit, en deze eindpunten daarmee.',
    },
    phrase: 'is a legacy-TLS endpoint',
    remediation: ctx => ({
      text: `${ctx.host ?? 'A *-legacy.office365.com host'} is Microsoft's opt-in endpoint for clients that only speak TLS 1.0/1.1; Microsoft removes legacy TLS for POP3 and IMAP4 (July–December 2026). Point ECE (and the inventory) at outlook.office365.com (IMAP 993, POP3 995) or smtp.office365.com:587 over TLS 1.2, then turn the opt-in off.`,
      fix: 'ECE email account: server outlook.office365.com (IMAP 993 / POP3 995) or smtp.office365.com:587; then Set-TransportConfig -AllowLegacyTLSClients $false',
      links: [LINKS.popImapSettings, ...netLinks],
    }),
  },
  PROXY_UNREACHABLE: {
    item: 'network',
    meaning: {
      en: 'The HTTP proxy for HTTPS could not be reached (its name does not resolve, the connection was refused, or it did not answer in time).',
      nl: 'De HTTP-proxy voor HTTPS was niet bereikbaar (de naam wordt niet omgezet, de verbinding werd geweigerd, of hij antwoordde niet op tijd).',
    },
    phrase: 'failed: the proxy could not be reached',
    remediation: ctx => ({
      text: `The HTTP proxy configured for HTTPS could not be reached${where(ctx)}: check the proxy address and port (inventory endpoints.proxy or HTTPS_PROXY) and that the proxy is running, or set NO_PROXY for hosts reached directly.`,
      fix: `Test${ctx.vantage ? ` on ${ctx.vantage}` : ''}: Test-NetConnection <proxy host> -Port <proxy port>`,
      links: netLinks,
    }),
  },
  PROXY_AUTH_REQUIRED: {
    item: 'network',
    meaning: {
      en: 'The proxy answered 407 Proxy Authentication Required: it wants credentials, or refused the ones given.',
      nl: 'De proxy antwoordde 407 Proxy Authentication Required: hij wil inloggegevens, of weigerde de opgegeven.',
    },
    phrase: 'refused by the proxy: authentication required (407)',
    remediation: ctx => ({
      text: `The proxy refused the tunnel to ${hostPort(ctx)}${where(ctx)} with 407 Proxy Authentication Required: give ecebot proxy credentials (HTTPS_PROXY=http://user:password@proxy:port, or endpoints.proxyCredentials: env:NAME) — Basic authentication only — or have the proxy admins allow the ECE servers to reach the Microsoft 365 endpoints without authentication.`,
      fix: 'Set endpoints.proxyCredentials: env:PROXY_CREDENTIALS (value user:password), or an allow rule on the proxy for the ECE servers',
      links: netLinks,
    }),
  },
  PROXY_REFUSED: {
    item: 'network',
    meaning: {
      en: 'The proxy refused to open a tunnel (CONNECT) to the Microsoft 365 endpoint (403 or another error status).',
      nl: 'De proxy weigerde een tunnel (CONNECT) naar het Microsoft 365-eindpunt te openen (403 of een andere foutstatus).',
    },
    phrase: 'refused by the proxy',
    remediation: ctx => ({
      text: `The proxy refused the tunnel to ${hostPort(ctx)}${where(ctx)} (see its status in the evidence): the proxy's policy does not allow CONNECT to this host and port. Ask the proxy admins to allow the Microsoft 365 endpoints (login.microsoftonline.com, login.microsoft.com, *.office365.com) on 443 for the ECE servers.`,
      fix: `Proxy allow rule: CONNECT ${ctx.host ?? '<host>'}:${ctx.port ?? 443}${ctx.vantage ? ` for ${ctx.vantage}` : ''}`,
      links: netLinks,
    }),
  },
  ECE_EXTERNAL_URL_CA_UNKNOWN: {
    item: 'external-url',
    meaning: {
      en: "The external URL's certificate is current and names the host, but was issued by a CA ecebot was not given (an enterprise CA).",
      nl: 'Het certificaat van de externe URL is geldig en noemt de host, maar is uitgegeven door een CA die ecebot niet kent (een eigen bedrijfs-CA).',
    },
    phrase: 'failed (ECE_EXTERNAL_URL_CA_UNKNOWN)',
    remediation: ctx => ({
      text: `The certificate for ${externalHost(ctx)} is current and names the host, but its chain ends at a CA ecebot does not know${where(ctx)}. If that is your enterprise CA, add your CA certificate (PEM) to endpoints.caFile in the inventory; the web server's certificate itself needs no change.`,
      fix: 'Inventory: endpoints.caFile: <path to your CA certificate, PEM>',
      links: guide(ctx),
    }),
  },

  // Mail protocol authentication (Exchange Online wire responses, o365-facts.md §1).
  AUTH_FAILED: {
    item: 'connectivity',
    meaning: {
      en: 'The server rejected the XOAUTH2 token (IMAP "NO AUTHENTICATE failed.", POP3 "-ERR Authentication failure", SMTP "535 5.7.3").',
      nl: 'De server wees het XOAUTH2-token af (IMAP "NO AUTHENTICATE failed.", POP3 "-ERR Authentication failure", SMTP "535 5.7.3").',
    },
    phrase: 'failed (AUTH_FAILED)',
    remediation: ctx => ({
      text: `Exchange Online rejected the token for ${mbx(ctx)}: its audience or scopes are wrong, it expired, or the protocol is disabled for the mailbox. See the token and mailbox-protocols items.`,
      links: [LINKS.oauthImapPopSmtp, LINKS.popImapTroubleshoot, ...guide(ctx)],
    }),
  },
  AUTHENTICATED_NOT_CONNECTED: {
    item: 'connectivity',
    meaning: {
      en: 'IMAP accepted the token but the token\'s user cannot open the mailbox named in user= ("BAD User is authenticated but not connected.").',
      nl: 'IMAP accepteerde het token, maar de gebruiker van het token kan de mailbox uit user= niet openen ("BAD User is authenticated but not connected.").',
    },
    phrase: 'failed (AUTHENTICATED_NOT_CONNECTED)',
    remediation: ctx =>
      ownToken(ctx)
        ? {
            // The token already is the mailbox's own: regenerating it as the mailbox would
            // repeat what failed. What is left is the mailbox itself or the name ECE logs in with.
            text: `The token is ${mbx(ctx)}'s own and Exchange accepted it, so generating it again as ${mbx(ctx)} would change nothing. Check that ${mbx(ctx)} is a user mailbox in Exchange Online (a shared mailbox is opened by another account with Full Access, not signed in to itself) and that the address ECE logs in with (user= in XOAUTH2) is one the token's user owns.`,
            fix: `Get-Mailbox -Identity ${mbx(ctx)} | Format-List RecipientTypeDetails,UserPrincipalName,EmailAddresses`,
            links: [...guide(ctx), LINKS.oauthImapPopSmtp],
          }
        : {
            text: ctx.account
              ? `The token is valid but ${ctx.account} cannot open ${mbx(ctx)}: give ${ctx.account} Full Access to the mailbox (and no Deny entry).`
              : `The token is valid but its user cannot open ${mbx(ctx)}: it was generated as another user (often the workstation user through Kerberos SSO), or that account lacks Full Access.`,
            fix: ctx.account
              ? `Add-MailboxPermission -Identity ${mbx(ctx)} -User ${ctx.account} -AccessRights FullAccess -InheritanceType All`
              : `Regenerate the token for ${mbx(ctx)} in an InPrivate window, signing in as ${mbx(ctx)}`,
            links: [...guide(ctx), LINKS.oauthImapPopSmtp],
          },
  },
  SMTP_AUTH_DISABLED: {
    item: 'mailbox-protocols',
    meaning: {
      en: 'SMTP AUTH is disabled for the mailbox ("535 5.7.139 … SmtpClientAuthentication is disabled for the Mailbox"); the tenant-wide refusal is SMTP_AUTH_DISABLED_TENANT.',
      nl: 'SMTP AUTH is uitgeschakeld voor de mailbox ("535 5.7.139 … SmtpClientAuthentication is disabled for the Mailbox"); de weigering voor de hele tenant is SMTP_AUTH_DISABLED_TENANT.',
    },
    phrase: 'failed (SMTP_AUTH_DISABLED)',
    remediation: ctx => ({
      text: `Exchange Online refuses SMTP AUTH for ${mbx(ctx)}. Enable Authenticated SMTP for the mailbox (this overrides the tenant setting); if the mailbox setting is already enabled, security defaults or an authentication policy block it.`,
      fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false`,
      links: [LINKS.smtpAuth, LINKS.smtpAuthDisabled],
    }),
  },
  SMTP_BASIC_AUTH_DISABLED: {
    item: 'connectivity',
    meaning: {
      en: 'The client sent a password; Exchange Online accepts only OAuth ("535 5.7.139 … basic authentication is disabled").',
      nl: 'De client stuurde een wachtwoord; Exchange Online accepteert alleen OAuth ("535 5.7.139 … basic authentication is disabled").',
    },
    phrase: 'failed (SMTP_BASIC_AUTH_DISABLED)',
    remediation: ctx => ({
      text: `The ECE account for ${mbx(ctx)} still sends a password; Exchange Online accepts only OAuth 2.0. Switch the account to OAuth 2.0 and generate its token.`,
      links: [...guide(ctx), LINKS.smtpBasicAuthRetirement, LINKS.basicAuthDeprecation],
    }),
  },
  SMTP_BLOCKED_BY_POLICY: {
    item: 'token',
    meaning: {
      en: 'A Conditional Access policy blocked SMTP AUTH ("535 5.7.139 … the request did not meet the criteria to be authenticated successfully"); security defaults are SMTP_SECURITY_DEFAULTS.',
      nl: 'Een Conditional Access-beleid blokkeerde SMTP AUTH ("535 5.7.139 … the request did not meet the criteria to be authenticated successfully"); security defaults zijn SMTP_SECURITY_DEFAULTS.',
    },
    phrase: 'failed (SMTP_BLOCKED_BY_POLICY)',
    remediation: () => ({
      text: 'A Conditional Access policy (often "Block legacy authentication", or one requiring MFA or a compliant device) blocks SMTP AUTH for this account from this server; the Mailbox and Tenant SMTP AUTH switches do not override it. The sign-in logs show which policy applied: exclude the ECE account from it or allow its sign-in from the ECE servers.',
      links: [LINKS.smtpAuth, LINKS.signInLogs],
    }),
  },
  SEND_AS_DENIED: {
    item: 'mailbox-rights',
    meaning: {
      en: 'The authenticated account may not send as this address ("554 5.2.252 SendAsDenied").',
      nl: 'Het aangemelde account mag niet verzenden als dit adres ("554 5.2.252 SendAsDenied").',
    },
    phrase: 'failed (SEND_AS_DENIED)',
    remediation: ctx =>
      ownToken(ctx)
        ? {
            // Signed in as the mailbox itself: Send As on itself is meaningless and a new token
            // as the same user changes nothing; the From address is not one the mailbox owns.
            text: `ECE signed in to SMTP as ${mbx(ctx)} itself, so the refused From address is not one ${mbx(ctx)} owns: send from ${mbx(ctx)} (or add the address as an alias of it), or give ${mbx(ctx)} Send As on the mailbox that owns that address.`,
            fix: `Get-Mailbox -Identity ${mbx(ctx)} | Format-List EmailAddresses`,
            links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
          }
        : sendAsDenied(ctx),
  },
  TOKEN_EXPIRED_SESSION: {
    item: 'token',
    meaning: {
      en: 'The access token expired during the session ("* BYE Session invalidated - AccessTokenExpired").',
      nl: 'Het toegangstoken verliep tijdens de sessie ("* BYE Session invalidated - AccessTokenExpired").',
    },
    phrase: 'failed (TOKEN_EXPIRED_SESSION)',
    remediation: () => ({
      text: 'The access token expired during the session: keep the access token lifetime at 60 minutes or more and let ECE refresh before expiry.',
      links: [LINKS.accessTokenLifetime, LINKS.refreshTokens],
    }),
  },
  XOAUTH2_NOT_OFFERED: {
    item: 'connectivity',
    meaning: {
      en: 'The server does not advertise the XOAUTH2 mechanism.',
      nl: 'De server biedt het XOAUTH2-mechanisme niet aan.',
    },
    phrase: 'failed (XOAUTH2_NOT_OFFERED)',
    remediation: ctx => ({
      text: `${hostPort(ctx)} does not offer XOAUTH2: it is not Exchange Online, or a proxy rewrites the capabilities. ECE must use outlook.office365.com (993/995) and smtp.office365.com (587).`,
      links: [LINKS.popImapSettings, LINKS.oauthImapPopSmtp],
    }),
  },
  SEND_REJECTED: {
    item: 'connectivity',
    meaning: {
      en: 'The SMTP server refused the test message at MAIL FROM, RCPT TO or DATA (4xx/5xx reply).',
      nl: 'De SMTP-server weigerde het testbericht bij MAIL FROM, RCPT TO of DATA (4xx/5xx-antwoord).',
    },
    phrase: 'failed (SEND_REJECTED)',
    remediation: ctx => ({
      text: `Exchange Online accepted the login for ${mbx(ctx)} but refused the test message; the server's words in the evidence say why (e.g. 5.7.60 or SendAsDenied: the account may not send as this address; 5.1.8: the mailbox is blocked for outbound spam).`,
      links: [LINKS.oauthImapPopSmtp, LINKS.smtpAuth],
    }),
  },

  // Mail replies read by reply code, enhanced status and response code (RFC 5321 §4.2,
  // RFC 3463 and the RFC 5248 registry, RFC 4954 §6, RFC 5530, RFC 2449 §8 / RFC 3206): the
  // refusals that are not a verdict on the token.
  MAIL_TLS_VERSION_REFUSED: {
    item: 'network',
    meaning: {
      en: 'Exchange Online refused the session because it was TLS 1.0 or 1.1 ("421 4.7.66 TLS 1.0 and 1.1 are not supported").',
      nl: 'Exchange Online weigerde de sessie omdat die TLS 1.0 of 1.1 gebruikte ("421 4.7.66 TLS 1.0 and 1.1 are not supported").',
    },
    phrase: 'refused TLS 1.0/1.1',
    // Microsoft: TLS 1.0/1.1 are refused on the regular SMTP AUTH, POP3 and IMAP4 endpoints; the
    // opt-in *-legacy.office365.com endpoints are a stopgap, and the POP3/IMAP4 ones are removed
    // from July 2026 (o365-facts.md §8, MC1293480). The fix is TLS 1.2 on the client's side.
    remediation: ctx => ({
      text: `${hostPort(ctx)} refused the session${where(ctx)} because it arrived over TLS 1.0 or 1.1; Exchange Online requires TLS 1.2 or later. ecebot itself negotiates TLS 1.2 or later, so when ecebot sees this a TLS-inspecting device in the path re-encrypts with an old version; when ECE sees it, ECE's Java runtime or the server's operating system offers only TLS 1.0/1.1. Enable TLS 1.2 there. The *-legacy.office365.com endpoints are not a fix: Microsoft is removing legacy TLS for POP3 and IMAP4 altogether.`,
      fix: `Enable TLS 1.2${where(ctx)} for ECE's Java runtime and the operating system (and on any TLS-inspecting proxy to ${ctx.host ?? 'the Microsoft 365 endpoints'})`,
      links: [LINKS.tlsLegacySmtp, LINKS.tlsLegacyPopImap, ...netLinks],
    }),
  },
  MAIL_TLS_REQUIRED: {
    item: 'network',
    meaning: {
      en: 'The server refuses to authenticate without TLS (IMAP [PRIVACYREQUIRED], SMTP "530 5.7.0 Must issue a STARTTLS command first", "538 5.7.11 Encryption required").',
      nl: 'De server weigert aanmelden zonder TLS (IMAP [PRIVACYREQUIRED], SMTP "530 5.7.0 Must issue a STARTTLS command first", "538 5.7.11 Encryption required").',
    },
    phrase: 'refused without TLS',
    remediation: ctx => ({
      text: `${hostPort(ctx)} says the session is not encrypted${where(ctx)}: something in the path ends TLS (a proxy that terminates it and speaks plain text onwards), or the client was set to connect without TLS. Exchange Online needs implicit TLS on 993/995 and STARTTLS on 587 before AUTH.`,
      fix: `Use TLS to ${ctx.host ?? 'the Microsoft 365 endpoint'}: IMAP 993 and POP3 995 with SSL/TLS, SMTP 587 with STARTTLS; exempt the endpoints from any proxy that terminates TLS${where(ctx)}`,
      links: [LINKS.popImapSettings, ...netLinks],
    }),
  },
  MAIL_TEMPORARY: {
    item: null,
    meaning: {
      en: 'The server refused for now and asks to try again later (SMTP 4xx / 4.x.x, RFC 5321 §4.2.1 and RFC 3463; IMAP [UNAVAILABLE] or [LIMIT], RFC 5530; POP3 [SYS/TEMP] or [LOGIN-DELAY], RFC 3206 and RFC 2449): no verdict on the token or the mailbox.',
      nl: 'De server weigerde voorlopig en vraagt het later opnieuw te proberen (SMTP 4xx / 4.x.x, RFC 5321 §4.2.1 en RFC 3463; IMAP [UNAVAILABLE] of [LIMIT], RFC 5530; POP3 [SYS/TEMP] of [LOGIN-DELAY], RFC 3206 en RFC 2449): geen oordeel over het token of de mailbox.',
    },
    phrase: 'answered "try again later"',
    remediation: ctx => ({
      text: `${hostPort(ctx)} answered with a temporary failure${where(ctx)}: the server, not the token or the mailbox settings, refused for now. Nothing was established about ${mbx(ctx)}; run the check again in a few minutes. If it stays, the server's words in the evidence say which limit or outage it is (Microsoft 365 service health shows Exchange Online incidents).`,
      fix: `Run the check again later for ${mbx(ctx)}`,
      links: [LINKS.popImapTroubleshoot, LINKS.smtpAuth],
    }),
  },
  MAIL_SERVER_FAILURE: {
    item: null,
    meaning: {
      en: 'The server reported a failure of its own (IMAP [SERVERBUG], RFC 5530; POP3 [SYS/PERM], RFC 3206): not the token, not the mailbox settings.',
      nl: 'De server meldde een eigen storing (IMAP [SERVERBUG], RFC 5530; POP3 [SYS/PERM], RFC 3206): niet het token, niet de mailboxinstellingen.',
    },
    phrase: 'failed (MAIL_SERVER_FAILURE)',
    remediation: ctx => ({
      text: `${hostPort(ctx)} reported a failure of its own${where(ctx)} that will not go away by retrying: the server's words in the evidence say what. This is the mail server's fault, not ECE's token or settings; check Microsoft 365 service health and open a case with Microsoft with the evidence.`,
      links: [LINKS.popImapTroubleshoot, LINKS.rca],
    }),
  },
  MAILBOX_IN_USE: {
    item: 'connectivity',
    meaning: {
      en: 'The login worked but the mailbox is locked by another session (POP3 [IN-USE], RFC 2449 §8.1.2; IMAP [INUSE], RFC 5530).',
      nl: 'Het aanmelden lukte, maar de mailbox is vergrendeld door een andere sessie (POP3 [IN-USE], RFC 2449 §8.1.2; IMAP [INUSE], RFC 5530).',
    },
    phrase: 'in use by another session',
    remediation: ctx => ({
      text: `The token for ${mbx(ctx)} was accepted, but another session holds the mailbox: a POP3 maildrop is opened by one session at a time. Usually that is ECE's own retriever (or a second ECE instance or mail client reading the same mailbox). Run the check again when the retriever is idle; make sure only one ECE instance reads ${mbx(ctx)}.`,
      fix: `Let one reader use ${mbx(ctx)} at a time (stop other clients polling it), then run the check again`,
      links: [LINKS.popImapTroubleshoot, ...guide(ctx)],
    }),
  },
  MAILBOX_ACCESS_DENIED: {
    item: 'mailbox-rights',
    meaning: {
      en: 'The token was accepted but its account may not open the mailbox ("430 4.2.0 STOREDRV; mailbox logon failure … MapiExceptionLogonFailed", IMAP [AUTHORIZATIONFAILED] or [NOPERM], RFC 5530).',
      nl: 'Het token werd geaccepteerd, maar het account mag de mailbox niet openen ("430 4.2.0 STOREDRV; mailbox logon failure … MapiExceptionLogonFailed", IMAP [AUTHORIZATIONFAILED] of [NOPERM], RFC 5530).',
    },
    phrase: 'failed (MAILBOX_ACCESS_DENIED)',
    // STOREDRV logon failure: the signed-in principal cannot log on to the mailbox it submits
    // from (o365-facts.md §1.4, email-oauth2-proxy #271); RFC 5530 AUTHORIZATIONFAILED: the
    // authentication identity may not act as the authorization identity (user=).
    remediation: ctx => ({
      text: `Exchange Online accepted the sign-in but ${ctx.account ?? "the token's account"} has no rights on ${mbx(ctx)}: it cannot log on to the mailbox. Give the account Full Access to the mailbox, and Send As when ECE sends from it.`,
      fix: ctx.account
        ? `Add-MailboxPermission -Identity ${mbx(ctx)} -User ${ctx.account} -AccessRights FullAccess -InheritanceType All\nAdd-RecipientPermission -Identity ${mbx(ctx)} -Trustee ${ctx.account} -AccessRights SendAs`
        : `Add-MailboxPermission -Identity ${mbx(ctx)} -User <account that signs in> -AccessRights FullAccess -InheritanceType All`,
      links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
    }),
  },
  MAIL_CONTACT_ADMIN: {
    item: 'connectivity',
    meaning: {
      en: 'The server refused the account and says to contact the administrator (IMAP [CONTACTADMIN], RFC 5530): the account is blocked on the mail server side.',
      nl: 'De server weigerde het account en verwijst naar de beheerder (IMAP [CONTACTADMIN], RFC 5530): het account is aan de kant van de mailserver geblokkeerd.',
    },
    phrase: 'failed (MAIL_CONTACT_ADMIN)',
    remediation: ctx => ({
      text: `${hostPort(ctx)} refused ${signInAs(ctx)} and asks to contact its administrator: the account is blocked or disabled on the mail side, not a token problem. Check the account in the Microsoft 365 admin center (sign-in blocked, mailbox disabled or on hold) and the server's words in the evidence.`,
      links: [LINKS.popImapTroubleshoot, LINKS.signInLogs],
    }),
  },
  SMTP_AUTH_DISABLED_TENANT: {
    item: 'mailbox-protocols',
    meaning: {
      en: 'SMTP AUTH is disabled for the whole tenant and the account does not override it ("535 5.7.139 … SmtpClientAuthentication is disabled for the Tenant").',
      nl: 'SMTP AUTH is uitgeschakeld voor de hele tenant en het account wijkt daar niet van af ("535 5.7.139 … SmtpClientAuthentication is disabled for the Tenant").',
    },
    phrase: 'failed (SMTP_AUTH_DISABLED_TENANT)',
    // Microsoft's SMTP AUTH doc: the organization switch is Set-TransportConfig
    // -SmtpClientAuthenticationDisabled; the mailbox switch (Set-CASMailbox) overrides it.
    remediation: ctx => ({
      text: `Exchange Online refuses SMTP AUTH for the whole tenant ("disabled for the Tenant"), so ${mbx(ctx)} cannot send whatever its token. Enable Authenticated SMTP for the account that signs in (the mailbox setting overrides the tenant's; least change), or turn SMTP AUTH on for the tenant.`,
      fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false\nor, for the whole tenant: Set-TransportConfig -SmtpClientAuthenticationDisabled $false`,
      links: [LINKS.smtpAuth, LINKS.smtpAuthDisabled],
    }),
  },
  SMTP_SECURITY_DEFAULTS: {
    item: 'mailbox-protocols',
    meaning: {
      en: 'Entra ID security defaults block SMTP AUTH ("535 5.7.139 … user is locked by your organization\'s security defaults policy").',
      nl: 'De standaardinstellingen voor beveiliging (security defaults) van Entra ID blokkeren SMTP AUTH ("535 5.7.139 … user is locked by your organization\'s security defaults policy").',
    },
    phrase: 'failed (SMTP_SECURITY_DEFAULTS)',
    // Microsoft's SMTP AUTH doc: "If you've enabled security defaults in your organization, SMTP
    // AUTH is already disabled in Exchange Online" (OfficeDocs-Exchange PR #2080); the mailbox
    // and tenant switches do not override it.
    remediation: () => ({
      text: "Entra ID security defaults are on for the tenant, and with them Exchange Online refuses SMTP AUTH for every account whatever the Set-CASMailbox and Set-TransportConfig switches say. A tenant admin turns security defaults off and replaces them with Conditional Access policies that keep MFA for people and allow the ECE account's SMTP AUTH.",
      fix: 'Entra admin center > Identity > Overview > Properties > Manage security defaults: Disabled (after creating the equivalent Conditional Access policies)',
      links: [LINKS.smtpAuth, LINKS.signInLogs],
    }),
  },
  SMTP_NOT_AUTHENTICATED: {
    item: 'connectivity',
    meaning: {
      en: 'The server refused MAIL FROM because the session was not authenticated ("530 5.7.57 Client not authenticated to send mail", RFC 4954 §6 "530 5.7.0 Authentication required").',
      nl: 'De server weigerde MAIL FROM omdat de sessie niet was aangemeld ("530 5.7.57 Client not authenticated to send mail", RFC 4954 §6 "530 5.7.0 Authentication required").',
    },
    phrase: 'failed (SMTP_NOT_AUTHENTICATED)',
    remediation: ctx => ({
      text: `${hostPort(ctx)} was asked to send before any successful AUTH: the client sent MAIL FROM without authenticating (authentication switched off in the account, or AUTH failed earlier and the client went on), or it talks to a port or host that does not take client submission. ECE's account must use smtp.office365.com port 587 with STARTTLS and OAuth 2.0 authentication; the refusal before it, if any, is the real cause.`,
      fix: `ECE email account for ${mbx(ctx)}: outgoing server smtp.office365.com, port 587, STARTTLS, authentication OAuth 2.0`,
      links: [LINKS.smtpAuth, LINKS.oauthImapPopSmtp, ...guide(ctx)],
    }),
  },

  // Entra ID (AADSTS codes, o365-facts.md §2.3).
  AADSTS50011: {
    item: 'app-registration',
    meaning: {
      en: 'Redirect URI does not match the ones registered for the application.',
      nl: 'De redirect-URI komt niet overeen met de URI’s die bij de applicatie geregistreerd zijn.',
    },
    phrase: 'failed (AADSTS50011)',
    remediation: ctx => ({
      text: `The redirect URI ECE sends is not registered on the app: register it exactly (scheme, host, port, path) on the external URL's host ${externalHost(ctx)}.`,
      fix: `${appPath(ctx)} > Authentication > Web > Redirect URIs: add the ECE callback on https://${externalHost(ctx)}`,
      links: [LINKS.redirectUriMismatch, ...guide(ctx)],
    }),
  },
  AADSTS90002: {
    item: 'app-registration',
    meaning: {
      en: 'Tenant not found.',
      nl: 'Tenant niet gevonden.',
    },
    phrase: 'failed (AADSTS90002)',
    remediation: tenantNotFound,
  },
  AADSTS700016: {
    item: 'app-registration',
    meaning: {
      en: 'Application not found in the directory.',
      nl: 'Applicatie niet gevonden in de directory.',
    },
    phrase: 'failed (AADSTS700016)',
    remediation: ctx => ({
      text: `Entra has no application with the client id the request named in this tenant: compare the Application (client) ID in ECE's email account settings with the one on the app registration's Overview page (not its Object ID or a secret), and check that the app is registered in the tenant the mailboxes are in (inventory: ${ctx.env.app.clientId} in ${ctx.env.tenantId}).`,
      links: [LINKS.aadstsReference, ...guide(ctx)],
    }),
  },
  AADSTS50194: {
    item: 'app-registration',
    meaning: {
      en: 'Application is not multi-tenant; /common is not allowed.',
      nl: 'De applicatie is niet multitenant; /common is niet toegestaan.',
    },
    phrase: 'failed (AADSTS50194)',
    remediation: ctx => ({
      text: `The app is single-tenant, so ECE must use the tenant-specific authority (tenant ${ctx.env.tenantId}), not /common.`,
      links: [LINKS.tenancy, LINKS.aadstsReference],
    }),
  },
  AADSTS7000215: {
    item: 'app-registration',
    meaning: {
      en: 'Invalid client secret (often the secret ID pasted instead of its value).',
      nl: 'Ongeldig clientgeheim (vaak is de geheim-ID geplakt in plaats van de waarde).',
    },
    phrase: 'failed (AADSTS7000215)',
    remediation: newSecret(
      'Entra rejected the client secret; the usual cause is the secret ID pasted instead of its Value.',
    ),
  },
  AADSTS7000222: {
    item: 'app-registration',
    meaning: {
      en: 'The client secret has expired.',
      nl: 'Het clientgeheim is verlopen.',
    },
    phrase: 'failed (AADSTS7000222)',
    remediation: newSecret('The client secret ECE uses has expired.'),
  },
  AADSTS7000218: {
    item: 'app-registration',
    meaning: {
      en: 'The request must contain client_assertion or client_secret.',
      nl: 'Het verzoek moet client_assertion of client_secret bevatten.',
    },
    phrase: 'failed (AADSTS7000218)',
    remediation: ctx => ({
      text: "The token request carried no client secret: enter the app's client secret Value in ECE's email account settings.",
      fix: `${appPath(ctx)} > Certificates & secrets: copy a valid secret Value into ECE`,
      links: [LINKS.aadstsReference, ...guide(ctx)],
    }),
  },
  AADSTS700025: {
    item: 'app-registration',
    meaning: {
      en: 'A public client must not send a secret.',
      nl: 'Een openbare client (public client) mag geen geheim meesturen.',
    },
    phrase: 'failed (AADSTS700025)',
    remediation: ctx => ({
      text: 'The app is registered as a public client, but ECE sends a secret: register the redirect URI under the Web platform.',
      fix: `${appPath(ctx)} > Authentication: use the Web platform for the ECE redirect URI`,
      links: [LINKS.aadstsReference, ...guide(ctx)],
    }),
  },
  AADSTS700024: {
    item: 'app-registration',
    meaning: {
      en: 'Client assertion is not within its valid time range (clock skew).',
      nl: 'De clientassertie valt niet binnen haar geldigheidsperiode (klokverschil).',
    },
    phrase: 'failed (AADSTS700024)',
    remediation: () => ({
      text: "The client assertion's time range is not valid: synchronise the server clock (NTP).",
      links: [LINKS.certCreds, LINKS.aadstsReference],
    }),
  },
  AADSTS700027: {
    item: 'app-registration',
    meaning: {
      en: 'The client assertion has an invalid signature, or its certificate is not on the app.',
      nl: 'De clientassertie heeft een ongeldige handtekening, of het certificaat staat niet bij de app.',
    },
    phrase: 'failed (AADSTS700027)',
    remediation: ctx => ({
      text: 'Entra could not verify the client assertion: upload the certificate ECE signs with to the app registration (its thumbprint must be listed), or use the matching private key.',
      fix: `${appPath(ctx)} > Certificates & secrets > Certificates: upload the certificate`,
      links: [LINKS.certCreds, LINKS.aadstsReference],
    }),
  },
  AADSTS50012: {
    item: 'app-registration',
    meaning: {
      en: "The client assertion's audience is not this tenant's token endpoint.",
      nl: 'De doelgroep (aud) van de clientassertie is niet het tokenendpoint van deze tenant.',
    },
    phrase: 'failed (AADSTS50012)',
    remediation: ctx => ({
      text: `The client assertion names another audience: its aud must be https://login.microsoftonline.com/${ctx.env.tenantId}/oauth2/v2.0/token.`,
      links: [LINKS.certCreds, LINKS.aadstsReference],
    }),
  },
  AADSTS65001: {
    item: 'app-registration',
    meaning: {
      en: 'No user or admin consent for the application and scopes.',
      nl: 'Er is geen toestemming (consent) van gebruiker of beheerder voor de applicatie en de scopes.',
    },
    phrase: 'failed (AADSTS65001)',
    remediation: grantConsent,
  },
  AADSTS90094: {
    item: 'app-registration',
    meaning: {
      en: 'Admin consent is required.',
      nl: 'Beheerderstoestemming is vereist.',
    },
    phrase: 'failed (AADSTS90094)',
    remediation: grantConsent,
  },
  AADSTS90095: {
    item: 'app-registration',
    meaning: {
      en: 'Admin consent is required.',
      nl: 'Beheerderstoestemming is vereist.',
    },
    phrase: 'failed (AADSTS90095)',
    remediation: grantConsent,
  },
  AADSTS65005: {
    item: 'app-registration',
    meaning: {
      en: 'The application is misconfigured: the resource is not among its required permissions.',
      nl: 'De applicatie is verkeerd geconfigureerd: de resource staat niet tussen haar vereiste machtigingen.',
    },
    phrase: 'failed (AADSTS65005)',
    remediation: addPermissions,
  },
  AADSTS650056: {
    item: 'app-registration',
    meaning: {
      en: 'Misconfigured application: permissions to the resource are missing.',
      nl: 'Verkeerd geconfigureerde applicatie: machtigingen voor de resource ontbreken.',
    },
    phrase: 'failed (AADSTS650056)',
    remediation: addPermissions,
  },
  AADSTS650057: {
    item: 'app-registration',
    meaning: {
      en: "Invalid resource: the resource is not in the application's required permissions.",
      nl: 'Ongeldige resource: de resource staat niet in de vereiste machtigingen van de applicatie.',
    },
    phrase: 'failed (AADSTS650057)',
    remediation: addPermissions,
  },
  AADSTS650052: {
    item: 'license',
    meaning: {
      en: 'The organisation has not subscribed to the service (Exchange Online service principal missing).',
      nl: 'De organisatie heeft geen abonnement op de dienst (de service principal van Exchange Online ontbreekt).',
    },
    phrase: 'failed (AADSTS650052)',
    remediation: () => ({
      text: 'The tenant has no Exchange Online service (the resource is not subscribed): assign Exchange Online licences in this tenant.',
      links: [LINKS.licensingPlans, LINKS.aadstsReference],
    }),
  },
  AADSTS500011: {
    // reference-error-codes: "You might have sent your authentication request to the wrong
    // tenant", or the resource named in the scope is not one the tenant has: a tenant or scope
    // mistake in the app's settings far more often than a missing subscription.
    item: 'app-registration',
    meaning: {
      en: 'The resource named in the scope was not found in the tenant (wrong tenant, or a mistyped resource).',
      nl: 'De resource uit de scope is niet gevonden in de tenant (verkeerde tenant, of een verkeerd getypte resource).',
    },
    phrase: 'failed (AADSTS500011)',
    remediation: ctx => ({
      text: `Entra found no resource by the name the scope gave in this tenant${ctx.server ? ` ("${ctx.server}")` : ''}. Check the tenant id in ECE against "Tenant ID" on the Entra Overview page (the request went to the wrong tenant), and that the scopes name https://outlook.office.com/ exactly (no typo, no doubled https://); only when both are right is Exchange Online missing from the tenant.`,
      links: [LINKS.oauthImapPopSmtp, LINKS.aadstsReference, ...guide(ctx)],
    }),
  },
  AADSTS70011: {
    item: 'token',
    meaning: {
      en: 'Invalid scope.',
      nl: 'Ongeldige scope.',
    },
    phrase: 'failed (AADSTS70011)',
    remediation: ctx => ({
      text: 'The requested scope is not valid: ECE must ask for https://outlook.office.com/IMAP.AccessAsUser.All (or POP.AccessAsUser.All), https://outlook.office.com/SMTP.Send and offline_access.',
      links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
    }),
  },
  AADSTS28002: {
    item: 'token',
    meaning: {
      en: 'Invalid scope (more than one resource).',
      nl: 'Ongeldige scope (meer dan één resource).',
    },
    phrase: 'failed (AADSTS28002)',
    remediation: ctx => ({
      text: 'The scopes name more than one resource: request Outlook scopes only, never Graph and Outlook in one token request.',
      links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
    }),
  },
  AADSTS700022: {
    item: 'token',
    meaning: {
      en: 'Invalid scope (more than one resource).',
      nl: 'Ongeldige scope (meer dan één resource).',
    },
    phrase: 'failed (AADSTS700022)',
    remediation: ctx => ({
      text: 'The scopes name more than one resource: request Outlook scopes only, never Graph and Outlook in one token request.',
      links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
    }),
  },
  AADSTS54005: {
    item: 'token',
    meaning: {
      en: 'The authorization code was already redeemed.',
      nl: 'De autorisatiecode is al ingewisseld.',
    },
    phrase: 'failed (AADSTS54005)',
    remediation: regenerate('The authorization code was already redeemed.'),
  },
  AADSTS70008: {
    item: 'token',
    meaning: {
      en: 'The authorization code or refresh token has expired or been revoked.',
      nl: 'De autorisatiecode of het vernieuwingstoken is verlopen of ingetrokken.',
    },
    phrase: 'failed (AADSTS70008)',
    remediation: regenerate('The authorization code or refresh token expired or was revoked.'),
  },
  AADSTS700082: {
    item: 'token',
    meaning: {
      en: 'The refresh token expired after 90 days of inactivity.',
      nl: 'Het vernieuwingstoken is verlopen na 90 dagen zonder gebruik.',
    },
    phrase: 'failed (AADSTS700082)',
    remediation: regenerate(
      'The refresh token expired after 90 days without use. Every redemption hands out a new refresh token and the old one still dies 90 days after its own issue, so a copy that is never replaced by its newest successor expires even while it is redeemed.',
    ),
  },
  AADSTS50173: {
    item: 'token',
    meaning: {
      en: 'The grant was revoked (password change or admin revoke).',
      nl: 'De toekenning (grant) is ingetrokken (wachtwoordwijziging of intrekking door een beheerder).',
    },
    phrase: 'failed (AADSTS50173)',
    remediation: regenerate(
      'The grant was revoked (password change or an admin revoked sessions).',
    ),
  },
  AADSTS70043: {
    item: 'token',
    meaning: {
      en: 'The refresh token is invalid under a Conditional Access sign-in frequency policy.',
      nl: 'Het vernieuwingstoken is ongeldig onder een Conditional Access-beleid voor aanmeldingsfrequentie.',
    },
    phrase: 'failed (AADSTS70043)',
    remediation: conditionalAccess(
      'A Conditional Access sign-in frequency policy invalidated the refresh token.',
    ),
  },
  AADSTS50089: {
    item: 'token',
    meaning: {
      en: 'The sign-in flow token expired (the sign-in took too long).',
      nl: 'Het token van de aanmeldingsflow is verlopen (de aanmelding duurde te lang).',
    },
    phrase: 'failed (AADSTS50089)',
    remediation: regenerate('The sign-in took too long.'),
  },
  AADSTS50126: {
    item: 'token',
    meaning: {
      en: 'Invalid username or password.',
      nl: 'Ongeldige gebruikersnaam of ongeldig wachtwoord.',
    },
    phrase: 'failed (AADSTS50126)',
    remediation: accountProblem('The user name or password was wrong.'),
  },
  AADSTS50034: {
    item: 'token',
    meaning: {
      en: 'The user account does not exist in the directory.',
      nl: 'Het gebruikersaccount bestaat niet in de directory.',
    },
    phrase: 'failed (AADSTS50034)',
    remediation: accountProblem('The account does not exist in this tenant.'),
  },
  AADSTS50020: {
    item: 'token',
    meaning: {
      en: 'The user from the identity provider does not exist in the tenant (guest or personal account).',
      nl: 'De gebruiker van de identiteitsprovider bestaat niet in de tenant (gastaccount of persoonlijk account).',
    },
    phrase: 'failed (AADSTS50020)',
    remediation: accountProblem('The account signed in is a guest or personal account.'),
  },
  AADSTS50057: {
    item: 'token',
    meaning: {
      en: 'The user account is disabled.',
      nl: 'Het gebruikersaccount is uitgeschakeld.',
    },
    phrase: 'failed (AADSTS50057)',
    remediation: accountProblem(
      'The account is disabled (sign-in blocked): enable it (Entra admin center > Users > the account > Account enabled, or unblock sign-in in the Microsoft 365 admin center).',
    ),
  },
  AADSTS50053: {
    item: 'token',
    meaning: {
      en: 'The account is locked, or sign-in came from a malicious IP.',
      nl: 'Het account is vergrendeld, of de aanmelding kwam van een kwaadwillend IP-adres.',
    },
    phrase: 'failed (AADSTS50053)',
    remediation: accountProblem('The account is locked.'),
  },
  AADSTS50055: {
    item: 'token',
    meaning: {
      en: 'The password has expired.',
      nl: 'Het wachtwoord is verlopen.',
    },
    phrase: 'failed (AADSTS50055)',
    remediation: accountProblem(
      'The password of the account has expired: reset it (or have it changed at the next sign-in).',
    ),
  },
  AADSTS50076: {
    item: 'token',
    meaning: {
      en: 'Multi-factor authentication is required.',
      nl: 'Meervoudige verificatie (MFA) is vereist.',
    },
    phrase: 'failed (AADSTS50076)',
    remediation: mfaRequired(
      'A policy (per-user MFA, Conditional Access or security defaults) now requires multi-factor authentication that the stored grant does not carry.',
    ),
  },
  AADSTS50079: {
    item: 'token',
    meaning: {
      en: 'Multi-factor authentication enrolment is required.',
      nl: 'Registratie voor meervoudige verificatie is vereist.',
    },
    phrase: 'failed (AADSTS50079)',
    remediation: ctx => ({
      text: `${signInAs(ctx)} must register for multi-factor authentication before Entra issues tokens for it: sign in once as ${signInAs(ctx)} and register its security info (MFA registration), then generate the token again in ECE for ${mbx(ctx)} in an InPrivate window.`,
      fix: `Register MFA for ${signInAs(ctx)}, then ECE email account for ${mbx(ctx)} > Generate token`,
      links: [...guide(ctx), LINKS.signInLogs, LINKS.aadstsReference],
    }),
  },
  AADSTS50074: {
    item: 'token',
    meaning: {
      en: 'Multi-factor authentication was not passed.',
      nl: 'De meervoudige verificatie is niet doorlopen.',
    },
    phrase: 'failed (AADSTS50074)',
    remediation: regenerate('Multi-factor authentication was not completed.'),
  },
  AADSTS53003: {
    item: 'token',
    meaning: {
      en: 'Blocked by Conditional Access.',
      nl: 'Geblokkeerd door Conditional Access.',
    },
    phrase: 'failed (AADSTS53003)',
    remediation: conditionalAccess('Conditional Access blocked the sign-in.'),
  },
  AADSTS530035: {
    item: 'token',
    meaning: {
      en: 'Blocked by security defaults.',
      nl: 'Geblokkeerd door de standaardinstellingen voor beveiliging (security defaults).',
    },
    phrase: 'failed (AADSTS530035)',
    // Security defaults cannot be customised or exclude an account (security-defaults page);
    // "exclude the mail account" would be advice nobody can follow.
    remediation: () => ({
      text: 'Security defaults blocked the sign-in (legacy authentication, or a sign-in they deem unsafe). Security defaults cannot exclude an account: if the mail account must sign in this way, replace security defaults with Conditional Access policies; the sign-in log shows the blocked sign-in.',
      links: [LINKS.signInLogs, LINKS.aadstsReference],
    }),
  },
  AADSTS53000: {
    item: 'token',
    meaning: {
      en: 'The device is not compliant (Conditional Access).',
      nl: 'Het apparaat voldoet niet aan het nalevingsbeleid (Conditional Access).',
    },
    phrase: 'failed (AADSTS53000)',
    remediation: conditionalAccess('Conditional Access requires a compliant device.'),
  },
  AADSTS53001: {
    item: 'token',
    meaning: {
      en: 'The device is not domain joined (Conditional Access).',
      nl: 'Het apparaat is niet lid van het domein (Conditional Access).',
    },
    phrase: 'failed (AADSTS53001)',
    remediation: conditionalAccess('Conditional Access requires a domain-joined device.'),
  },
  AADSTS50105: {
    item: 'token',
    meaning: {
      en: 'The user is not assigned to the application (assignment required).',
      nl: 'De gebruiker is niet aan de applicatie toegewezen (toewijzing is vereist).',
    },
    phrase: 'failed (AADSTS50105)',
    remediation: ctx => ({
      text: `The app requires user assignment and ${signInAs(ctx)} is not assigned: assign the account to the ECE enterprise application.`,
      fix: `Entra admin center > Enterprise applications > ${ctx.env.app.clientId} > Users and groups > Add ${signInAs(ctx)}`,
      links: [LINKS.aadstsReference],
    }),
  },
  AADSTS81012: {
    item: 'token',
    meaning: {
      en: 'The user signing in is not the user signed in to the device (Seamless SSO / Kerberos).',
      nl: 'De gebruiker die zich aanmeldt is niet de gebruiker die op het apparaat is aangemeld (Seamless SSO / Kerberos).',
    },
    phrase: 'failed (AADSTS81012)',
    remediation: regenerate(
      'The browser signed in as the workstation user (Kerberos/Seamless SSO), not the account chosen.',
    ),
  },
  AADSTS50058: {
    item: 'token',
    meaning: {
      en: 'Session information is not sufficient for single sign-on.',
      nl: 'De sessiegegevens volstaan niet voor eenmalige aanmelding (single sign-on).',
    },
    phrase: 'failed (AADSTS50058)',
    remediation: regenerate('No interactive session was available for single sign-on.'),
  },
  AADSTS9002313: {
    // Met on a token redemption this is the stored token itself (msal-android #558, MicrosoftDocs
    // azure-docs #63819: a refresh that had worked for years): copy or generate it again.
    item: 'token',
    meaning: {
      en: 'Malformed request: on a token refresh, the stored refresh token is damaged (cut off or altered when copied).',
      nl: 'Onjuist opgebouwd verzoek: bij het vernieuwen is het opgeslagen vernieuwingstoken beschadigd (afgekapt of gewijzigd bij het kopiëren).',
    },
    phrase: 'failed (AADSTS9002313)',
    remediation: tokenDamaged(
      'Entra answered "Request is malformed or invalid" to the token refresh.',
    ),
  },
  AADSTS900144: {
    item: null,
    meaning: {
      en: 'A required parameter is missing.',
      nl: 'Een verplichte parameter ontbreekt.',
    },
    phrase: 'failed (AADSTS900144)',
    remediation: requestBug,
  },
  AADSTS90014: {
    item: null,
    meaning: {
      en: 'A required field is missing from the request.',
      nl: 'Een verplicht veld ontbreekt in het verzoek.',
    },
    phrase: 'failed (AADSTS90014)',
    remediation: requestBug,
  },
  AADSTS70016: {
    item: 'token',
    meaning: {
      en: 'Device-code sign-in is still pending.',
      nl: 'De aanmelding met apparaatcode wacht nog op afronding.',
    },
    phrase: 'failed (AADSTS70016)',
    remediation: ctx => ({
      text: 'The device-code sign-in is still waiting: finish signing in on the Microsoft page.',
      fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
      links: [LINKS.aadstsReference],
    }),
  },
  AADSTS70000: {
    item: 'token',
    meaning: {
      en: 'The grant is invalid or malformed (for example a refresh token of another app).',
      nl: 'De toekenning (grant) is ongeldig of onjuist opgebouwd (bijvoorbeeld een vernieuwingstoken van een andere app).',
    },
    phrase: 'failed (AADSTS70000)',
    remediation: tokenDamaged('Entra does not accept the refresh token (malformed or invalid).'),
  },
  AADSTS70003: {
    item: null,
    meaning: {
      en: 'The app asked for a grant type Entra does not support.',
      nl: 'De app vroeg een granttype aan dat Entra niet ondersteunt.',
    },
    phrase: 'failed (AADSTS70003)',
    remediation: requestBug,
  },
  AADSTS70019: {
    item: 'token',
    meaning: {
      en: 'The device code expired.',
      nl: 'De apparaatcode is verlopen.',
    },
    phrase: 'failed (AADSTS70019)',
    remediation: ctx => ({
      text: 'Nobody signed in before the device code expired; start the sign-in again.',
      fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
      links: [LINKS.aadstsReference],
    }),
  },
  AADSTS50059: {
    item: 'app-registration',
    meaning: {
      en: 'No tenant was named: the request used /common or /organizations for a single-tenant app.',
      nl: 'Er werd geen tenant genoemd: het verzoek gebruikte /common of /organizations voor een app met één tenant.',
    },
    phrase: 'failed (AADSTS50059)',
    remediation: ctx => ({
      text: `Use the tenant-specific authority https://login.microsoftonline.com/${ctx.env.tenantId} instead of /common.`,
      links: [LINKS.aadstsReference, ...guide(ctx)],
    }),
  },
  AADSTS900561: {
    item: null,
    meaning: {
      en: 'The token endpoint only accepts POST.',
      nl: 'Het tokenendpoint accepteert alleen POST.',
    },
    phrase: 'failed (AADSTS900561)',
    remediation: requestBug,
  },
  AADSTS1002012: {
    item: null,
    meaning: {
      en: 'A client-credentials request must ask for <resource>/.default.',
      nl: 'Een client-credentials-verzoek moet <resource>/.default aanvragen.',
    },
    phrase: 'failed (AADSTS1002012)',
    remediation: requestBug,
  },

  // Entra: codes seen in real mail-client reports (test/signatures/entra.json), wording checked
  // against reference-error-codes.
  AADSTS700084: {
    // "The refresh token was issued to a single page app (SPA), and therefore has a fixed,
    // limited lifetime of 1.00:00:00, which can't be extended": the redirect URI the token was
    // generated through is registered under the SPA platform, not Web.
    item: 'app-registration',
    meaning: {
      en: 'The refresh token was issued to a single-page app (SPA platform) and expired after its fixed 24 hours.',
      nl: 'Het vernieuwingstoken is uitgegeven aan een single-page app (SPA-platform) en verliep na de vaste 24 uur.',
    },
    phrase: 'failed (AADSTS700084)',
    remediation: ctx => ({
      text: `The token was generated through a redirect URI registered under the Single-page application platform, so Entra gave it a fixed 24-hour life that cannot be extended. Register ECE's redirect URI under the Web platform instead (and remove it from Single-page application), then generate the token again in ECE for ${mbx(ctx)}.`,
      fix: `${appPath(ctx)} > Authentication: move the ECE redirect URI from "Single-page application" to "Web"; then ECE email account for ${mbx(ctx)} > Generate token`,
      links: [LINKS.refreshTokens, ...guide(ctx)],
    }),
  },
  AADSTS7000112: {
    // "UnauthorizedClientApplicationDisabled - The application is disabled."
    item: 'app-registration',
    meaning: {
      en: 'The application is disabled in the tenant (its enterprise application may not sign users in).',
      nl: 'De applicatie is uitgeschakeld in de tenant (haar bedrijfstoepassing mag geen gebruikers aanmelden).',
    },
    phrase: 'failed (AADSTS7000112)',
    remediation: ctx => ({
      text: `The ECE application is disabled in the tenant: enable its enterprise application ("Enabled for users to sign in" = Yes). If Microsoft disabled it (the app registration shows it), that is lifted only through Microsoft support; a new app registration is the other way out.`,
      fix: `Entra admin center > Enterprise applications > ${ctx.env.app.clientId} > Properties > Enabled for users to sign in: Yes`,
      links: [LINKS.aadstsReference, ...guide(ctx)],
    }),
  },
  AADSTS50078: {
    // "UserStrongAuthExpired - Presented multifactor authentication has expired due to policies
    // configured by your administrator."
    item: 'token',
    meaning: {
      en: 'The multi-factor authentication the grant carries has expired under a policy; the account must sign in again.',
      nl: 'De meervoudige verificatie in de toekenning is volgens beleid verlopen; het account moet zich opnieuw aanmelden.',
    },
    phrase: 'failed (AADSTS50078)',
    remediation: mfaRequired(
      'The multi-factor authentication the grant carries has expired under a policy set by the administrator (Conditional Access sign-in frequency or MFA lifetime).',
    ),
  },
  AADSTS900023: {
    // "Specified tenant identifier '…' is neither a valid DNS name, nor a valid external domain."
    item: 'app-registration',
    meaning: {
      en: 'The tenant id or domain in the request is not a valid tenant identifier.',
      nl: 'De tenant-id of het domein in het verzoek is geen geldige tenant-aanduiding.',
    },
    phrase: 'failed (AADSTS900023)',
    remediation: tenantNotFound,
  },
  ENTRA_ERROR: {
    item: null,
    meaning: {
      en: 'Entra ID refused the request with an error ecebot has no specific entry for.',
      nl: 'Entra ID weigerde het verzoek met een fout waarvoor ecebot geen eigen beschrijving heeft.',
    },
    phrase: 'failed (ENTRA_ERROR)',
    remediation: ctx =>
      ctx.aadsts !== undefined
        ? {
            text: `Entra ID refused the request with AADSTS${ctx.aadsts}${ctx.server ? `: "${ctx.server}"` : ''}. ecebot has no entry for this number; Microsoft's page for AADSTS${ctx.aadsts} explains its cause and fix.`,
            links: [aadstsLookup(ctx.aadsts), LINKS.aadstsReference],
          }
        : {
            text: `Entra ID refused the request${ctx.server ? `: "${ctx.server}"` : ''} without an AADSTS number ecebot knows; the AADSTS reference explains the error in the evidence.`,
            links: [LINKS.aadstsReference],
          },
  },
  ENTRA_UNREACHABLE: {
    item: 'network',
    meaning: {
      en: 'Entra ID could not be reached (network or TLS failure before any answer).',
      nl: 'Entra ID was niet bereikbaar (netwerk- of TLS-fout voordat er een antwoord kwam).',
    },
    phrase: 'Entra ID unreachable',
    remediation: ctx => ({
      text: `Entra ID (login.microsoftonline.com:443) could not be reached${where(ctx)}: token creation and refresh need it.`,
      fix: `Allow outbound TCP 443${where(ctx)} to login.microsoftonline.com`,
      links: netLinks,
    }),
  },
  DEVICE_CODE_DECLINED: {
    item: 'token',
    meaning: {
      en: 'The person signing in declined the device-code sign-in.',
      nl: 'Wie zich aanmeldde, heeft de aanmelding met apparaatcode geweigerd.',
    },
    phrase: 'failed (DEVICE_CODE_DECLINED)',
    remediation: ctx => ({
      text: 'The person signing in declined; start the sign-in again.',
      fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
      links: [LINKS.aadstsReference],
    }),
  },
  DEVICE_CODE_EXPIRED: {
    item: 'token',
    meaning: {
      en: 'The device code expired before anyone signed in.',
      nl: 'De apparaatcode verliep voordat iemand zich aanmeldde.',
    },
    phrase: 'failed (DEVICE_CODE_EXPIRED)',
    remediation: ctx => ({
      text: 'Nobody signed in before the device code expired; start the sign-in again.',
      fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
      links: [LINKS.aadstsReference],
    }),
  },

  // Graph and the Exchange admin API (ecebot's own reads).
  GRAPH_FORBIDDEN: {
    item: null,
    meaning: {
      en: "Graph refused the read: ecebot's own app lacks the permission.",
      nl: 'Graph weigerde het lezen: de eigen app van ecebot mist de machtiging.',
    },
    phrase: 'failed (GRAPH_FORBIDDEN)',
    remediation: probeAccess,
  },
  GRAPH_NO_PREMIUM: {
    item: null,
    meaning: {
      en: 'The tenant has no Entra ID P1/P2 licence, so sign-in logs cannot be read.',
      nl: 'De tenant heeft geen Entra ID P1/P2-licentie, dus de aanmeldingslogboeken kunnen niet worden gelezen.',
    },
    phrase: 'failed (GRAPH_NO_PREMIUM)',
    remediation: () => ({
      text: 'Sign-in logs need Entra ID P1 or P2; without them ecebot judges from the tokens themselves.',
      links: [LINKS.signInLogs],
    }),
  },
  GRAPH_NOT_FOUND: {
    item: null,
    meaning: {
      en: 'Graph has no such object.',
      nl: 'Dat object bestaat niet in Graph.',
    },
    phrase: 'failed (GRAPH_NOT_FOUND)',
    remediation: ctx => ({
      text: `Graph has no such object${ctx.mailbox ? `: check that ${ctx.mailbox} is a user principal name in tenant ${ctx.env.tenantId}` : ''}.`,
      links: [LINKS.technote],
    }),
  },
  GRAPH_UNEXPECTED_REPLY: {
    item: null,
    meaning: {
      en: 'Graph answered 200 with a reply ecebot does not understand (not JSON, or a field of another type than Microsoft documents); its shape is in the evidence.',
      nl: 'Graph antwoordde 200 met een antwoord dat ecebot niet begrijpt (geen JSON, of een veld van een ander type dan Microsoft documenteert); de vorm staat in het bewijs.',
    },
    phrase: 'answered in a shape ecebot does not understand',
    remediation: () => ({
      text: "ecebot could not read Microsoft Graph's answer, so nothing was judged from it. The evidence holds the shape of the reply (field names and types, no values); report it with the Details.",
      links: [LINKS.technote],
    }),
  },
  GRAPH_THROTTLED: {
    item: null,
    meaning: {
      en: 'Microsoft Graph throttled the read (HTTP 429 Too Many Requests).',
      nl: 'Microsoft Graph heeft het lezen afgeremd (HTTP 429 Too Many Requests).',
    },
    phrase: 'failed (GRAPH_THROTTLED)',
    // Graph answers 429 with a Retry-After header when a throttling limit is reached
    // (learn.microsoft.com/graph/throttling); the sign-in log has its own limits
    // (throttling-limits, "identity and access reports service limits").
    remediation: () => ({
      text: 'Microsoft Graph throttled ecebot (HTTP 429); nothing was judged from this read. Run the check again later, or check less often.',
      links: [LINKS.signInLogs],
    }),
  },
  SIGN_IN_LOG_FORBIDDEN: {
    item: null,
    meaning: {
      en: "Graph refused to read Entra's sign-in log: ecebot's read app lacks AuditLog.Read.All and Directory.Read.All.",
      nl: 'Graph weigerde het aanmeldingslogboek van Entra te lezen: de lees-app van ecebot mist AuditLog.Read.All en Directory.Read.All.',
    },
    phrase: 'failed (SIGN_IN_LOG_FORBIDDEN)',
    // List signIns needs both application permissions (a known issue makes Directory.Read.All
    // necessary too) and a tenant with Entra ID P1/P2 (Graph signin-list, o365-facts.md §3.4).
    remediation: () => ({
      text: `Give ecebot's read-only app (inventory \`probe\`) the Graph application permissions ${PROBE_PERMISSIONS.signIns}, with admin consent. Until then ecebot cannot see what ECE itself does at Entra and judges the token only by its own test.`,
      fix: 'Entra admin center > App registrations > <ecebot read app> > API permissions > Microsoft Graph > Application: AuditLog.Read.All, Directory.Read.All > Grant admin consent',
      links: [LINKS.signInLogs],
    }),
  },
  EXO_UNAUTHORIZED: {
    item: null,
    meaning: {
      en: "The Exchange admin API refused ecebot's token (Exchange.ManageAsApp missing).",
      nl: 'De Exchange-beheer-API weigerde het token van ecebot (Exchange.ManageAsApp ontbreekt).',
    },
    phrase: 'failed (EXO_UNAUTHORIZED)',
    remediation: () => ({
      text: "The Exchange admin API refused ecebot's token: give its app the Exchange.ManageAsApp application permission on Office 365 Exchange Online, with admin consent.",
      links: [LINKS.exoAppOnly],
    }),
  },
  EXO_FORBIDDEN: {
    item: null,
    meaning: {
      en: 'The Exchange admin API refused the cmdlet (no Exchange or Global Reader role).',
      nl: 'De Exchange-beheer-API weigerde de cmdlet (geen Exchange-rol of Global Reader-rol).',
    },
    phrase: 'failed (EXO_FORBIDDEN)',
    remediation: () => ({
      text: "The Exchange admin API refused the cmdlet: assign ecebot's service principal the Global Reader (or Exchange Administrator) role.",
      links: [LINKS.exoAppOnly],
    }),
  },
  EXO_THROTTLED: {
    item: null,
    meaning: {
      en: 'The Exchange admin API throttled the request.',
      nl: 'De Exchange-beheer-API heeft het verzoek afgeremd (throttling).',
    },
    phrase: 'failed (EXO_THROTTLED)',
    remediation: () => ({
      text: 'The Exchange admin API throttled ecebot; run the check again later.',
      links: [LINKS.exoAppOnly],
    }),
  },
  EXO_UNEXPECTED_REPLY: {
    item: null,
    meaning: {
      en: 'The Exchange admin API answered 200 with rows ecebot does not understand (not JSON, no `value` rows, or a property of another type); their shape is in the evidence.',
      nl: 'De Exchange-beheer-API antwoordde 200 met rijen die ecebot niet begrijpt (geen JSON, geen `value`-rijen, of een eigenschap van een ander type); de vorm staat in het bewijs.',
    },
    phrase: 'answered in a shape ecebot does not understand',
    remediation: () => ({
      text: "ecebot could not read the Exchange admin API's answer, so nothing was judged from it. The evidence holds the shape of the reply (property names and types, no values); report it with the Details.",
      links: [LINKS.exoAppOnly],
    }),
  },

  // Checklist-level findings.
  ECE_VERSION_UNSUPPORTED: {
    item: 'version',
    meaning: {
      en: 'The ECE release predates OAuth support for Office 365.',
      nl: 'De ECE-release is ouder dan de OAuth-ondersteuning voor Office 365.',
    },
    phrase: 'failed (ECE_VERSION_UNSUPPORTED)',
    remediation: ctx => ({
      text: `ECE ${ctx.env.ece.version} cannot use OAuth with Office 365: upgrade to 11.6(1) ES12 ET1 or a later release (${LAST_ES_RELEASE} ES1 or newer recommended).`,
      links: guide(ctx),
    }),
  },
  ECE_ES_TOO_OLD: {
    item: 'version',
    meaning: {
      en: 'The Engineering Special installed is below the OAuth minimum for this release.',
      nl: 'De geïnstalleerde Engineering Special ligt onder het OAuth-minimum voor deze release.',
    },
    phrase: 'failed (ECE_ES_TOO_OLD)',
    remediation: ctx => {
      const min = checkVersion(ctx.env.ece.version, ctx.env.ece.es, ctx.env.ece.et).minimum;
      const need = min ? `${min.release} ${formatEs(min.es, min.et)}` : 'the OAuth minimum';
      return {
        text: `Install ${need} or later (Cisco bug CSCvr86493); Cisco recommends the newest ES for the release.`,
        fix: `Install ECE ${need} (or the newest ES for ${ctx.env.ece.version})`,
        links: guide(ctx),
      };
    },
  },
  ECE_VERSION_UNKNOWN: {
    item: 'version',
    meaning: {
      en: 'The ECE release is not one ecebot knows.',
      nl: 'ecebot kent deze ECE-release niet.',
    },
    phrase: 'failed (ECE_VERSION_UNKNOWN)',
    remediation: ctx => ({
      text: `ecebot knows no OAuth minimum for ECE ${ctx.env.ece.version}: check the version in the inventory and Cisco's release notes for the release.`,
      links: guide(ctx),
    }),
  },
  ECE_ES_NOT_LATEST: {
    item: 'version',
    meaning: {
      en: 'The release meets the minimum, but Cisco recommends the newest Engineering Special.',
      nl: 'De release haalt het minimum, maar Cisco raadt de nieuwste Engineering Special aan.',
    },
    phrase: 'older than the newest ES',
    remediation: ctx => {
      const newest = newestKnownEs(ctx.env.ece.version);
      const at = newest ? `${formatEs(newest.es)} or later` : 'the newest Engineering Special';
      return {
        text: `Install ${at} for ECE ${ctx.env.ece.version}: OAuth works from the minimum, but Cisco recommends the newest ES for the release (technote 218453, item 1).`,
        fix: `Install ECE ${ctx.env.ece.version} ${at}`,
        links: guide(ctx),
      };
    },
  },
  ECE_EXTERNAL_URL_MISSING: {
    item: 'external-url',
    meaning: {
      en: '"External URL of the application" is not set.',
      nl: '"External URL of the application" is niet ingesteld.',
    },
    phrase: 'failed (ECE_EXTERNAL_URL_MISSING)',
    remediation: ctx => ({
      text: 'OAuth needs the external URL: set it to the https URL agents and admins use to log in.',
      fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
      links: guide(ctx),
    }),
  },
  ECE_EXTERNAL_URL_NOT_HTTPS: {
    item: 'external-url',
    meaning: {
      en: 'The external URL does not use https.',
      nl: 'De externe URL gebruikt geen https.',
    },
    phrase: 'failed (ECE_EXTERNAL_URL_NOT_HTTPS)',
    remediation: ctx => ({
      text: 'The external URL must be an https URL in the form https://ece.example.com.',
      fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
      links: guide(ctx),
    }),
  },
  ECE_EXTERNAL_URL_NOT_FQDN: {
    item: 'external-url',
    meaning: {
      en: 'The external URL is not a fully qualified domain name.',
      nl: 'De externe URL is geen volledig gekwalificeerde domeinnaam (FQDN).',
    },
    phrase: 'failed (ECE_EXTERNAL_URL_NOT_FQDN)',
    remediation: ctx => ({
      text: 'The external URL must use the fully qualified domain name admins open the console with, not a short name or an IP address.',
      fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
      links: guide(ctx),
    }),
  },
  ECE_EXTERNAL_URL_ADMIN_MISMATCH: {
    item: 'external-url',
    meaning: {
      en: "The external URL's host differs from the one admins log in with.",
      nl: 'De host van de externe URL verschilt van de host waarmee beheerders inloggen.',
    },
    phrase: 'failed (ECE_EXTERNAL_URL_ADMIN_MISMATCH)',
    remediation: ctx => ({
      text: 'The external URL must be on the FQDN used to open the administration console (and the redirect URI registered in Entra must match it).',
      fix: `${docsFor(ctx.env.ece.version).externalUrlSetting} = ${adminOrigin(ctx)}`,
      links: guide(ctx),
    }),
  },
  ECE_EXTERNAL_URL_UNREACHABLE: {
    item: 'external-url',
    meaning: {
      en: 'The external URL cannot be opened from an ECE server.',
      nl: 'De externe URL kan niet worden geopend vanaf een ECE-server.',
    },
    phrase: 'failed (ECE_EXTERNAL_URL_UNREACHABLE)',
    remediation: ctx => ({
      text: `The external URL ${ctx.env.ece.externalUrl ?? ''} cannot be opened${where(ctx)}: check DNS, the firewall and the load balancer for ${externalHost(ctx)}.`,
      links: guide(ctx),
    }),
  },
  ECE_EXTERNAL_URL_CERT: {
    item: 'external-url',
    meaning: {
      en: "The external URL's certificate is not valid.",
      nl: 'Het certificaat van de externe URL is niet geldig.',
    },
    phrase: 'failed (ECE_EXTERNAL_URL_CERT)',
    remediation: ctx => ({
      text: `The certificate served for ${externalHost(ctx)}${where(ctx)} is not valid: install a current certificate naming that FQDN on the web server or load balancer.`,
      links: guide(ctx),
    }),
  },
  ENTRA_APP_NOT_FOUND: {
    item: 'app-registration',
    meaning: {
      en: 'The ECE application registration was not found.',
      nl: 'De app-registratie van ECE is niet gevonden.',
    },
    phrase: 'failed (ENTRA_APP_NOT_FOUND)',
    remediation: ctx => ({
      text: `No app registration with client id ${ctx.env.app.clientId} exists in tenant ${ctx.env.tenantId}: check the client id in ECE and the inventory, or register the app as the admin guide describes.`,
      links: guide(ctx),
    }),
  },
  ENTRA_REDIRECT_MISMATCH: {
    item: 'app-registration',
    meaning: {
      en: "No redirect URI of the application is on the ECE external URL's host.",
      nl: 'Geen enkele redirect-URI van de applicatie staat op de host van de externe ECE-URL.',
    },
    phrase: 'failed (ENTRA_REDIRECT_MISMATCH)',
    remediation: ctx => ({
      text: `Register ECE's OAuth redirect URI on the external URL's host ${externalHost(ctx)} (Entra compares it byte for byte, AADSTS50011).`,
      fix: `${appPath(ctx)} > Authentication > Web > Redirect URIs: add the ECE callback on https://${externalHost(ctx)}`,
      links: [...guide(ctx), LINKS.redirectUriMismatch],
    }),
  },
  ENTRA_SECRET_EXPIRED: {
    item: 'app-registration',
    meaning: {
      en: 'Every client secret and certificate of the application has expired.',
      nl: 'Alle clientgeheimen en certificaten van de applicatie zijn verlopen.',
    },
    phrase: 'failed (ENTRA_SECRET_EXPIRED)',
    remediation: newSecret('Every client secret and certificate of the ECE app has expired.'),
  },
  ENTRA_SECRET_EXPIRING: {
    item: 'app-registration',
    meaning: {
      en: "The application's credential expires soon.",
      nl: 'De referentie van de applicatie verloopt binnenkort.',
    },
    phrase: 'failed (ENTRA_SECRET_EXPIRING)',
    remediation: ctx =>
      newSecret(
        `The ECE app's client secret expires in ${ctx.days ?? '?'} day${ctx.days === 1 ? '' : 's'}; rotate it before then.`,
      )(ctx),
  },
  ENTRA_PERMISSION_MISSING: {
    item: 'app-registration',
    meaning: {
      en: 'A delegated permission (IMAP, POP, SMTP, offline_access) is not configured.',
      nl: 'Een gedelegeerde machtiging (IMAP, POP, SMTP, offline_access) is niet geconfigureerd.',
    },
    phrase: 'failed (ENTRA_PERMISSION_MISSING)',
    remediation: addPermissions,
  },
  ENTRA_CONSENT_MISSING: {
    item: 'app-registration',
    meaning: {
      en: 'The delegated permissions are not consented.',
      nl: 'Voor de gedelegeerde machtigingen is geen toestemming gegeven.',
    },
    phrase: 'failed (ENTRA_CONSENT_MISSING)',
    remediation: ctx => ({
      ...grantConsent(ctx),
      text: `Grant consent for ${scopeList(ctx, 'the delegated mail permissions')} to the ECE application (admin consent covers every mailbox account).`,
    }),
  },
  ENTRA_TOKEN_LIFETIME_SHORT: {
    item: 'app-registration',
    meaning: {
      en: 'Access tokens last less than 60 minutes.',
      nl: 'Toegangstokens blijven korter dan 60 minuten geldig.',
    },
    phrase: 'failed (ENTRA_TOKEN_LIFETIME_SHORT)',
    remediation: ctx => ({
      text: 'Access tokens must last at least 60 minutes (technote item 3): remove or raise the token lifetime policy assigned to the ECE app or the tenant.',
      fix: `Token lifetime policy on ${ctx.env.app.clientId}: AccessTokenLifetime of 01:00:00 or more`,
      links: [LINKS.tokenLifetimes, LINKS.accessTokenLifetime],
    }),
  },
  ECE_TOKEN_MISSING: {
    item: 'token',
    meaning: {
      en: 'No token for this mailbox was given to ecebot (sign in, or configure refreshToken).',
      nl: 'ecebot heeft voor deze mailbox geen token gekregen (meld je aan, of configureer refreshToken).',
    },
    phrase: 'failed (ECE_TOKEN_MISSING)',
    remediation: ctx => ({
      text: `ecebot has no token for ${mbx(ctx)}: sign in once through ecebot, or give the inventory a refreshToken reference for the mailbox.`,
      fix: `signin ${ctx.env.name} ${mbx(ctx)} (or set refreshToken: env:NAME on the mailbox in the inventory)`,
      links: guide(ctx),
    }),
  },
  ECE_TOKEN_WRONG_USER: {
    item: 'token',
    meaning: {
      en: 'The token was issued to a different user than the mailbox (or its shared account).',
      nl: 'Het token is uitgegeven aan een andere gebruiker dan de mailbox (of het gedeelde account ervan).',
    },
    phrase: 'failed (ECE_TOKEN_WRONG_USER)',
    remediation: regenerate(
      'The token belongs to another user, typically the workstation user when the browser signed in with Kerberos/Seamless SSO (amr "wia").',
    ),
  },
  ECE_TOKEN_WRONG_AUDIENCE: {
    item: 'token',
    meaning: {
      en: 'The token is not for Exchange Online (e.g. a Graph token).',
      nl: 'Het token is niet voor Exchange Online bedoeld (bijvoorbeeld een Graph-token).',
    },
    phrase: 'failed (ECE_TOKEN_WRONG_AUDIENCE)',
    remediation: ctx => ({
      text: 'The token is not for Exchange Online (a Graph token is rejected by IMAP, POP and SMTP): ECE must request the https://outlook.office.com scopes; then regenerate the token.',
      links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
    }),
  },
  ECE_TOKEN_SCOPE_MISSING: {
    item: 'token',
    meaning: {
      en: 'The token lacks the scope for the protocol the mailbox uses.',
      nl: 'Het token mist de scope voor het protocol dat de mailbox gebruikt.',
    },
    phrase: 'failed (ECE_TOKEN_SCOPE_MISSING)',
    remediation: ctx => ({
      text: `The token lacks ${scopeList(ctx, 'a scope the mailbox needs')}: add the permission to the app, consent, and regenerate the token for ${mbx(ctx)}.`,
      fix: `${appPath(ctx)} > API permissions: ${scopeList(ctx, '<scope>')}; then regenerate the token in ECE for ${mbx(ctx)}`,
      links: [LINKS.oauthImapPopSmtp, ...guide(ctx)],
    }),
  },
  ECE_SIGNS_IN_AS_OTHER_USER: {
    item: 'token',
    meaning: {
      en: "Entra's sign-in log shows ECE signing in as a user that is not a mailbox account (typically the workstation user, through Kerberos/SSO).",
      nl: 'Het aanmeldingslogboek van Entra toont dat ECE zich aanmeldt als een gebruiker die geen mailboxaccount is (meestal de werkplekgebruiker, via Kerberos/SSO).',
    },
    phrase: 'failed (ECE_SIGNS_IN_AS_OTHER_USER)',
    // Checklist item 4 (the technote): a normal browser window on a domain-joined workstation
    // signs in silently as the logged-in Windows user, so ECE stores that user's token.
    remediation: regenerate(
      "ECE's own sign-ins (Entra sign-in log) are made as another user than the mailbox account: the token ECE stores was generated in a browser that signed in silently as the logged-in Windows workstation user (Kerberos/SSO, checklist item 4).",
    ),
  },
  ECE_NOT_SIGNING_IN: {
    item: 'token',
    meaning: {
      en: "Entra's sign-in log shows no successful ECE sign-in for this account for longer than the allowed gap: ECE has stopped redeeming its token.",
      nl: 'Het aanmeldingslogboek van Entra toont al langer dan toegestaan geen geslaagde aanmelding van ECE voor dit account: ECE gebruikt zijn token niet meer.',
    },
    phrase: 'failed (ECE_NOT_SIGNING_IN)',
    // ECE redeems its refresh token whenever its access token expires; Entra's access tokens
    // last 60–90 minutes by default (access-tokens#token-lifetime, o365-facts.md §2.6).
    remediation: ctx => ({
      text: `ECE has not signed in to Entra for ${mbx(ctx)} (as ${signInAs(ctx)}) for hours, although it redeems its refresh token whenever its access token expires (60–90 minutes by default): ECE has stopped reading this mailbox. Check in ECE that the email account for ${mbx(ctx)} is active and its retriever and dispatcher services run${where(ctx)}, and look in ECE's logs for token errors; if the token was removed or expired, regenerate it in an InPrivate window signing in as ${signInAs(ctx)}.`,
      fix: `ECE: check the retriever and dispatcher services and the email account for ${mbx(ctx)}; if needed, Generate token in an InPrivate window signing in as ${signInAs(ctx)}`,
      links: [...guide(ctx), LINKS.accessTokenLifetime, LINKS.signInLogs],
    }),
  },
  EXO_SMTP_AUTH_DISABLED: {
    item: 'mailbox-protocols',
    meaning: {
      en: 'Authenticated SMTP is disabled for the mailbox.',
      nl: 'Geverifieerde SMTP (Authenticated SMTP) is uitgeschakeld voor de mailbox.',
    },
    phrase: 'failed (EXO_SMTP_AUTH_DISABLED)',
    remediation: ctx => ({
      text: `Authenticated SMTP is disabled for ${mbx(ctx)}; ECE's dispatcher needs it to send.`,
      fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false`,
      links: [LINKS.smtpAuth, LINKS.smtpAuthDisabled],
    }),
  },
  EXO_SMTP_AUTH_DISABLED_TENANT: {
    item: 'mailbox-protocols',
    meaning: {
      en: 'Authenticated SMTP is disabled for the tenant and the mailbox does not override it.',
      nl: 'Geverifieerde SMTP is uitgeschakeld voor de tenant en de mailbox wijkt daar niet van af.',
    },
    phrase: 'failed (EXO_SMTP_AUTH_DISABLED_TENANT)',
    remediation: ctx => ({
      text: `SMTP AUTH is disabled for the tenant and ${mbx(ctx)} follows the tenant setting. Enable it for the mailbox (least change), or for the whole tenant with Set-TransportConfig -SmtpClientAuthenticationDisabled $false.`,
      fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false`,
      links: [LINKS.smtpAuth, LINKS.smtpAuthDisabled],
    }),
  },
  EXO_IMAP_DISABLED: {
    item: 'mailbox-protocols',
    meaning: {
      en: 'IMAP is disabled for the mailbox.',
      nl: 'IMAP is uitgeschakeld voor de mailbox.',
    },
    phrase: 'failed (EXO_IMAP_DISABLED)',
    remediation: ctx => ({
      text: `IMAP is disabled for ${mbx(ctx)}, which ECE reads over IMAP.`,
      fix: `Set-CASMailbox -Identity ${mbx(ctx)} -ImapEnabled $true`,
      links: [LINKS.popImapEnable, LINKS.popImapTroubleshoot],
    }),
  },
  EXO_POP_DISABLED: {
    item: 'mailbox-protocols',
    meaning: {
      en: 'POP3 is disabled for the mailbox.',
      nl: 'POP3 is uitgeschakeld voor de mailbox.',
    },
    phrase: 'failed (EXO_POP_DISABLED)',
    remediation: ctx => ({
      text: `POP3 is disabled for ${mbx(ctx)}, which ECE reads over POP3.`,
      fix: `Set-CASMailbox -Identity ${mbx(ctx)} -PopEnabled $true`,
      links: [LINKS.popImapEnable, LINKS.popImapTroubleshoot],
    }),
  },
  EXO_LICENSE_MISSING: {
    item: 'license',
    meaning: {
      en: 'The mailbox user has no Exchange Online plan.',
      nl: 'De gebruiker van de mailbox heeft geen Exchange Online-abonnement.',
    },
    phrase: 'failed (EXO_LICENSE_MISSING)',
    remediation: ctx => ({
      text: `${mbx(ctx)} has no Exchange Online plan. Cisco asks for at least an E3 licence (Exchange Online Plan 2).`,
      fix: `Microsoft 365 admin center > Users > Active users > ${mbx(ctx)} > Licenses and apps: assign Office 365 E3 (or another licence with Exchange Online Plan 2)`,
      links: [LINKS.licensingPlans, LINKS.technote],
    }),
  },
  EXO_LICENSE_BELOW_E3: {
    item: 'license',
    meaning: {
      en: 'The mailbox has Exchange Online Plan 1 only; Cisco asks for E3 or above.',
      nl: 'De mailbox heeft alleen Exchange Online Plan 1; Cisco vraagt E3 of hoger.',
    },
    phrase: 'failed (EXO_LICENSE_BELOW_E3)',
    remediation: ctx => ({
      text: `${mbx(ctx)} has a lower Exchange Online plan than E3. Cisco's checklist asks for E3 or above; Microsoft itself only requires an Exchange Online mailbox plan for IMAP, POP and SMTP, so this is a warning, not a failure.`,
      fix: `Microsoft 365 admin center > Users > Active users > ${mbx(ctx)} > Licenses and apps: assign Office 365 E3 (Exchange Online Plan 2) to follow Cisco's requirement`,
      links: [LINKS.licensingPlans, LINKS.technote],
    }),
  },
  EXO_FULL_ACCESS_MISSING: {
    item: 'mailbox-rights',
    meaning: {
      en: 'The shared account lacks Full Access to the mailbox.',
      nl: 'Het gedeelde account heeft geen Full Access op de mailbox.',
    },
    phrase: 'failed (EXO_FULL_ACCESS_MISSING)',
    remediation: ctx => ({
      text: `${ctx.account ?? 'The shared account'} needs Full Access to ${mbx(ctx)} (and no Deny entry for it; remove one with Remove-MailboxPermission … -Deny).`,
      fix: `Add-MailboxPermission -Identity ${mbx(ctx)} -User ${ctx.account ?? '<account>'} -AccessRights FullAccess -InheritanceType All`,
      links: [...guide(ctx), LINKS.oauthImapPopSmtp],
    }),
  },
  EXO_SEND_AS_MISSING: {
    item: 'mailbox-rights',
    meaning: {
      en: 'The account that signs in has no Send As on the mailbox it sends from.',
      nl: 'Het account dat zich aanmeldt heeft geen Send As op de mailbox waaruit het verzendt.',
    },
    phrase: 'failed (EXO_SEND_AS_MISSING)',
    // SMTP AUTH is always the signed-in account; a From of another mailbox needs Send As, or
    // Exchange refuses the message after DATA with 554 5.2.252 SendAsDenied (o365-facts.md §1.4,
    // §1.5). Full Access does not include it (Get-EXORecipientPermission: Send As "doesn't allow
    // a delegate to sign in to the user's mailbox"; the two rights are granted apart).
    remediation: ctx => ({
      text: `${ctx.account ?? 'The account that signs in'} can open ${mbx(ctx)} but may not send as it: ECE's dispatcher signs in to SMTP as ${ctx.account ?? 'that account'} and sends from ${mbx(ctx)}, which needs Send As.`,
      fix: `Add-RecipientPermission -Identity ${mbx(ctx)} -Trustee ${ctx.account ?? '<account>'} -AccessRights SendAs`,
      links: [...guide(ctx), LINKS.oauthImapPopSmtp],
    }),
  },
  NO_WORKER: {
    item: null,
    meaning: {
      en: 'No worker served this vantage point in time.',
      nl: 'Geen enkele worker heeft dit meetpunt (vantage point) op tijd bediend.',
    },
    phrase: 'failed (NO_WORKER)',
    remediation: ctx => ({
      text: `No ecebot worker answered for ${ctx.vantage ?? 'this vantage point'} in time: check that the worker runs on that server and reaches the queue.`,
      // Server queues are per environment (ENV/SERVER); only `central` is shared.
      fix: `ecebot worker --vantage ${
        ctx.vantage === 'central' ? 'central' : `${ctx.env.name}/${ctx.vantage ?? '<server>'}`
      }`,
      links: [LINKS.technote],
    }),
  },
  CHECK_CRASHED: {
    item: null,
    meaning: {
      en: 'The check itself failed (a bug or an unexpected answer).',
      nl: 'De controle zelf is mislukt (een bug of een onverwacht antwoord).',
    },
    phrase: 'failed (CHECK_CRASHED)',
    remediation: () => ({
      text: 'The check itself broke: this is an ecebot bug or an answer it did not expect. The evidence holds what it saw; report it with the Details.',
      links: [LINKS.technote],
    }),
  },
  SLOW_RESPONSE: {
    item: 'connectivity',
    meaning: {
      en: "A mail protocol step took longer than the environment's slow threshold (budget.slowMs).",
      nl: 'Een stap van het mailprotocol duurde langer dan de traagheidsdrempel van de omgeving (budget.slowMs).',
    },
    phrase: 'failed (SLOW_RESPONSE)',
    remediation: ctx => ({
      text: `Exchange Online answered slowly${where(ctx)}${ctx.mailbox ? ` for ${ctx.mailbox}` : ''}: check proxies, TLS inspection and the route to Microsoft 365. Microsoft's Remote Connectivity Analyzer compares the route from outside, but only its SMTP test: its POP and IMAP tests log in with a password, which Exchange Online refuses, so they always fail.`,
      links: [LINKS.rca, LINKS.endpoints],
    }),
  },
  PROBE_UNAVAILABLE: {
    item: null,
    meaning: {
      en: "ecebot's own Graph/Exchange read credentials (inventory `probe`) are not configured or were refused, so tenant settings could not be read.",
      nl: 'De eigen lees-referenties van ecebot voor Graph/Exchange (inventory `probe`) zijn niet geconfigureerd of werden geweigerd, dus de tenantinstellingen konden niet worden gelezen.',
    },
    phrase: 'failed (PROBE_UNAVAILABLE)',
    remediation: probeAccess,
  },
  DEVICE_CODE_CANCELLED: {
    item: null,
    meaning: {
      en: 'ecebot stopped waiting for a device-code sign-in because it was cancelled (not an Entra answer).',
      nl: 'ecebot is gestopt met wachten op een aanmelding met apparaatcode omdat die werd geannuleerd (geen antwoord van Entra).',
    },
    phrase: 'failed (DEVICE_CODE_CANCELLED)',
    remediation: ctx => ({
      text: 'The device-code sign-in was cancelled before anyone signed in; start it again when ready.',
      fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
      links: [LINKS.aadstsReference],
    }),
  },

  // ecebot's own test token (from `signin ENV MAILBOX`), never ECE's.
  SIGNIN_TOKEN_EXPIRED: {
    item: 'token',
    meaning: {
      en: "Entra no longer redeems ecebot's own sign-in token for the mailbox (unused 90 days, revoked, or a sign-in frequency policy); ECE's token is not affected.",
      nl: 'Entra wisselt het eigen aanmeldtoken van ecebot voor de mailbox niet meer in (90 dagen ongebruikt, ingetrokken, of een beleid voor aanmeldingsfrequentie); het token van ECE staat hier los van.',
    },
    phrase: 'failed (SIGNIN_TOKEN_EXPIRED)',
    remediation: signInAgain(
      "Entra refused to refresh ecebot's own sign-in token for this mailbox.",
    ),
  },
  SIGNIN_APP_REFUSED: {
    item: null,
    meaning: {
      en: "Entra refused ecebot's own sign-in app (inventory `signin`): its registration, not ECE's.",
      nl: 'Entra weigerde de eigen aanmeld-app van ecebot (inventory `signin`): de registratie daarvan, niet die van ECE.',
    },
    phrase: 'failed (SIGNIN_APP_REFUSED)',
    remediation: ctx => ({
      text: `Entra refused ecebot's sign-in app (inventory \`signin.clientId\`), not ECE's. It must be a public-client app registration with "Allow public client flows" and the delegated permissions IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send and offline_access (docs/deployment.md); then run \`signin ${ctx.env.name} ${mbx(ctx)}\` again.`,
      fix: `signin ${ctx.env.name} ${mbx(ctx)}`,
      links: [LINKS.aadstsReference, LINKS.oauthImapPopSmtp],
    }),
  },
} satisfies Record<Code, CodeEntry>;

/** A code's English meaning and its item (the view English-only callers read). */
export interface CodeInfo {
  meaning: string;
  item: ItemId | null;
}

/**
 * Every code's English meaning and item, read from CODE_TABLE, for the rules that ask which item
 * a code points to and the CLI and lab lines that print English. Keys are the codes.
 */
export const CODES = Object.fromEntries(
  codeNames().map(code => [
    code,
    { meaning: CODE_TABLE[code].meaning.en, item: CODE_TABLE[code].item },
  ]),
) as Readonly<Record<Code, CodeInfo>>;

/** Every code, in the table's order. */
export function codeNames(): Code[] {
  return Object.keys(CODE_TABLE) as Code[];
}

/** Whether a string is a known code (for reading codes back from JSON). */
export function isCode(value: string): value is Code {
  return Object.prototype.hasOwnProperty.call(CODE_TABLE, value);
}

/** The registry code for an AADSTS number, or ENTRA_ERROR when ecebot has no entry for it. */
export function aadstsCode(n: number): Code {
  const key = `AADSTS${n}`;
  return isCode(key) ? key : 'ENTRA_ERROR';
}
