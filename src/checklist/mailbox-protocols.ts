/**
 * Checklist item 5, mailbox configuration: SMTP AUTH always (the dispatcher sends), plus IMAP or
 * POP3 for the protocol each mailbox is read with — and only that one.
 *
 * Each switch is read on the object Exchange applies it to. SMTP AUTH: the account that signs in,
 * which is the only `user=` Exchange accepts for SMTP (o365-facts.md §1.5); for a shared mailbox
 * that is its account, and the shared mailbox's own switch does not matter (Microsoft's SMTP AUTH
 * doc sets it per mailbox that authenticates: "Enable SMTP AUTH for specific mailboxes").
 * IMAP/POP3: Microsoft does not say whose ImapEnabled/PopEnabled applies when an account opens a
 * shared mailbox with its own token; ecebot reads the mailbox opened (`user=`), as it always has,
 * and the lab enforces the same (lab's choice, o365-facts.md §1.2 lists the disabled-protocol
 * answer as unverified too).
 *
 * Source of truth is Exchange (Get-CASMailbox, Get-TransportConfig; o365-facts.md §3.5):
 * `SmtpClientAuthenticationDisabled` true disables, false enables and overrides the tenant,
 * null follows the tenant. Without Exchange reads, the end-to-end conversations decide where
 * they can: an accepted XOAUTH2 proves the protocol is on; SMTP's "535 5.7.139" proves SMTP AUTH
 * is off. A rejected IMAP/POP token proves nothing (the disabled-protocol answer is unverified).
 */
import type { Code } from '../model';
import type {
  CasMailboxRow,
  ExoObservation,
  MailObservation,
  Observation,
  TransportConfigRow,
} from '../model';
import { fromObservation } from './evidence';
import {
  authenticated,
  exoRead,
  judge,
  mailObservations,
  part,
  sameAddress,
  tenantReadBlocker,
  tokenAccount,
  type Part,
  type Rule,
} from './rule';
import type { EnvironmentFacts, MailboxFacts } from '../model';
import type { Text } from '../model/items';
import { SERVICES, CENTRAL_ONLY, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'Mailbox protocols', nl: 'Mailboxprotocollen' };

const NAME = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP AUTH' } as const;

/** The 535 5.7.139 refusals of SMTP AUTH as such (not of the token), o365-facts.md §1.4. */
const SMTP_REFUSALS: ReadonlySet<Code> = new Set<Code>([
  'SMTP_AUTH_DISABLED',
  'SMTP_AUTH_DISABLED_TENANT',
  'SMTP_SECURITY_DEFAULTS',
]);

/** The first row of a cmdlet that was read and understood. */
function casRow(o: ExoObservation | undefined): CasMailboxRow | undefined {
  return o?.ok && o.cmdlet === 'Get-CASMailbox' ? o.data?.[0] : undefined;
}

function transportRow(o: ExoObservation | undefined): TransportConfigRow | undefined {
  return o?.ok && o.cmdlet === 'Get-TransportConfig' ? o.data?.[0] : undefined;
}

/** A reply ecebot could not read: reported as an error, never judged (shape in the evidence). */
function unreadPart(o: ExoObservation, what: string): Part {
  return part(
    'error',
    o.code,
    `${what} not judged: Exchange's reply to ${o.cmdlet ?? o.target} was not understood`,
    [fromObservation(o)],
  );
}

/** Judge the retrieve protocol or SMTP from the end-to-end conversations alone. */
function endToEnd(
  m: MailboxFacts,
  proto: 'imap' | 'pop3' | 'smtp',
  mail: MailObservation[],
  blocked: { code: Code; reason: string },
): Part {
  const line = `${m.address}: ${NAME[proto]}`;
  const refused = mail.find(o => SMTP_REFUSALS.has(o.code));
  if (proto === 'smtp' && refused) {
    // The 5.7.139 text says which switch refused (o365-facts.md §1.4): the mailbox's, the
    // tenant's (the mailbox follows it), or security defaults, which neither switch overrides.
    const code: Code =
      refused.code === 'SMTP_AUTH_DISABLED_TENANT'
        ? 'EXO_SMTP_AUTH_DISABLED_TENANT'
        : refused.code === 'SMTP_SECURITY_DEFAULTS'
          ? 'SMTP_SECURITY_DEFAULTS'
          : 'EXO_SMTP_AUTH_DISABLED';
    const why =
      code === 'EXO_SMTP_AUTH_DISABLED_TENANT'
        ? 'disabled for the tenant'
        : code === 'SMTP_SECURITY_DEFAULTS'
          ? 'blocked by security defaults'
          : 'disabled for the mailbox';
    return part(
      'fail',
      code,
      `${line} is refused by Exchange Online (535 5.7.139, ${why})`,
      [fromObservation(refused)],
      {
        fix: { mailbox: m.address },
      },
    );
  }
  const accepted = mail.find(authenticated);
  if (accepted) {
    return part('pass', 'OK', `${line} accepted the token`, [
      fromObservation(accepted, { ok: true }),
    ]);
  }
  return part(
    'skip',
    blocked.code,
    `${line} not verified: ${blocked.reason}`,
    mail.map(o => fromObservation(o)),
    {
      fix: { mailbox: m.address },
    },
  );
}

/** Judge one mailbox's SMTP AUTH from Exchange settings, then the conversation. */
function smtpPart(
  m: MailboxFacts,
  account: string,
  cas: ExoObservation,
  setting: boolean | null | undefined,
  org: { value: boolean | undefined; evidence?: ReturnType<typeof fromObservation> },
  smtp: MailObservation[],
  blocked: { code: Code; reason: string },
): Part {
  const own = sameAddress(account, m.address);
  const line = own ? `${m.address}: SMTP AUTH` : `${m.address}: SMTP AUTH of ${account}`;
  const fix = { mailbox: account };
  const casEvidence = (ok: boolean, code: Code) =>
    fromObservation(cas, {
      text: `Get-CASMailbox ${account}: SmtpClientAuthenticationDisabled = ${String(setting ?? '$null')}`,
      ok,
      code,
    });
  const enabledBySetting =
    setting === false || ((setting === null || setting === undefined) && org.value === false);
  if (setting === true) {
    return part(
      'fail',
      'EXO_SMTP_AUTH_DISABLED',
      `${line} is disabled on ${own ? 'the mailbox' : 'the account that signs in'}`,
      [casEvidence(false, 'EXO_SMTP_AUTH_DISABLED')],
      { fix },
    );
  }
  if ((setting === null || setting === undefined) && org.value === true) {
    const evidence = [casEvidence(false, 'EXO_SMTP_AUTH_DISABLED_TENANT')];
    if (org.evidence) evidence.push(org.evidence);
    return part(
      'fail',
      'EXO_SMTP_AUTH_DISABLED_TENANT',
      `${line} is disabled for the tenant and ${own ? 'the mailbox' : 'the account'} follows it`,
      evidence,
      { fix },
    );
  }
  if (enabledBySetting) {
    // The settings allow it; a 535 5.7.139 anyway means security defaults or an
    // authentication policy (o365-facts.md §1.7), which Set-CASMailbox cannot fix.
    const refused = smtp.find(o => SMTP_REFUSALS.has(o.code));
    const evidence = [casEvidence(true, 'OK')];
    if (org.evidence) evidence.push(org.evidence);
    if (refused?.code === 'SMTP_SECURITY_DEFAULTS') {
      return part(
        'fail',
        'SMTP_SECURITY_DEFAULTS',
        `${line} is enabled in the settings but security defaults block it`,
        [...evidence, fromObservation(refused)],
        { fix },
      );
    }
    if (refused) {
      return part(
        'fail',
        'SMTP_AUTH_DISABLED',
        `${line} is enabled in the settings but Exchange Online refused it (security defaults or an authentication policy?)`,
        [...evidence, fromObservation(refused)],
        { fix },
      );
    }
    return part('pass', 'OK', `${line} enabled`, evidence);
  }
  // Mailbox follows the tenant and the tenant setting is unknown: the conversation decides.
  return endToEnd(m, 'smtp', smtp, blocked);
}

function retrievePart(
  m: MailboxFacts,
  cas: ExoObservation,
  data: CasMailboxRow,
  mail: MailObservation[],
  blocked: { code: Code; reason: string },
): Part {
  const imap = m.retrieve === 'imap';
  const enabled = imap ? data.ImapEnabled : data.PopEnabled;
  const field = imap ? 'ImapEnabled' : 'PopEnabled';
  if (enabled === undefined) return endToEnd(m, m.retrieve, mail, blocked);
  const code: Code = enabled ? 'OK' : imap ? 'EXO_IMAP_DISABLED' : 'EXO_POP_DISABLED';
  const evidence = [
    fromObservation(cas, {
      text: `Get-CASMailbox ${m.address}: ${field} = ${String(enabled)}`,
      ok: enabled,
      code,
    }),
  ];
  return enabled
    ? part('pass', 'OK', `${m.address}: ${NAME[m.retrieve]} enabled`, evidence)
    : part(
        'fail',
        code,
        `${m.address}: ${NAME[m.retrieve]} is disabled, and ECE reads it over ${NAME[m.retrieve]}`,
        evidence,
        { fix: { mailbox: m.address } },
      );
}

function judgeMailbox(env: EnvironmentFacts, observations: Observation[], m: MailboxFacts): Part[] {
  const cas = exoRead(observations, 'Get-CASMailbox', m.address);
  const transport = exoRead(observations, 'Get-TransportConfig');
  const orgRow = transportRow(transport);
  const orgValue = orgRow?.SmtpClientAuthenticationDisabled ?? undefined;
  const org = {
    value: orgValue === null ? undefined : orgValue,
    ...(transport?.ok
      ? {
          evidence: fromObservation(transport, {
            text: `Get-TransportConfig: SmtpClientAuthenticationDisabled = ${String(orgValue ?? '$null')}`,
            ok: orgValue !== true,
          }),
        }
      : {}),
  };
  const smtp = mailObservations(observations, m.address, 'smtp');
  const retrieve = mailObservations(observations, m.address, m.retrieve);
  const blocker = tenantReadBlocker(env, observations, 'exchange');
  const blocked =
    cas && !cas.ok
      ? {
          code: cas.code,
          reason:
            cas.code === 'EXO_UNEXPECTED_REPLY'
              ? 'Get-CASMailbox reply not understood'
              : `Get-CASMailbox failed (${cas.code})`,
        }
      : { code: blocker.code, reason: `Exchange settings not read: ${blocker.reason}` };

  // SMTP AUTH is judged on the account that signs in, IMAP/POP3 on the mailbox opened.
  const account = tokenAccount(m);
  const accountCas = sameAddress(account, m.address)
    ? cas
    : exoRead(observations, 'Get-CASMailbox', account);
  const accountBlocked =
    accountCas && !accountCas.ok
      ? {
          code: accountCas.code,
          reason:
            accountCas.code === 'EXO_UNEXPECTED_REPLY'
              ? `Get-CASMailbox ${account} reply not understood`
              : `Get-CASMailbox ${account} failed (${accountCas.code})`,
        }
      : blocked;

  if (
    cas?.code === 'CHECK_CRASHED' &&
    accountCas?.code === 'CHECK_CRASHED' &&
    !smtp.length &&
    !retrieve.length
  ) {
    return [
      part('error', 'CHECK_CRASHED', `${m.address}: the Exchange read crashed`, [
        fromObservation(cas),
      ]),
    ];
  }
  const parts: Part[] = [];
  const accountData = casRow(accountCas);
  if (accountCas?.code === 'EXO_UNEXPECTED_REPLY') {
    parts.push(unreadPart(accountCas, `${account}: protocol settings`));
  }
  parts.push(
    accountCas && accountData
      ? smtpPart(
          m,
          account,
          accountCas,
          accountData.SmtpClientAuthenticationDisabled,
          org,
          smtp,
          accountBlocked,
        )
      : endToEnd(m, 'smtp', smtp, accountBlocked),
  );
  const data = casRow(cas);
  if (cas?.code === 'EXO_UNEXPECTED_REPLY' && cas !== accountCas) {
    parts.push(unreadPart(cas, `${m.address}: protocol settings`));
  }
  parts.push(
    cas && data
      ? retrievePart(m, cas, data, retrieve, blocked)
      : endToEnd(m, m.retrieve, retrieve, blocked),
  );
  return parts;
}

export const mailboxProtocols: Rule = ({ env, observations }) => {
  const transport = exoRead(observations, 'Get-TransportConfig');
  const parts = [
    ...(transport?.code === 'EXO_UNEXPECTED_REPLY' && env.mailboxes.length
      ? [unreadPart(transport, 'tenant SMTP AUTH setting')]
      : []),
    ...env.mailboxes.flatMap(m => judgeMailbox(env, observations, m)),
  ];
  const used = env.mailboxes
    .map(m =>
      sameAddress(tokenAccount(m), m.address)
        ? `${m.address} (SMTP AUTH + ${NAME[m.retrieve]})`
        : `${m.address} (${NAME[m.retrieve]}; SMTP AUTH of ${tokenAccount(m)})`,
    )
    .join(', ');
  return judge('mailbox-protocols', TITLE.en, env, parts, {
    passSummary: `Protocols enabled for ${used}`,
    emptySummary: 'No mailboxes in the inventory.',
  });
};

/** Checklist item: Mailbox protocols. */
export const item: ItemDeclaration = {
  id: 'mailbox-protocols',
  title: TITLE,
  reads: [
    { read: 'exchange-token', on: CENTRAL_ONLY },
    { read: 'exo-transport-config', on: CENTRAL_ONLY },
    { read: 'exo-cas-mailbox', on: CENTRAL_ONLY },
    // Without an Exchange admin read the logins are the evidence; with one, they confirm it.
    { read: 'mailbox-login', on: SERVICES },
  ],
  rule: mailboxProtocols,
};
