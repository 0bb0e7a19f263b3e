/**
 * The names shared by every layer: checklist item ids, statuses, the kinds of vantage point and
 * the names of reads. This folder imports nothing, so any layer may use it without a cycle.
 *
 * Item ids and read names are keys of interfaces rather than closed unions so that an item added
 * outside this folder (a test, a deployment's own check) can name itself with TypeScript's
 * declaration merging (`declare module '…/model/items' { interface ItemIds { spf: true } }`)
 * instead of a cast. What exists at run time is decided by the registries in
 * src/checklist/items.ts and src/runner/reads/index.ts, never by these types.
 */

/** The nine items of Cisco's technote (checklist.md), by their stable ids. */
export interface ItemIds {
  version: true;
  'external-url': true;
  'app-registration': true;
  token: true;
  'mailbox-protocols': true;
  license: true;
  'mailbox-rights': true;
  network: true;
  connectivity: true;
}

/** A checklist item's stable id. */
export type ItemId = keyof ItemIds & string;

/**
 * `pass`/`warn`/`fail` judge the tenant; `skip` means we could not look (with the reason);
 * `error` means the check itself broke (a bug, or a probe that died).
 */
export type Status = 'pass' | 'warn' | 'fail' | 'skip' | 'error';

/**
 * Where a read runs: on an ECE services server, on an ECE application server, or `central`
 * (tenant reads through Entra, Graph and the Exchange admin API, which need no ECE server).
 */
export type VantageKind = 'services' | 'application' | 'central';

/** Every vantage kind, in the order progress and help list them. */
export const VANTAGE_KINDS: readonly VantageKind[] = ['services', 'application', 'central'];

/** The built-in reads (src/runner/reads): each a named way of observing, with a typed result. */
export interface ReadNames {
  /** DNS and TLS (with SMTP STARTTLS) to the Microsoft 365 endpoints. */
  network: true;
  /** HTTPS GET of ECE's external URL. */
  'external-url': true;
  /** ECE's refresh token for each mailbox redeemed at Entra's token endpoint. */
  'mailbox-token': true;
  /** IMAP or POP3 and SMTP logins with each mailbox's access token. */
  'mailbox-login': true;
  /** SMTP AUTH with each mailbox's access token, from application servers (alarm mail). */
  'mailbox-send': true;
  /** ECE's app registration's own credentials (client credentials grant). */
  'ece-app-token': true;
  /** ecebot's read-only app: an app-only token for Microsoft Graph. */
  'graph-token': true;
  /** ecebot's read-only app: an app-only token for the Exchange admin API. */
  'exchange-token': true;
  /** Graph: ECE's application object. */
  'graph-application': true;
  /** Graph: ECE's service principal and its delegated permission grants. */
  'graph-consent': true;
  /** Graph: the resource service principals (Graph, Exchange Online) and their scopes. */
  'graph-resource-scopes': true;
  /** Graph: Entra sign-in log entries of ECE's app. */
  'graph-sign-ins': true;
  /** Graph: licenseDetails of each account that signs in (a shared mailbox needs none). */
  'graph-licenses': true;
  /** Graph: the directory user behind each mailbox and account (UPN, mail, proxyAddresses). */
  'graph-directory-users': true;
  /** Exchange: Get-TransportConfig (tenant-wide SMTP AUTH). */
  'exo-transport-config': true;
  /** Exchange: Get-CASMailbox of each mailbox and of each account that signs in. */
  'exo-cas-mailbox': true;
  /** Exchange: Get-MailboxPermission (Full Access) of each mailbox. */
  'exo-mailbox-permission': true;
  /** Exchange: Get-RecipientPermission (Send As) of each mailbox. */
  'exo-recipient-permission': true;
}

/** A read's stable name. */
export type ReadName = keyof ReadNames & string;

/** The languages ecebot speaks (cards follow the Teams client's locale). */
export type Lang = 'en' | 'nl';

/** One text in every language (the compiler checks that none is missing). */
export type Text = Record<Lang, string>;
