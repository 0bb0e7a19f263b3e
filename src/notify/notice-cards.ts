/**
 * Cards for drift and staleness notices: pure functions of the changes and decisions. The outbox
 * does not know the reader's language, so each card says it in English and then in Dutch. Every
 * outside value (addresses, URIs, display names, licence names) is escaped for Teams markdown.
 */
import { formatTime } from '../i18n';
import type { Lang } from '../i18n';
import { escapeMarkdown, oneLine } from '../render/escape';
import type { DriftChange, DriftField, FactValue } from './drift';
import type { StaleDecision } from './staleness';
import { card, text, type Card } from './cards';
import type { Message } from './types';

/** Changes listed per card, entries listed per change: the rest is counted. */
const MAX_CHANGES = 20;
const MAX_ENTRIES = 10;

const esc = (s: string): string => escapeMarkdown(oneLine(s));

const SET_LABEL: Record<
  Exclude<DriftField, 'imap' | 'pop' | 'smtpAuth' | 'smtpAuthOrg'>,
  Record<Lang, (who: string) => string>
> = {
  licences: { en: w => `Licences of ${w}`, nl: w => `Licenties van ${w}` },
  redirectUris: {
    en: () => 'Redirect URIs of the ECE app',
    nl: () => "Omleidings-URI's van de ECE-app",
  },
  permissions: {
    en: () => 'API permissions of the ECE app',
    nl: () => 'API-machtigingen van de ECE-app',
  },
  consent: {
    en: () => 'Consent granted to the ECE app',
    nl: () => 'Toestemming (consent) voor de ECE-app',
  },
  credentials: {
    en: () => 'Client secrets and certificates of the ECE app',
    nl: () => 'Clientgeheimen en certificaten van de ECE-app',
  },
  fullAccess: { en: w => `Full Access on ${w}`, nl: w => `Full Access op ${w}` },
  sendAs: { en: w => `Send As on ${w}`, nl: w => `Send As op ${w}` },
};

const PROTOCOL: Record<'imap' | 'pop', string> = { imap: 'IMAP', pop: 'POP' };

/** SmtpClientAuthenticationDisabled: true disables, false enables, null follows the organisation. */
function smtpWord(v: FactValue, lang: Lang): string {
  if (v === true) return lang === 'en' ? 'off' : 'uit';
  if (v === false) return lang === 'en' ? 'on' : 'aan';
  return lang === 'en' ? 'the organisation setting' : 'de instelling van de organisatie';
}

/** An entry as shown: a permission id named by the scope this run read, when it could. */
function entry(
  field: DriftField,
  e: string,
  labels: Record<string, string>,
  show: (s: string) => string,
): string {
  if (field === 'permissions') {
    const [, id, type] = e.split(' ');
    const name = id ? labels[id] : undefined;
    if (name) return show(`${name} (${type ?? ''})`);
  }
  return show(e);
}

function entries(
  field: DriftField,
  list: string[],
  labels: Record<string, string>,
  lang: Lang,
  show: (s: string) => string,
): string {
  const shown = list.slice(0, MAX_ENTRIES).map(e => entry(field, e, labels, show));
  const more = list.length - shown.length;
  return more > 0
    ? `${shown.join(', ')} ${lang === 'en' ? `and ${more} more` : `en nog ${more}`}`
    : shown.join(', ');
}

/**
 * One change as a sentence, with its window: card markdown (outside text escaped, the subject in
 * bold), or `plain` for the notification preview, which Teams shows as text.
 */
export function changeLine(
  c: DriftChange,
  lang: Lang,
  labels: Record<string, string> = {},
  plain = false,
): string {
  const show = plain ? oneLine : esc;
  const who = c.subject ? (plain ? oneLine(c.subject) : `**${esc(c.subject)}**`) : '';
  const window =
    lang === 'en'
      ? ` between ${formatTime(c.since)} and ${formatTime(c.until)}`
      : ` tussen ${formatTime(c.since)} en ${formatTime(c.until)}`;
  switch (c.field) {
    case 'imap':
    case 'pop': {
      const p = PROTOCOL[c.field];
      if (lang === 'en') return `${p} was turned ${c.after ? 'on' : 'off'} for ${who}${window}`;
      return `${p} is ${c.after ? 'aangezet' : 'uitgezet'} voor ${who}${window}`;
    }
    case 'smtpAuth':
    case 'smtpAuthOrg': {
      const target =
        c.field === 'smtpAuth' ? who : lang === 'en' ? 'the organisation' : 'de organisatie';
      return lang === 'en'
        ? `SMTP AUTH for ${target} changed from ${smtpWord(c.before, 'en')} to ${smtpWord(c.after, 'en')}${window}`
        : `SMTP AUTH voor ${target} is gewijzigd van ${smtpWord(c.before, 'nl')} naar ${smtpWord(c.after, 'nl')}${window}`;
    }
    default: {
      const parts: string[] = [];
      if (c.added.length)
        parts.push(
          `${lang === 'en' ? 'added' : 'toegevoegd'} ${entries(c.field, c.added, labels, lang, show)}`,
        );
      if (c.removed.length)
        parts.push(
          `${lang === 'en' ? 'removed' : 'verwijderd'} ${entries(c.field, c.removed, labels, lang, show)}`,
        );
      return `${SET_LABEL[c.field][lang](who)}${window}: ${parts.join('; ')}`;
    }
  }
}

/**
 * Why a licence change matters to ECE: assigning a licence applies its CAS mailbox plan, which
 * carries its own ImapEnabled/PopEnabled (Get-CASMailboxPlan, cited in ./drift.ts).
 */
const LICENCE_NOTE: Record<Lang, string> = {
  en: 'A licence assignment applies the CAS mailbox plan of that licence to the mailbox, and the plan sets IMAP and POP: check that they are still on (Get-CASMailbox).',
  nl: 'Bij het toewijzen van een licentie wordt het CAS-postvakplan van die licentie op het postvak toegepast, en dat plan zet IMAP en POP: controleer of ze nog aan staan (Get-CASMailbox).',
};

const DRIFT_TITLE: Record<Lang, (env: string) => string> = {
  en: env => `${env}: Exchange and Entra settings changed`,
  nl: env => `${env}: Exchange- en Entra-instellingen gewijzigd`,
};

function block(
  lang: Lang,
  lines: string[],
  note: string | undefined,
  title: string,
  color: string,
): Card[] {
  return [
    text(title, {
      size: lang === 'en' ? 'Large' : 'Medium',
      weight: 'Bolder',
      color,
      ...(lang === 'nl' ? { separator: true, spacing: 'Large' } : {}),
    }),
    text(lines.map(l => `- ${l}`).join('\n')),
    ...(note ? [text(note, { isSubtle: true, spacing: 'Small' })] : []),
  ];
}

/** One card for every change one run found in an environment. */
export function driftMessage(
  environment: string,
  runId: string,
  changes: readonly DriftChange[],
  labels: Record<string, string> = {},
): Message {
  const shown = changes.slice(0, MAX_CHANGES);
  const more = changes.length - shown.length;
  const licences = changes.some(c => c.field === 'licences');
  const body = (['en', 'nl'] as const).flatMap(lang =>
    block(
      lang,
      [
        ...shown.map(c => changeLine(c, lang, labels)),
        ...(more > 0 ? [lang === 'en' ? `and ${more} more` : `en nog ${more}`] : []),
      ],
      licences ? LICENCE_NOTE[lang] : undefined,
      DRIFT_TITLE[lang](esc(environment)),
      'Warning',
    ),
  );
  body.push(text(`Run ${esc(runId)}`, { isSubtle: true, size: 'Small' }));
  return {
    text: `${oneLine(environment)}: ${shown.length === 1 ? changeLine(shown[0]!, 'en', labels, true) : `${changes.length} Exchange/Entra settings changed`}`,
    card: card(body),
  };
}

/** "3 h" or "95 min". */
function duration(ms: number, lang: Lang): string {
  if (!Number.isFinite(ms)) return lang === 'en' ? 'the whole log read' : 'het hele gelezen log';
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h} h` : `${Math.round(ms / 60_000)} min`;
}

function staleLine(d: StaleDecision, lang: Lang): string {
  const m = `**${esc(d.mailbox)}**`;
  const as = d.account.toLowerCase() === d.mailbox.toLowerCase() ? '' : ` ${esc(d.account)}`;
  if (d.kind === 'resumed')
    return lang === 'en'
      ? `ECE reads ${m} again: a successful sign-in${as ? ` as${as}` : ''} at ${formatTime(d.lastSuccessAt ?? '')}`
      : `ECE leest ${m} weer: een geslaagde aanmelding${as ? ` als${as}` : ''} om ${formatTime(d.lastSuccessAt ?? '')}`;
  const since = d.lastSuccessAt
    ? lang === 'en'
      ? `since ${formatTime(d.lastSuccessAt)}`
      : `sinds ${formatTime(d.lastSuccessAt)}`
    : lang === 'en'
      ? `in ${duration(d.lookedBackMs, 'en')} of the sign-in log`
      : `in ${duration(d.lookedBackMs, 'nl')} van het aanmeldingslogboek`;
  return lang === 'en'
    ? `ECE has stopped reading ${m}: no successful sign-in${as ? ` as${as}` : ''} ${since} (more than ${duration(d.thresholdMs, 'en')})`
    : `ECE leest ${m} niet meer: geen geslaagde aanmelding${as ? ` als${as}` : ''} ${since} (meer dan ${duration(d.thresholdMs, 'nl')})`;
}

const STALE_NOTE: Record<Lang, string> = {
  en: "ECE redeems its token every 60–90 minutes while it reads mail; Entra's log lags sign-ins by a few minutes. The next run's token item shows ECE's failed sign-ins, if any.",
  nl: 'ECE wisselt zijn token elke 60–90 minuten in zolang het mail leest; het logboek van Entra loopt een paar minuten achter. Het token-onderdeel van de volgende run toont de mislukte aanmeldingen van ECE, als die er zijn.',
};

/** One card for the mailboxes of one kind (stopped or resumed) from one run. */
export function staleMessage(
  environment: string,
  runId: string,
  kind: StaleDecision['kind'],
  decisions: readonly StaleDecision[],
): Message {
  const names = decisions.map(d => d.mailbox).join(', ');
  const title: Record<Lang, string> =
    kind === 'stale'
      ? {
          en: `${esc(environment)}: ECE has stopped reading ${esc(names)}`,
          nl: `${esc(environment)}: ECE leest ${esc(names)} niet meer`,
        }
      : {
          en: `${esc(environment)}: ECE reads ${esc(names)} again`,
          nl: `${esc(environment)}: ECE leest ${esc(names)} weer`,
        };
  const body = (['en', 'nl'] as const).flatMap(lang =>
    block(
      lang,
      decisions.map(d => staleLine(d, lang)),
      kind === 'stale' ? STALE_NOTE[lang] : undefined,
      title[lang],
      kind === 'stale' ? 'Attention' : 'Good',
    ),
  );
  body.push(text(`Run ${esc(runId)}`, { isSubtle: true, size: 'Small' }));
  return {
    text:
      kind === 'stale'
        ? `${oneLine(environment)}: ECE has stopped reading ${oneLine(names)}`
        : `${oneLine(environment)}: ECE reads ${oneLine(names)} again`,
    card: card(body),
  };
}
