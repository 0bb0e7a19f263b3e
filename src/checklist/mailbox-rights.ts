/**
 * Checklist item 7, mailbox rights. Two account models (technote item 7): (a) one account per
 * mailbox — each token must belong to its mailbox; (b) a shared account — its token belongs to
 * an account with Full Access to every mailbox it serves (Get-MailboxPermission,
 * o365-facts.md §3.5), and Send As for sending from each alias (SendAsDenied, §1.4).
 *
 * Without Exchange reads, IMAP's "User is authenticated but not connected." (the token is good,
 * its user cannot open the mailbox, §1.2) stands in for the missing Full Access.
 */
import type { Code } from '../model';
import type {
  EntraTokenObservation,
  ExoObservation,
  MailboxPermissionRow,
  MailObservation,
  Observation,
} from '../model';
import { fromObservation } from './evidence';
import {
  exoRead,
  judge,
  mailboxTokens,
  mailObservations,
  part,
  sameAddress,
  tenantReadBlocker,
  tokenAccount,
  tokenUser,
  type Part,
  type Rule,
} from './rule';
import type { EnvironmentFacts, MailboxFacts } from '../model';
import { refusalCode } from './token';
import type { Text } from '../model/items';
import { SERVICES, CENTRAL_ONLY, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'Mailbox rights', nl: 'Mailboxrechten' };

/** Exchange shows the trustee as a UPN or, for some rows, by alias; both name the account. */
function isAccount(user: string, account: string): boolean {
  if (!user) return false;
  const alias = account.split('@')[0];
  return (
    sameAddress(user, account) ||
    sameAddress(user, alias) ||
    user.toLowerCase().endsWith(`\\${alias?.toLowerCase()}`)
  );
}

function hasFullAccess(r: MailboxPermissionRow): boolean {
  return r.AccessRights.some(x => x.toLowerCase() === 'fullaccess');
}

/** Parts from the token's user: the token must belong to the mailbox or its shared account. */
function tokenUserParts(
  m: MailboxFacts,
  tokens: EntraTokenObservation[],
  retrieve: MailObservation[],
): Part[] {
  const expected = tokenAccount(m);
  return tokens
    .filter(o => o.ok && tokenUser(o.claims))
    .map(o => {
      const user = tokenUser(o.claims) as string;
      if (sameAddress(user, expected)) {
        return part('pass', 'OK', `${m.address}: the token belongs to ${expected}`, [
          fromObservation(o, { text: `token for ${user}` }),
        ]);
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
export function grantsFullAccess(rows: readonly MailboxPermissionRow[], account: string): boolean {
  const mine = fullAccessRows(rows, account);
  return mine.length > 0 && !mine.some(r => r.Deny === true);
}

/** The rows that grant (or deny) `account` Full Access. */
function fullAccessRows(
  rows: readonly MailboxPermissionRow[],
  account: string,
): MailboxPermissionRow[] {
  return rows.filter(r => isAccount(r.User, account) && hasFullAccess(r));
}

/** Full Access of the shared account from Get-MailboxPermission. */
function fullAccessPart(m: MailboxFacts, account: string, perm: ExoObservation): Part | undefined {
  if (!perm.ok || perm.cmdlet !== 'Get-MailboxPermission') return undefined;
  const rows = perm.data ?? [];
  const mine = fullAccessRows(rows, account);
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
  const parts = tokenUserParts(m, tokens, retrieve);
  const wrongUser = parts.some(p => p.code === 'ECE_TOKEN_WRONG_USER');
  const account = tokenAccount(m);

  if (m.access === 'shared') {
    const perm = exoRead(observations, 'Get-MailboxPermission', m.address);
    const fromExchange = perm ? fullAccessPart(m, account, perm) : undefined;
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
          { fix: { mailbox: m.address } },
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

  const sendAs = smtp.find(o => o.code === 'SEND_AS_DENIED');
  if (sendAs && !wrongUser) {
    parts.push(
      part(
        'fail',
        'SEND_AS_DENIED',
        `${m.address}: ${account} may not send as ${m.address}`,
        [fromObservation(sendAs)],
        {
          fix: m.access === 'shared' ? { mailbox: m.address, account } : { mailbox: m.address },
        },
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
    { read: 'mailbox-token', on: SERVICES },
    { read: 'mailbox-login', on: SERVICES },
  ],
  rule: mailboxRights,
};
