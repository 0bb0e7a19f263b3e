/**
 * Checklist item 7, mailbox rights. Two account models (technote item 7): (a) one account per
 * mailbox — each token belongs to its mailbox, or to a user with full control of it (technote
 * item 4: "sign in as a user with full control of the mailbox"); (b) a shared account — its token
 * belongs to an account with Full Access to every mailbox it serves (Get-MailboxPermission,
 * o365-facts.md §3.5) and Send As on each (Get-RecipientPermission).
 *
 * Exchange's rules per protocol (o365-facts.md §1.5): IMAP and POP3 open a shared mailbox with
 * the account's token and the mailbox's address as `user=` (Full Access needed); SMTP AUTH is
 * always the signed-in account itself, and a From of the shared mailbox needs Send As, or
 * Exchange refuses the message after DATA (554 5.2.252 SendAsDenied; nextcloud/mail #13668:
 * "Exchange applies the Send As permission at submission time"). Full Access does not include
 * Send As: the two are granted apart.
 *
 * The token's user is compared through the directory (UPN, mail, SMTP proxy addresses): a UPN
 * that differs from the mailbox's primary SMTP address is the same person.
 *
 * Without Exchange reads, IMAP's "User is authenticated but not connected." (the token is good,
 * its user cannot open the mailbox, §1.2) stands in for the missing Full Access.
 */
import type { Code } from '../model';
import type {
  EntraTokenObservation,
  ExoObservation,
  GraphDirectoryUser,
  MailboxPermissionRow,
  MailObservation,
  Observation,
  RecipientPermissionRow,
} from '../model';
import { fromObservation } from './evidence';
import {
  directoryUsers,
  exoRead,
  judge,
  mailboxTokens,
  mailObservations,
  part,
  sameAddress,
  sameUser,
  tenantReadBlocker,
  tokenAccount,
  tokenUser,
  type Part,
  type Rule,
  refusalCode,
} from './rule';
import type { EnvironmentFacts, MailboxFacts } from '../model';
import type { Text } from '../model/items';
import { SERVICES, CENTRAL_ONLY, type ItemDeclaration } from './item';

const NAME_OF = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' } as const;

const TITLE: Text = { en: 'Mailbox rights', nl: 'Mailboxrechten' };

/**
 * Exchange shows a trustee as a UPN or, for some rows, by alias (or `DOMAIN\alias`); any of
 * them, or another name of the same directory user, names the account.
 */
function isAccount(
  user: string,
  account: string,
  directory: readonly GraphDirectoryUser[] = [],
): boolean {
  if (!user) return false;
  const alias = account.split('@')[0];
  return (
    sameUser(user, account, directory) ||
    sameAddress(user, alias) ||
    user.toLowerCase().endsWith(`\\${alias?.toLowerCase()}`)
  );
}

function hasFullAccess(r: MailboxPermissionRow): boolean {
  return r.AccessRights.some(x => x.toLowerCase() === 'fullaccess');
}

/** What one mailbox's judgement draws on besides its conversations. */
interface Context {
  directory: GraphDirectoryUser[];
  /** Get-MailboxPermission of the mailbox, when read. */
  perm?: ExoObservation;
  /** Get-RecipientPermission of the mailbox, when read. */
  sendAs?: ExoObservation;
}

/** Whether the mailbox's Get-MailboxPermission rows (or, without them, an opened login) let `user` in. */
function delegateEvidence(
  user: string,
  ctx: Context,
  retrieve: MailObservation[],
): { how: string; from: ExoObservation | MailObservation } | undefined {
  const perm = ctx.perm;
  if (perm?.ok && perm.cmdlet === 'Get-MailboxPermission') {
    const rows = perm.data ?? [];
    return grantsFullAccess(rows, user, ctx.directory)
      ? { how: 'Get-MailboxPermission lists Full Access', from: perm }
      : undefined;
  }
  // No Exchange read: Exchange opening the mailbox with this user's token is the proof (§1.2).
  const opened = retrieve.find(r => r.ok);
  return opened
    ? { how: `${opened.kind.toUpperCase()} opened the mailbox`, from: opened }
    : undefined;
}

/**
 * Parts from the token's user: the token must belong to the mailbox or its shared account
 * (compared through the directory); in the mailbox model a user with Full Access is accepted too.
 */
function tokenUserParts(
  m: MailboxFacts,
  tokens: EntraTokenObservation[],
  retrieve: MailObservation[],
  ctx: Context,
): Part[] {
  const expected = tokenAccount(m);
  return tokens
    .filter(o => o.ok && tokenUser(o.claims))
    .map(o => {
      const user = tokenUser(o.claims) as string;
      if (sameUser(user, expected, ctx.directory)) {
        const alias = sameAddress(user, expected) ? '' : ` (${user}, its sign-in name)`;
        return part('pass', 'OK', `${m.address}: the token belongs to ${expected}${alias}`, [
          fromObservation(o, { text: `token for ${user}` }),
        ]);
      }
      const delegate = m.access === 'mailbox' ? delegateEvidence(user, ctx, retrieve) : undefined;
      if (delegate) {
        return part(
          'pass',
          'OK',
          `${m.address}: the token belongs to ${user}, who has Full Access to it (a delegate with full control, as the technote allows)`,
          [
            fromObservation(o, { text: `token for ${user}` }),
            fromObservation(delegate.from, { text: `${delegate.how} for ${user}`, ok: true }),
          ],
        );
      }
      const denied = retrieve.filter(r => r.code === 'AUTHENTICATED_NOT_CONNECTED');
      return part(
        'fail',
        'ECE_TOKEN_WRONG_USER',
        `${m.address}: the token belongs to ${user}, who is not ${expected}${m.access === 'shared' ? ' (the shared account)' : ''}`,
        [
          fromObservation(o, {
            text: `token for ${user}, expected ${expected}`,
            ok: false,
            code: 'ECE_TOKEN_WRONG_USER',
          }),
          ...denied.map(r => fromObservation(r)),
        ],
        { fix: { mailbox: m.address, account: expected } },
      );
    });
}

/**
 * Whether Get-MailboxPermission rows give `account` Full Access (and do not deny it). Pure;
 * the Teams sign-in asks the same question of the same rows.
 */
export function grantsFullAccess(
  rows: readonly MailboxPermissionRow[],
  account: string,
  directory: readonly GraphDirectoryUser[] = [],
): boolean {
  const mine = fullAccessRows(rows, account, directory);
  return mine.length > 0 && !mine.some(r => r.Deny === true);
}

/** The rows that grant (or deny) `account` Full Access. */
function fullAccessRows(
  rows: readonly MailboxPermissionRow[],
  account: string,
  directory: readonly GraphDirectoryUser[] = [],
): MailboxPermissionRow[] {
  return rows.filter(r => isAccount(r.User, account, directory) && hasFullAccess(r));
}

/**
 * Whether Get-RecipientPermission rows give `account` Send As: a SendAs row for it, and none
 * with AccessControlType Deny.
 */
export function grantsSendAs(
  rows: readonly RecipientPermissionRow[],
  account: string,
  directory: readonly GraphDirectoryUser[] = [],
): boolean {
  const mine = rows.filter(
    r =>
      isAccount(r.Trustee, account, directory) &&
      r.AccessRights.some(x => x.toLowerCase() === 'sendas'),
  );
  return (
    mine.some(r => r.AccessControlType?.toLowerCase() !== 'deny') &&
    !mine.some(r => r.AccessControlType?.toLowerCase() === 'deny')
  );
}

/** Send As of the account that signs in to SMTP, from Get-RecipientPermission. */
function sendAsPart(
  env: EnvironmentFacts,
  observations: Observation[],
  m: MailboxFacts,
  account: string,
  ctx: Context,
): Part | undefined {
  const o = ctx.sendAs;
  if (!o) return undefined;
  const fix = { mailbox: m.address, account };
  if (o.code === 'EXO_UNEXPECTED_REPLY' || o.code === 'CHECK_CRASHED') {
    return part(
      'error',
      o.code,
      `${m.address}: Send As of ${account} not judged: ${o.code === 'CHECK_CRASHED' ? 'the read crashed' : "Exchange's reply to Get-RecipientPermission was not understood"}`,
      [fromObservation(o)],
      { fix },
    );
  }
  if (!o.ok || o.cmdlet !== 'Get-RecipientPermission') {
    const b = o.ok ? tenantReadBlocker(env, observations, 'exchange') : undefined;
    return part(
      'skip',
      b?.code ?? o.code,
      `${m.address}: Send As of ${account} not verified (${b?.reason ?? `Get-RecipientPermission failed (${o.code})`})`,
      [fromObservation(o)],
      { fix },
    );
  }
  const rows = o.data ?? [];
  const listed =
    rows
      .map(
        r =>
          `${r.Trustee} ${r.AccessRights.join(',')}${r.AccessControlType === 'Deny' ? ' (Deny)' : ''}`,
      )
      .join('; ') || 'no rows';
  const ev = (ok: boolean, code: Code) => [
    fromObservation(o, { text: `Get-RecipientPermission ${m.address}: ${listed}`, ok, code }),
  ];
  if (grantsSendAs(rows, account, ctx.directory)) {
    return part('pass', 'OK', `${account} may send as ${m.address}`, ev(true, 'OK'));
  }
  return part(
    'fail',
    'EXO_SEND_AS_MISSING',
    `${m.address}: ${account} has no Send As, so Exchange refuses mail ECE sends from ${m.address} (554 5.2.252 SendAsDenied)`,
    ev(false, 'EXO_SEND_AS_MISSING'),
    { fix },
  );
}

/** Full Access of the shared account from Get-MailboxPermission. */
function fullAccessPart(
  m: MailboxFacts,
  account: string,
  perm: ExoObservation,
  directory: readonly GraphDirectoryUser[],
): Part | undefined {
  if (!perm.ok || perm.cmdlet !== 'Get-MailboxPermission') return undefined;
  const rows = perm.data ?? [];
  const mine = fullAccessRows(rows, account, directory);
  const listed =
    rows.map(r => `${r.User} ${r.AccessRights.join(',')}${r.Deny ? ' (Deny)' : ''}`).join('; ') ||
    'no rows';
  const fix = { mailbox: m.address, account };
  const ev = (ok: boolean, code: Code) => [
    fromObservation(perm, { text: `Get-MailboxPermission ${m.address}: ${listed}`, ok, code }),
  ];
  if (mine.some(r => r.Deny === true)) {
    return part(
      'fail',
      'EXO_FULL_ACCESS_MISSING',
      `${m.address}: Full Access for ${account} is denied`,
      ev(false, 'EXO_FULL_ACCESS_MISSING'),
      { fix },
    );
  }
  if (mine.length)
    return part('pass', 'OK', `${account} has Full Access to ${m.address}`, ev(true, 'OK'));
  return part(
    'fail',
    'EXO_FULL_ACCESS_MISSING',
    `${m.address}: ${account} has no Full Access`,
    ev(false, 'EXO_FULL_ACCESS_MISSING'),
    { fix },
  );
}

function judgeMailbox(env: EnvironmentFacts, observations: Observation[], m: MailboxFacts): Part[] {
  const tokens = mailboxTokens(observations, m.address);
  const retrieve = mailObservations(observations, m.address, m.retrieve);
  const smtp = mailObservations(observations, m.address, 'smtp');
  const ctx: Context = { directory: directoryUsers(observations) };
  const perm = exoRead(observations, 'Get-MailboxPermission', m.address);
  if (perm) ctx.perm = perm;
  const sendAs = exoRead(observations, 'Get-RecipientPermission', m.address);
  if (sendAs) ctx.sendAs = sendAs;
  const parts = tokenUserParts(m, tokens, retrieve, ctx);
  const wrongUser = parts.some(p => p.code === 'ECE_TOKEN_WRONG_USER');
  const account = tokenAccount(m);
  // Who signs in to SMTP: the shared account, or in the mailbox model the token's user (the
  // mailbox itself, or a Full Access delegate, who then needs Send As like a shared account).
  const signedIn = tokens.map(o => tokenUser(o.claims)).find((u): u is string => !!u);
  const delegate =
    m.access === 'mailbox' &&
    signedIn &&
    !sameUser(signedIn, m.address, ctx.directory) &&
    !wrongUser
      ? signedIn
      : undefined;

  if (m.access === 'shared') {
    const fromExchange = perm ? fullAccessPart(m, account, perm, ctx.directory) : undefined;
    if (perm?.code === 'EXO_UNEXPECTED_REPLY') {
      // Reported, not judged; the conversations below may still show the rights end to end.
      parts.push(
        part(
          'error',
          perm.code,
          `${m.address}: Full Access of ${account} not judged: Exchange's reply to Get-MailboxPermission was not understood`,
          [fromObservation(perm)],
          { fix: { mailbox: m.address, account } },
        ),
      );
    }
    if (fromExchange) parts.push(fromExchange);
    else if (!wrongUser) {
      const notConnected = retrieve.find(r => r.code === 'AUTHENTICATED_NOT_CONNECTED');
      const opened = retrieve.find(r => r.ok);
      if (notConnected) {
        parts.push(
          part(
            'fail',
            'EXO_FULL_ACCESS_MISSING',
            `${m.address}: ${account}'s token is accepted but cannot open the mailbox (Full Access missing)`,
            [fromObservation(notConnected)],
            {
              fix: { mailbox: m.address, account },
            },
          ),
        );
      } else if (opened) {
        parts.push(part('pass', 'OK', `${account} opened ${m.address}`, [fromObservation(opened)]));
      } else if (perm?.code !== 'EXO_UNEXPECTED_REPLY') {
        // (An unreadable reply was reported above; a second "not verified" would only repeat it.)
        const b =
          perm && !perm.ok
            ? { code: perm.code, reason: `Get-MailboxPermission failed (${perm.code})` }
            : tenantReadBlocker(env, observations, 'exchange');
        parts.push(
          part(
            perm?.code === 'CHECK_CRASHED' ? 'error' : 'skip',
            b.code,
            `${m.address}: Full Access of ${account} not verified (${b.reason})`,
            perm ? [fromObservation(perm)] : [],
            { fix: { mailbox: m.address, account } },
          ),
        );
      }
    }
  } else if (!wrongUser) {
    const notConnected = retrieve.find(r => r.code === 'AUTHENTICATED_NOT_CONNECTED');
    if (notConnected) {
      parts.push(
        part(
          'fail',
          'AUTHENTICATED_NOT_CONNECTED',
          `${m.address}: the token is accepted but cannot open the mailbox`,
          [fromObservation(notConnected)],
          // Whose token it is decides the fix: a delegate's needs Full Access; the mailbox's own
          // must not be told to regenerate as itself (that is what it already is).
          { fix: { mailbox: m.address, ...(signedIn ? { account: signedIn } : {}) } },
        ),
      );
    } else if (!parts.length) {
      const opened = retrieve.find(r => r.ok);
      if (opened)
        parts.push(
          part('pass', 'OK', `${m.address} opened with its own token`, [fromObservation(opened)]),
        );
    }
  }

  // Send As: needed whenever the account that signs in to SMTP is not the mailbox itself.
  const sender = m.access === 'shared' ? account : delegate;
  const fromExchange =
    sender && !wrongUser ? sendAsPart(env, observations, m, sender, ctx) : undefined;
  if (fromExchange) parts.push(fromExchange);
  const denied = smtp.find(o => o.code === 'SEND_AS_DENIED');
  if (denied && !wrongUser && fromExchange?.code !== 'EXO_SEND_AS_MISSING') {
    parts.push(
      part(
        'fail',
        'SEND_AS_DENIED',
        `${m.address}: ${sender ?? account} may not send as ${m.address}`,
        [fromObservation(denied)],
        {
          fix:
            (sender ?? signedIn)
              ? { mailbox: m.address, account: (sender ?? signedIn)! }
              : { mailbox: m.address },
        },
      ),
    );
  }

  // Exchange accepted the sign-in but the account could not log on to the mailbox: SMTP's "430
  // 4.2.0 STOREDRV; mailbox logon failure … MapiExceptionLogonFailed" (o365-facts.md §1.4,
  // email-oauth2-proxy #271), IMAP's [AUTHORIZATIONFAILED] / [NOPERM] (RFC 5530). The account
  // has no rights on the mailbox; an Exchange read that already said so is not repeated.
  const logonDenied = [...retrieve, ...smtp].find(o => o.code === 'MAILBOX_ACCESS_DENIED');
  if (logonDenied && !wrongUser && !parts.some(p => p.code === 'EXO_FULL_ACCESS_MISSING')) {
    const who = sender ?? (m.access === 'shared' ? account : undefined);
    parts.push(
      part(
        'fail',
        'MAILBOX_ACCESS_DENIED',
        `${m.address}: ${who ?? "the token's account"} signed in but may not open ${m.address} (${NAME_OF[logonDenied.kind]})`,
        [fromObservation(logonDenied)],
        { fix: who ? { mailbox: m.address, account: who } : { mailbox: m.address } },
      ),
    );
  }

  if (!parts.length) {
    // Nothing to judge the mailbox model on: no token (or no usable one) and no conversation.
    const failed = tokens.find(o => !o.ok);
    const code: Code = !m.hasToken
      ? 'ECE_TOKEN_MISSING'
      : failed
        ? refusalCode(failed)
        : 'NO_WORKER';
    const why = !m.hasToken
      ? 'no token configured'
      : failed
        ? `its token could not be obtained (${refusalCode(failed)})`
        : 'nothing observed';
    parts.push(
      part('skip', code, `${m.address}: rights not verified (${why})`, [], {
        fix: { mailbox: m.address, account },
      }),
    );
  }
  return parts;
}

export const mailboxRights: Rule = ({ env, observations }) => {
  const parts = env.mailboxes.flatMap(m => judgeMailbox(env, observations, m));
  const models = env.mailboxes
    .map(m =>
      m.access === 'shared'
        ? `${m.address} via ${tokenAccount(m)}`
        : `${m.address} with its own token`,
    )
    .join(', ');
  return judge('mailbox-rights', TITLE.en, env, parts, {
    passSummary: `Rights in place: ${models}`,
    emptySummary: 'No mailboxes in the inventory.',
  });
};

/** Checklist item: Mailbox rights. */
export const item: ItemDeclaration = {
  id: 'mailbox-rights',
  title: TITLE,
  reads: [
    { read: 'exchange-token', on: CENTRAL_ONLY },
    { read: 'exo-mailbox-permission', on: CENTRAL_ONLY },
    { read: 'exo-recipient-permission', on: CENTRAL_ONLY },
    // The token's user is compared through the directory (UPN, mail, proxyAddresses).
    { read: 'graph-token', on: CENTRAL_ONLY },
    { read: 'graph-directory-users', on: CENTRAL_ONLY },
    { read: 'mailbox-token', on: SERVICES },
    { read: 'mailbox-login', on: SERVICES },
  ],
  rule: mailboxRights,
};
