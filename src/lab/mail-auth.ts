/**
 * The one decision the lab's IMAP, POP3 and SMTP servers share: given the XOAUTH2 `user=` and
 * bearer token, may this session open that mailbox? Pure apart from the clock inside token
 * verification; each server turns the reason into Exchange Online's words for its protocol.
 */
import { namesOf, userNamed, type LabMailbox } from './tenant';
import type { LabState } from './server-types';
import { OUTLOOK_AUDIENCES, verifyAccessToken } from './tokens';

/** The mail protocols the lab serves. */
export type MailProtocol = 'imap' | 'pop3' | 'smtp';

/**
 * Why a mail login fails. Checked in this order, so one token shows its first fault only:
 * - `token-invalid`: malformed, bad signature, another tenant, or not an Outlook audience
 *   (e.g. a Graph token, o365-facts.md §1.6);
 * - `token-expired`: past `exp`;
 * - `scope-missing`: `scp` lacks the protocol's delegated scope; app-only tokens (no `scp`)
 *   land here too, as the lab models no Exchange service principals (o365-facts.md §5 row 4);
 * - `no-mailbox`: `user=` is not a mailbox of the tenant;
 * - `not-allowed`: IMAP/POP3: the token's user is neither the mailbox's owner nor holds Full
 *   Access ("SASL XOAUTH2 authentication for shared mailboxes": the shared mailbox's address as
 *   `user=`, a token of a user with access); SMTP: the token's user is not the `user=` account
 *   itself — Full Access does not count, SMTP AUTH as a shared mailbox with another user's token
 *   is `535 5.7.3 Authentication unsuccessful` (o365-facts.md §1.5; nextcloud/mail #13668);
 *   names are compared through the directory (UPN, mail, SMTP proxy addresses);
 * - `protocol-disabled`: ImapEnabled / PopEnabled is false on the mailbox;
 * - `smtp-disabled-mailbox` / `smtp-disabled-tenant`: SMTP AUTH off (Set-CASMailbox
 *   SmtpClientAuthenticationDisabled, else Set-TransportConfig; o365-facts.md §3.5), on the
 *   `user=` mailbox. For SMTP it is checked before the identity: a shared mailbox as `user=`
 *   got "5.7.139 … disabled for the Tenant" until its switch was set, then "5.7.3"
 *   (nextcloud/mail #13668, measured on a live tenant).
 *
 * IMAP/POP3 for a shared mailbox: the mailbox opened (`user=`) must have the protocol on. Whether
 * Exchange also looks at the signed-in account's switch is not documented; the lab does not
 * (lab's choice).
 */
export type MailAuthReason =
  | 'token-invalid'
  | 'token-expired'
  | 'scope-missing'
  | 'no-mailbox'
  | 'not-allowed'
  | 'protocol-disabled'
  | 'smtp-disabled-mailbox'
  | 'smtp-disabled-tenant';

/** Outcome of `decideMailAuth`. */
export type MailAuthOutcome =
  | {
      ok: true;
      /** The token's user (who signed in). */
      upn: string;
      /** The mailbox opened (`user=`), as the tenant spells it. */
      mailbox: string;
      /** Token expiry, seconds since the epoch (IMAP ends the session after it). */
      exp: number;
    }
  | { ok: false; reason: MailAuthReason };

/** The delegated scope each protocol needs in `scp` (o365-facts.md §1.6). */
export const PROTOCOL_SCOPE: Record<MailProtocol, string> = {
  imap: 'IMAP.AccessAsUser.All',
  pop3: 'POP.AccessAsUser.All',
  smtp: 'SMTP.Send',
};

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Whether two names are one person: equal, or two names of one directory user. */
export function samePerson(state: LabState, a: string, b: string): boolean {
  if (same(a, b)) return true;
  const u = userNamed(state.tenant, a);
  return !!u && namesOf(u).includes(b.toLowerCase());
}

/** The mailbox an address names: its own address, or any name of its owner. */
function findMailbox(state: LabState, address: string): LabMailbox | undefined {
  return (
    state.tenant.mailboxes.find(m => same(m.address, address)) ??
    state.tenant.mailboxes.find(m => samePerson(state, m.owner, address))
  );
}

/** Whether `upn` is the mailbox's own account (its owner, by any of its names). */
function owns(state: LabState, mailbox: LabMailbox, upn: string): boolean {
  return samePerson(state, mailbox.owner, upn) || samePerson(state, mailbox.address, upn);
}

/** Whether `upn` may open `mailbox`: its own account, or a Full Access holder. */
function mayOpen(state: LabState, mailbox: LabMailbox, upn: string): boolean {
  return owns(state, mailbox, upn) || mailbox.fullAccess.some(u => samePerson(state, u, upn));
}

/**
 * Whether the account `upn` may send as `sender`: its own mailbox (any of its addresses), or a
 * mailbox that lists it under Send As (Get-RecipientPermission). Otherwise Exchange refuses the
 * message after DATA (554 5.2.252 SendAsDenied, o365-facts.md §1.4).
 */
export function maySendAs(state: LabState, upn: string, sender: string): boolean {
  if (samePerson(state, upn, sender)) return true;
  const mailbox = findMailbox(state, sender);
  if (!mailbox) return false;
  return owns(state, mailbox, upn) || mailbox.sendAs.some(u => samePerson(state, u, upn));
}

/** SMTP AUTH switch: the mailbox's own value wins; `null` follows the tenant. */
function smtpDisabled(state: LabState, mailbox: LabMailbox): MailAuthReason | undefined {
  if (mailbox.smtpClientAuthenticationDisabled === true) return 'smtp-disabled-mailbox';
  if (mailbox.smtpClientAuthenticationDisabled === null && state.tenant.smtpAuthDisabledOrg)
    return 'smtp-disabled-tenant';
  return undefined;
}

/** Decide an XOAUTH2 login for `protocol` as Exchange Online would. */
export function decideMailAuth(
  state: LabState,
  protocol: MailProtocol,
  saslUser: string,
  token: string,
): MailAuthOutcome {
  const verified = verifyAccessToken(state.keys, token, OUTLOOK_AUDIENCES);
  if (!verified.ok)
    return { ok: false, reason: verified.reason === 'expired' ? 'token-expired' : 'token-invalid' };
  const claims = verified.claims;
  if (claims.tid !== state.tenant.tenantId) return { ok: false, reason: 'token-invalid' };

  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
  if (!scopes.includes(PROTOCOL_SCOPE[protocol])) return { ok: false, reason: 'scope-missing' };

  const mailbox = findMailbox(state, saslUser);
  if (!mailbox) return { ok: false, reason: 'no-mailbox' };

  const upn = [claims.upn, claims.unique_name, claims.preferred_username].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  if (protocol === 'smtp') {
    const off = smtpDisabled(state, mailbox);
    if (off) return { ok: false, reason: off };
    // SMTP AUTH is the signed-in account itself; Full Access to `user=` does not count.
    if (!upn || !owns(state, mailbox, upn)) return { ok: false, reason: 'not-allowed' };
  } else if (!upn || !mayOpen(state, mailbox, upn)) return { ok: false, reason: 'not-allowed' };

  if (protocol === 'imap' && !mailbox.imapEnabled)
    return { ok: false, reason: 'protocol-disabled' };
  if (protocol === 'pop3' && !mailbox.popEnabled) return { ok: false, reason: 'protocol-disabled' };
  const exp = typeof claims.exp === 'number' ? claims.exp : 0;
  return { ok: true, upn, mailbox: mailbox.address, exp };
}

/**
 * Parse an XOAUTH2 initial response: base64 of `user=<u>^Aauth=Bearer <token>^A^A`
 * (o365-facts.md §1.5). `undefined` when it is not that shape.
 */
export function parseXoauth2(b64: string): { user: string; token: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  let user: string | undefined;
  let token: string | undefined;
  for (const field of text.split('\x01')) {
    if (field.startsWith('user=')) user = field.slice(5);
    else if (/^auth=Bearer /i.test(field)) token = field.slice(12).trim();
  }
  return user && token ? { user, token } : undefined;
}
