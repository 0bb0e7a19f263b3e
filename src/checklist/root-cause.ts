/**
 * Cross-item attribution, pure: when an item fails because another one does, say so, so a
 * person fixes the cause first. The end-to-end items (token, connectivity, mailbox-rights) see
 * the consequences of the settings items:
 * - a transport code (DNS, TCP, TLS, timeouts) anywhere but the network item → network;
 * - connectivity with "authenticated but not connected" → token when the token item fails
 *   (the Kerberos/SSO wrong-user trap), else mailbox-rights (Full Access missing);
 * - connectivity with SMTP_AUTH_DISABLED / AUTH_FAILED while mailbox-protocols fails →
 *   mailbox-protocols (else a failing token, then failing mailbox rights, explain AUTH_FAILED);
 * - token refusals whose AADSTS code belongs to the app registration (7000222, 7000215,
 *   65001…) → app-registration; to the tenant's Exchange subscription (650052) → license;
 * - mailbox-rights failing because the token's user is wrong → token;
 * - any other item left unchecked or failing on another item's code → that item.
 * A root cause is only ever an item of the same run that did not pass.
 */
import { CODES, type Code } from '../knowledge/codes';
import { isNetworkCode } from './rule';
import type { Finding, ItemId } from '../model';

type Failing = (item: ItemId) => boolean;

/** The item a code in `item`'s finding is a consequence of, if any. */
function causeOf(item: ItemId, code: Code, failing: Failing): ItemId | undefined {
  if (code === 'OK' || code === 'CHECK_CRASHED') return undefined;
  if (item !== 'network' && isNetworkCode(code)) return 'network';
  const owner = CODES[code].item;
  switch (item) {
    case 'connectivity':
      if (code === 'AUTHENTICATED_NOT_CONNECTED')
        return failing('token') ? 'token' : 'mailbox-rights';
      if (code === 'SMTP_AUTH_DISABLED' || code === 'AUTH_FAILED') {
        if (failing('mailbox-protocols')) return 'mailbox-protocols';
        if (code === 'AUTH_FAILED' && failing('token')) return 'token';
        // POP3 and SMTP answer a token whose user cannot open the mailbox with a plain
        // authentication failure (o365-facts.md §6, "token for another user").
        if (code === 'AUTH_FAILED' && failing('mailbox-rights')) return 'mailbox-rights';
        return undefined;
      }
      if (code === 'SEND_AS_DENIED' && failing('mailbox-rights')) return 'mailbox-rights';
      // The mail-reply codes of another item (SMTP AUTH off for the tenant or by security
      // defaults → mailbox-protocols; a mailbox logon the account has no rights for →
      // mailbox-rights) follow from that item when it fails too.
      if ((owner === 'mailbox-protocols' || owner === 'mailbox-rights') && failing(owner)) {
        return owner;
      }
      return owner === 'token' || owner === 'app-registration' ? 'token' : undefined;
    case 'token':
      return owner === 'app-registration' || owner === 'license' ? owner : undefined;
    case 'mailbox-rights':
      if (code === 'ECE_TOKEN_WRONG_USER') return 'token';
      return owner === 'token' || owner === 'app-registration' ? 'token' : undefined;
    default:
      // An item left unchecked or failing on another item's code (a missing external URL, a
      // token that could not be obtained) follows from that item.
      return owner && owner !== item ? owner : undefined;
  }
}

/** Findings with `rootCause` filled in where another item explains the failure. */
export function attributeRootCauses(findings: readonly Finding[]): Finding[] {
  const byItem = new Map(findings.map(f => [f.item, f]));
  const failing: Failing = item => {
    const s = byItem.get(item)?.status;
    return s === 'fail' || s === 'error';
  };
  // A root cause is a finding of this run that did not pass: naming an item that passed, or one
  // that was not checked, would send a person to fix what is not broken.
  const explains = (item: ItemId): boolean => {
    const s = byItem.get(item)?.status;
    return s === 'fail' || s === 'error' || s === 'warn';
  };
  return findings.map(f => {
    if (f.status === 'pass') {
      if (!f.rootCause) return f;
      const { rootCause: _dropped, ...rest } = f;
      return rest;
    }
    if (f.rootCause && explains(f.rootCause)) return f;
    const own = { ...f };
    delete own.rootCause;
    // The main code decides first; the other codes only when it explains nothing.
    for (const code of [f.code, ...f.codes]) {
      const cause = causeOf(f.item, code, failing);
      if (cause && cause !== f.item && explains(cause)) return { ...own, rootCause: cause };
    }
    return own;
  });
}
