/**
 * Checklist item 9, connectivity test: end to end with the real token, from the services servers
 * and the application servers, as the checklist asks of Microsoft's Remote Connectivity Analyzer
 * (anchors.md A1). From services servers: IMAP login and LIST or POP3 login and STAT, and SMTP
 * AUTH (plus a test message when the inventory asks for one). From application servers, which
 * send alarm mail (item 8): SMTP AUTH. All with XOAUTH2: the RCA's POP and IMAP tests log in with
 * a password (USER/PASS in its traces, o365-facts.md §4), which Exchange Online refuses since
 * basic authentication was turned off for POP and IMAP (Microsoft's "Deprecation of Basic
 * authentication in Exchange Online"), so they always fail there and prove nothing about OAuth.
 *
 * A step slower than the environment's threshold warns (SLOW_RESPONSE). A mailbox whose token
 * could not be obtained is skipped: the token item owns that failure.
 */
import type { Code } from '../model';
import type { MailObservation } from '../model';
import { fromObservation, ms } from './evidence';
import { servicePorts } from './network';
import {
  judge,
  mailboxTokens,
  mailObservations,
  part,
  tokenAccount,
  type Part,
  type Rule,
  type RuleInput,
  refusalCode,
} from './rule';
import type { EnvironmentFacts, MailboxFacts } from '../model';
import type { Text } from '../model/items';
import { APPLICATION, EVERY_SERVER, SERVICES, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'Connectivity test', nl: 'Verbindingstest' };

const NAME = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' } as const;

/** Temporary refusals: the server asked to come back later, so nothing was judged. */
const NOT_NOW: ReadonlySet<Code> = new Set<Code>(['MAIL_TEMPORARY', 'MAILBOX_IN_USE']);

/** What the conversation proved, for the pass line. */
function achieved(o: MailObservation): string {
  if (o.kind === 'imap') return 'IMAP login and LIST';
  if (o.kind === 'pop3') return 'POP3 login and STAT';
  return o.mailboxFacts?.sent ? 'SMTP AUTH and test send' : 'SMTP AUTH';
}

function judgeConversation(env: EnvironmentFacts, m: MailboxFacts, o: MailObservation): Part[] {
  const proto = NAME[o.kind];
  const evidence = [fromObservation(o)];
  if (o.code === 'CHECK_CRASHED') {
    return [
      part(
        'error',
        'CHECK_CRASHED',
        `${m.address}: the ${proto} probe crashed on ${o.vantage}`,
        evidence,
        { failedOn: [o.vantage] },
      ),
    ];
  }
  const fix = {
    mailbox: m.address,
    vantage: o.vantage,
    ...(o.host ? { host: o.host } : {}),
    ...servicePorts(o.kind, o.port),
    ...(m.access === 'shared' ? { account: tokenAccount(m) } : {}),
  };
  if (!o.ok && NOT_NOW.has(o.code)) {
    // The server said "not now" (RFC 5321 §4.2.1 4yz, RFC 5530 UNAVAILABLE, RFC 3206 SYS/TEMP,
    // RFC 2449 IN-USE / LOGIN-DELAY): a warning, never a pass (the login was not established)
    // and never a failure of the token or the settings, which the server did not judge.
    return [
      part(
        'warn',
        o.code,
        `${m.address}: ${proto} ${o.stage} was refused for now from ${o.vantage} (${o.code}); not established, run the check again`,
        evidence,
        { fix },
      ),
    ];
  }
  if (!o.ok) {
    return [
      part(
        'fail',
        o.code,
        `${m.address}: ${proto} ${o.stage} failed from ${o.vantage} (${o.code})`,
        evidence,
        {
          failedOn: [o.vantage],
          fix,
        },
      ),
    ];
  }
  const slow = (o.steps ?? []).filter(s => s.durationMs > env.slowMs);
  if (slow.length) {
    const worst = slow.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    const code: Code = 'SLOW_RESPONSE';
    return [
      part(
        'warn',
        code,
        `${m.address}: ${proto} ${worst.name} took ${ms(worst.durationMs)} from ${o.vantage} (threshold ${ms(env.slowMs)})`,
        [
          fromObservation(o, {
            code,
            ok: false,
            text: `${proto} ok, but slow: ${slow.map(s => `${s.name} ${ms(s.durationMs)}`).join(', ')}`,
          }),
        ],
        { fix },
      ),
    ];
  }
  return [part('pass', 'OK', `${m.address}: ${achieved(o)} ok from ${o.vantage}`, evidence)];
}

/** Judge one mailbox; `tokenSkip` marks a mailbox skipped because its token failed. */
function judgeMailbox(
  { env, observations }: RuleInput,
  m: MailboxFacts,
): { parts: Part[]; tokenSkip: boolean } {
  if (!m.hasToken) {
    return {
      parts: [
        part('skip', 'ECE_TOKEN_MISSING', `${m.address}: not tested, no token configured`, [], {
          fix: { mailbox: m.address },
        }),
      ],
      tokenSkip: true,
    };
  }
  // The mailbox is tested when its token works on the services servers; an application server
  // that could not get the token there skips only its own SMTP test (below).
  const onApplication = (v: string): boolean =>
    env.servers.some(s => s.name === v && s.role === 'application');
  const all = mailboxTokens(observations, m.address);
  const tokens = all.filter(o => !onApplication(o.vantage));
  const failed = tokens.find(o => !o.ok);
  if (tokens.length && !tokens.some(o => o.ok) && failed) {
    const code = refusalCode(failed);
    return {
      parts: [
        part(
          'skip',
          code,
          `${m.address}: not tested, its token could not be obtained (${code})`,
          [],
          { fix: { mailbox: m.address, account: tokenAccount(m) } },
        ),
      ],
      tokenSkip: true,
    };
  }
  const parts: Part[] = [];
  for (const kind of [m.retrieve, 'smtp'] as const) {
    const seen = mailObservations(observations, m.address, kind);
    if (!seen.length) {
      parts.push(
        part(
          'skip',
          'NO_WORKER',
          `${m.address}: ${NAME[kind]} not tested (no services server answered)`,
          [],
        ),
      );
      continue;
    }
    parts.push(...seen.flatMap(o => judgeConversation(env, m, o)));
  }
  const appSmtp = new Set(mailObservations(observations, m.address, 'smtp').map(o => o.vantage));
  for (const t of all.filter(o => onApplication(o.vantage) && !o.ok && !appSmtp.has(o.vantage))) {
    const code = refusalCode(t);
    parts.push(
      part(
        'skip',
        code,
        `${m.address}: SMTP not tested from ${t.vantage}, the token could not be obtained there (${code})`,
        [],
        { fix: { mailbox: m.address, vantage: t.vantage, account: tokenAccount(m) } },
      ),
    );
  }
  return { parts, tokenSkip: false };
}

export const connectivity: Rule = input => {
  const { env } = input;
  const judged = input.env.mailboxes.map(m => judgeMailbox(input, m));
  const parts = judged.flatMap(j => j.parts);
  const tested = env.mailboxes
    .filter((_, i) => judged[i]?.parts.some(p => p.status === 'pass'))
    .map(m => `${m.address} (${NAME[m.retrieve]} + SMTP)`);
  // Skips caused only by failed tokens are the token item's failure seen from here.
  const tokenOnly =
    judged.some(j => j.tokenSkip) &&
    judged.every(j => j.tokenSkip || j.parts.every(p => p.status === 'pass'));
  return judge('connectivity', TITLE.en, env, parts, {
    passSummary: `End-to-end login works for ${tested.join(', ')}`,
    emptySummary: 'No mailboxes in the inventory.',
    ...(tokenOnly ? { rootCause: 'token' as const } : {}),
  });
};

/** Checklist item: Connectivity test. */
export const item: ItemDeclaration = {
  id: 'connectivity',
  title: TITLE,
  reads: [
    { read: 'mailbox-token', on: EVERY_SERVER },
    { read: 'mailbox-login', on: SERVICES },
    { read: 'mailbox-send', on: APPLICATION },
  ],
  rule: connectivity,
};
