/**
 * Checklist item 4, token generation: each mailbox's token can still be refreshed, was issued to
 * the mailbox (or its shared account) and not to the workstation user, and carries an Exchange
 * Online audience and the protocol's scopes (o365-facts.md §2.4, §2.6).
 *
 * The technote's trap: on a domain-joined workstation the browser signs in silently with the
 * user's Kerberos/SSO session, so ECE stores a token for that user. Its `amr` then holds `wia`.
 *
 * Two kinds of evidence, labelled in every text (DESIGN.md): **ecebot's test token** — the
 * refresh token ecebot was given, redeemed from each services server — and **ECE's token**, as
 * Entra's sign-in log shows ECE using it (./ece-sign-ins.ts). A right test token does not make
 * ECE's right: ECE may hold another token than the one ecebot was given.
 */
import {
  AMR_WINDOWS_INTEGRATED,
  isExchangeAudience,
  PROTOCOL_SCOPE,
} from '../knowledge/permissions';
import type { Code, EntraTokenObservation, ExoObservation, GraphDirectoryUser } from '../model';
import { ECE_LOG, eceSignInParts } from './ece-sign-ins';
import { describe, fromObservation } from './evidence';
import { grantsFullAccess } from './mailbox-rights';
import {
  directoryUsers,
  exoRead,
  isNetworkCode,
  judge,
  mailboxTokens,
  mailObservations,
  part,
  sameAddress,
  sameUser,
  servicesServers,
  tokenAccount,
  tokenUser,
  type Part,
  type Rule,
  refusalCode,
  refusalFix,
  refusalName,
} from './rule';
import type { MailboxFacts } from '../model';
import type { Text } from '../model/items';
import { CENTRAL_ONLY, SERVICES, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'Token generation', nl: 'Tokens genereren' };

/** Mail-server refusals that are about the token itself (item `token` in the registry). */
const MAIL_TOKEN_CODES: ReadonlySet<Code> = new Set<Code>([
  'SMTP_BLOCKED_BY_POLICY',
  'TOKEN_EXPIRED_SESSION',
]);

/** What every evidence text and line about ecebot's own test of the token starts with. */
export const ECEBOT_TEST = 'ecebot test token';

/** The claims a person needs to see, in one line (never the token itself). */
function claimsText(o: EntraTokenObservation): string {
  const c = o.claims;
  if (!c) return `${ECEBOT_TEST}: refreshed on ${o.vantage}; its claims could not be read`;
  const bits = [
    `token for ${tokenUser(c) ?? 'an unnamed user'}`,
    c.amr?.length ? `amr ${c.amr.join(' ')}` : undefined,
    c.aud ? `aud ${c.aud}` : undefined,
    c.scp ? `scp ${c.scp}` : undefined,
    o.lifetimeMinutes !== undefined ? `lasts ${o.lifetimeMinutes} min` : undefined,
  ];
  return `${ECEBOT_TEST}: ${bits.filter(Boolean).join(', ')}`;
}

/** What a token's user is compared with besides the account's own address. */
interface Identity {
  /** Directory users (UPN, mail, proxyAddresses) of the mailboxes and accounts. */
  directory: readonly GraphDirectoryUser[];
  /** Get-MailboxPermission of the mailbox, when read. */
  perm?: ExoObservation;
}

/**
 * Whether the token's user is a right one for the mailbox: its account under any of its
 * directory names (a UPN need not be the SMTP address), or, in the mailbox model, a user
 * Exchange lists with Full Access to it (checklist.md item 7: "the user who has full control of
 * the mailbox"). How it is right, for the evidence; undefined when it is not.
 */
function rightUser(m: MailboxFacts, user: string, id: Identity): string | undefined {
  const account = tokenAccount(m);
  if (sameUser(user, account, id.directory)) {
    return sameAddress(user, account) ? '' : ` (${user}, a directory name of ${account})`;
  }
  const perm = id.perm;
  if (m.access === 'mailbox' && perm?.ok && perm.cmdlet === 'Get-MailboxPermission') {
    if (grantsFullAccess(perm.data ?? [], user, id.directory)) {
      return ` (${user}, who has Full Access to ${m.address})`;
    }
  }
  return undefined;
}

/** Judge one refreshed token against the mailbox it serves. */
function judgeToken(m: MailboxFacts, o: EntraTokenObservation, id: Identity): Part[] {
  const account = tokenAccount(m);
  const fix = { mailbox: m.address, account, vantage: o.vantage };
  const failedOn = [o.vantage];
  const evidence = [fromObservation(o, { text: claimsText(o) })];
  const c = o.claims;
  if (!c) return [part('pass', 'OK', `${m.address}: token refreshed`, evidence)];

  const parts: Part[] = [];
  const user = tokenUser(c);
  const how = user ? rightUser(m, user, id) : '';
  if (user && how === undefined) {
    const wia = c.amr?.includes(AMR_WINDOWS_INTEGRATED)
      ? ' (amr "wia": signed in silently with Windows Integrated Authentication, i.e. Kerberos/SSO)'
      : '';
    parts.push(
      part(
        'fail',
        'ECE_TOKEN_WRONG_USER',
        `${m.address}: the token belongs to ${user}, not ${account}${wia}; regenerate it in an InPrivate window signing in as ${account}`,
        evidence,
        { fix, failedOn },
      ),
    );
  }
  if (c.aud !== undefined && !isExchangeAudience(c.aud)) {
    parts.push(
      part(
        'fail',
        'ECE_TOKEN_WRONG_AUDIENCE',
        `${m.address}: the token's audience ${c.aud} is not Exchange Online`,
        evidence,
        { fix, failedOn },
      ),
    );
  }
  const scp = new Set((c.scp ?? '').split(/\s+/).filter(Boolean));
  const missing = [PROTOCOL_SCOPE[m.retrieve], PROTOCOL_SCOPE.smtp].filter(s => !scp.has(s));
  if (missing.length) {
    parts.push(
      part(
        'fail',
        'ECE_TOKEN_SCOPE_MISSING',
        `${m.address}: the token lacks ${missing.join(' and ')}`,
        evidence,
        { fix: { ...fix, scopes: missing }, failedOn },
      ),
    );
  }
  if (!parts.length) {
    const who = user ? ` for ${user}${how ?? ''}` : '';
    parts.push(
      part(
        'pass',
        'OK',
        `${m.address}: token${who} with Exchange Online audience and scopes`,
        evidence,
      ),
    );
  }
  return parts;
}

/** Judge one mailbox: configured, refreshed, then its claims. */
function judgeMailbox(
  m: MailboxFacts,
  tokens: EntraTokenObservation[],
  services: string[],
  id: Identity,
): Part[] {
  if (!m.hasToken) {
    return [
      part('skip', 'ECE_TOKEN_MISSING', `${m.address}: no token configured for ecebot`, [], {
        fix: { mailbox: m.address, account: tokenAccount(m) },
      }),
    ];
  }
  if (!tokens.length) {
    return [
      part('skip', 'NO_WORKER', `${m.address}: no services server refreshed its token`, [], {
        fix: { vantage: services.join(', ') || 'the services server' },
      }),
    ];
  }
  return tokens.flatMap(o => {
    if (o.code === 'CHECK_CRASHED') {
      return [
        part('error', 'CHECK_CRASHED', `${m.address}: the token probe crashed on ${o.vantage}`, [
          fromObservation(o, { text: `${ECEBOT_TEST}: ${describe(o)}` }),
        ]),
      ];
    }
    if (o.ok) return judgeToken(m, o, id);
    const code = refusalCode(o);
    const evidence = [fromObservation(o, { code, text: `${ECEBOT_TEST}: ${describe(o)}` })];
    if (code === 'ENTRA_UNREACHABLE' || isNetworkCode(code)) {
      return [
        part(
          'skip',
          code,
          `${m.address}: Entra ID could not be reached from ${o.vantage}`,
          evidence,
          {
            fix: { vantage: o.vantage, host: 'login.microsoftonline.com', port: 443 },
          },
        ),
      ];
    }
    return [
      part(
        'fail',
        code,
        `${m.address}: Entra refused to refresh its token on ${o.vantage} (${refusalName(o)})`,
        evidence,
        {
          fix: {
            mailbox: m.address,
            account: tokenAccount(m),
            vantage: o.vantage,
            ...refusalFix(o),
          },
          failedOn: [o.vantage],
        },
      ),
    ];
  });
}

export const token: Rule = ({ env, observations, now }) => {
  const services = servicesServers(env);
  const directory = directoryUsers(observations);
  const perm = (address: string) => exoRead(observations, 'Get-MailboxPermission', address);
  const judged = env.mailboxes.map(m => ({
    m,
    parts: judgeMailbox(m, mailboxTokens(observations, m.address), services, {
      directory,
      ...(perm(m.address) ? { perm: perm(m.address)! } : {}),
    }),
  }));
  // ECE's sign-in log needs Entra ID P1/P2 and AuditLog.Read.All: when it cannot be read, the
  // item still stands on ecebot's test token, and says what was not checked.
  const ece = (env.mailboxes.length ? eceSignInParts({ env, observations, now }) : []).map(p =>
    p.status === 'skip' ? { ...p, optional: true } : p,
  );
  // When the sign-in log shows ECE redeeming its token as every mailbox's account, that is the
  // item established on ECE's own evidence: a mailbox ecebot could not test itself is then named,
  // not a reason to leave the item unestablished.
  const eceOk = ece.length > 0 && ece.every(p => p.status === 'pass');
  const own = judged
    .flatMap(j => j.parts)
    .map(p => (eceOk && p.status === 'skip' ? { ...p, optional: true } : p));
  // Mail servers that judge the token itself: Exchange's "535 5.7.139 … the request did not
  // meet the criteria to be authenticated successfully" is Conditional Access refusing this
  // account's sign-in from this server (o365-facts.md §1.4, §5 #14), "* BYE Session
  // invalidated - AccessTokenExpired" a token that expired within the session (§1.2).
  const blocked = env.mailboxes.flatMap(m =>
    (['smtp', m.retrieve] as const)
      .flatMap(kind => mailObservations(observations, m.address, kind))
      .filter(o => MAIL_TOKEN_CODES.has(o.code))
      .map(o =>
        part(
          'fail',
          o.code,
          o.code === 'SMTP_BLOCKED_BY_POLICY'
            ? `${m.address}: Conditional Access blocks SMTP AUTH of ${tokenAccount(m)} from ${o.vantage}`
            : `${m.address}: the access token expired within the ${o.kind.toUpperCase()} session on ${o.vantage}`,
          [fromObservation(o)],
          {
            fix: { mailbox: m.address, account: tokenAccount(m), vantage: o.vantage },
            failedOn: [o.vantage],
          },
        ),
      ),
  );
  const parts = [...own, ...blocked, ...ece];
  const passed = judged.filter(j => j.parts.some(p => p.status === 'pass')).map(j => j.m.address);
  const tested = passed.length
    ? `Tokens for ${passed.join(', ')} refresh and belong to the right account, with Exchange Online audience and scopes (${ECEBOT_TEST})`
    : '';
  const fromLog = ece.some(p => p.status === 'pass')
    ? `${ECE_LOG}: ECE signs in as each mailbox's account`
    : '';
  return judge('token', TITLE.en, env, parts, {
    passSummary: [tested, fromLog].filter(Boolean).join('; '),
    emptySummary: 'No mailboxes in the inventory.',
  });
};

/** Checklist item: Token generation. */
export const item: ItemDeclaration = {
  id: 'token',
  title: TITLE,
  reads: [
    { read: 'mailbox-token', on: SERVICES },
    // ECE's own sign-ins (Entra's sign-in log), and the app token that reads them, so a missing
    // read can say why (no probe credentials, a refused probe token).
    { read: 'graph-token', on: CENTRAL_ONLY },
    { read: 'graph-sign-ins', on: CENTRAL_ONLY },
    // The token's user compared through the directory, and Full Access delegates accepted.
    { read: 'graph-directory-users', on: CENTRAL_ONLY },
    { read: 'exchange-token', on: CENTRAL_ONLY },
    { read: 'exo-mailbox-permission', on: CENTRAL_ONLY },
    // SMTP AUTH refused by Conditional Access ("535 5.7.139 … did not meet the criteria").
    { read: 'mailbox-login', on: SERVICES },
  ],
  rule: token,
};
