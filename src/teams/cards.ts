/**
 * The bot's cards other than the run card's body: help (generated from the registry),
 * environments and status, history, errors, notices, sign-in and the share picker. Each is a
 * template in cards/ filled with data built here in the reader's language. Pure: no I/O.
 */
import { type Run, type Status } from '../model';
import { itemIds } from '../checklist/items';
import { formatTime, itemTitle, messages, stateWord, type Lang } from '../i18n';
import {
  cardTime,
  expandCard,
  progressCardData,
  renderProgressCard,
  renderRunCard,
  runCardData,
  type RunCardOptions,
  type RunProgressView,
} from '../render/card';
import type {
  AdaptiveCard,
  EnvironmentsCardData,
  ErrorCardData,
  HelpCardData,
  HistoryCardData,
  OverviewCardData,
  HistoryChartData,
  RunCardData,
  SharePickerCardData,
  SigninCardData,
} from '../render/card-data';
import { escapeMarkdown, oneLine } from '../render/escape';
import type { RunSummary } from '../store/types';
import { INCIDENT_WINDOW_MS } from '../overview/incidents';
import type { Overview } from '../overview/overview';
import { historyChartData, itemRows } from '../history/card';
import type { HistoryReport } from '../history/report';
import { historyMessages } from '../i18n/history';
import { COMMANDS, syntaxOf, type CommandName } from './commands';
import type { ParseError } from './parser';
import { encodeShareTarget, type ShareTarget } from './share-target';

/** Options of a run card for a reader. */
export interface RunCardFor {
  lang: Lang;
  requestedBy?: string;
  sharedBy?: { name: string; at: Date };
  /** A line under the items (e.g. where the run was just shared to). */
  notice?: string;
}

/** The render options for a reader (language, time format, who asked, who shared). */
export function runCardOptions(o: RunCardFor): RunCardOptions {
  return {
    lang: o.lang,
    ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}),
    ...(o.notice ? { notice: o.notice } : {}),
    ...(o.sharedBy
      ? { sharedBy: { name: o.sharedBy.name, at: cardTime(o.sharedBy.at.toISOString()) } }
      : {}),
  };
}

/** A finished run's card in the reader's language. */
export function finishedRunCard(run: Run, o: RunCardFor): AdaptiveCard {
  return renderRunCard(run, runCardOptions(o));
}

/** The data of a finished run's card (what finishedRunCard expands). */
export function finishedRunCardData(run: Run, o: RunCardFor): RunCardData {
  return runCardData(run, runCardOptions(o));
}

/** The data of a running run's card (what runningRunCard expands). */
export function runningRunCardData(p: RunProgressView, o: RunCardFor): RunCardData {
  return progressCardData(p, runCardOptions(o));
}

/** A running run's card in the reader's language. */
export function runningRunCard(p: RunProgressView, o: RunCardFor): AdaptiveCard {
  return renderProgressCard(p, runCardOptions(o));
}

/** help: every command, or one, straight from the registry. */
export function helpCard(lang: Lang, only?: CommandName): AdaptiveCard {
  return expandCard('help', helpData(lang, only));
}

/** Data for cards/help.json. */
export function helpData(lang: Lang, only?: CommandName): HelpCardData {
  const m = messages(lang);
  const list = COMMANDS.filter(c => !only || c.name === only);
  return {
    title: m.helpTitle,
    intro: m.helpIntro,
    commands: list.map(c => ({
      syntax: syntaxOf(c),
      description: c.description[lang],
      note: c.role === 'admin' ? m.adminOnly : '',
    })),
    itemsTitle: m.helpItems,
    items: itemIds().map(id => ({ id, title: itemTitle(id, lang) })),
  };
}

const MARK: Record<Status | 'none', string> = {
  pass: '✔',
  warn: '!',
  fail: '✖',
  skip: '–',
  error: '?',
  none: '·',
};
const COLOR: Record<Status | 'none', string> = {
  pass: 'Good',
  warn: 'Warning',
  fail: 'Attention',
  skip: 'Default',
  error: 'Attention',
  none: 'Default',
};

/** One environment as `envs` and `status` show it. */
export interface EnvironmentRow {
  name: string;
  description?: string;
  release: string;
  servers: number;
  mailboxes: number;
  last?: RunSummary;
  subscribedHere: boolean;
  mutedUntil?: Date;
}

/** envs / status: one row per environment with its release and last result. */
export function environmentsCard(lang: Lang, rows: EnvironmentRow[], title?: string): AdaptiveCard {
  return expandCard('environments', environmentsData(lang, rows, title));
}

/** Data for cards/environments.json. */
export function environmentsData(
  lang: Lang,
  rows: EnvironmentRow[],
  title?: string,
): EnvironmentsCardData {
  const m = messages(lang);
  return {
    title: title ?? m.envsTitle,
    empty: rows.length ? '' : m.noEnvironments,
    environments: rows.map(r => ({
      mark: MARK[r.last?.status ?? 'none'],
      color: COLOR[r.last?.status ?? 'none'],
      name: escapeMarkdown(r.name),
      description: r.description ? `— ${escapeMarkdown(r.description)}` : '',
      facts: [
        `ECE ${r.release}`,
        m.servers(r.servers),
        m.mailboxes(r.mailboxes),
        ...(r.subscribedHere ? [m.subscribed] : []),
        ...(r.mutedUntil ? [m.mutedUntil(formatTime(r.mutedUntil))] : []),
      ].join(' · '),
      status: r.last
        ? `${m.lastRun(stateWord(r.last.status, lang), formatTime(r.last.finishedAt))}${
            r.last.problems.length
              ? ` — ${m.problems(r.last.problems.map(p => `${p.item} (${stateWord(p.status as Status, lang)})`).join(', '))}`
              : ''
          }`
        : m.neverRun,
    })),
  };
}

/** overview: every environment the reader may see, worst first, and likely incidents. */
export function overviewCard(lang: Lang, o: Overview): AdaptiveCard {
  return expandCard('overview', overviewData(lang, o));
}

/**
 * Data for cards/overview.json. An incident names its code and how many tenants fail with it,
 * never the other tenants (a customer must not learn another's name), and the reader's own
 * environments involved. No link to Microsoft 365 service health: none of its addresses is a
 * seen one (o365-facts.md §4, src/knowledge/links.ts), so the card names the page instead.
 */
export function overviewData(lang: Lang, o: Overview): OverviewCardData {
  const m = messages(lang);
  return {
    title: m.overviewTitle(o.rows.length),
    empty: o.rows.length ? '' : m.noOverview,
    incidents: o.incidents.map(i => ({
      heading: m.incidentHeading(i.code),
      text: m.incidentText({
        tenants: i.tenants,
        minutes: INCIDENT_WINDOW_MS / 60_000,
        from: formatTime(i.from),
        to: formatTime(i.to),
        envs: i.environments.map(e => `**${escapeMarkdown(e)}**`).join(', '),
      }),
    })),
    environments: o.rows.map(r => {
      const state = r.state === 'never' ? 'none' : r.state;
      return {
        mark: MARK[state],
        color: COLOR[state],
        name: escapeMarkdown(r.environment),
        description: r.description ? `— ${escapeMarkdown(oneLine(r.description))}` : '',
        status:
          r.state === 'never' || !r.finishedAt
            ? m.neverRun
            : m.overviewLast(
                stateWord(r.state, lang),
                r.worst ? `${itemTitle(r.worst.item, lang)} (${r.worst.code})` : '',
                m.ago(Math.floor((r.ageMs ?? 0) / 60_000)),
                formatTime(r.finishedAt),
              ),
      };
    }),
  };
}

/**
 * history ENV [ITEM]: the uptime and charts of the report (when there is one), then recent runs,
 * newest first (the item's marks for `history ENV ITEM`); selecting one shows its card.
 */
export function historyCard(
  lang: Lang,
  env: string,
  runs: RunSummary[],
  report?: HistoryReport,
): AdaptiveCard {
  return expandCard('history', historyData(lang, env, runs, report));
}

/** Data for cards/history.json. */
export function historyData(
  lang: Lang,
  name: string,
  runs: RunSummary[],
  report?: HistoryReport,
): HistoryCardData {
  const m = messages(lang);
  const env = escapeMarkdown(name);
  const rows = report?.item
    ? itemRows(
        lang,
        report,
        HISTORY_CARD_ROWS,
        s => ({ mark: MARK[s], color: COLOR[s] }),
        formatTime,
      )
    : runs.map(r => ({
        id: r.id,
        mark: MARK[r.status],
        color: COLOR[r.status],
        when: formatTime(r.finishedAt),
        text: r.problems.length
          ? m.problems(
              r.problems.map(p => `${p.item} (${stateWord(p.status as Status, lang)})`).join(', '),
            )
          : m.allPassed,
      }));
  return {
    title: report?.item
      ? historyMessages(lang).itemHistoryTitle(env, escapeMarkdown(itemTitle(report.item, lang)))
      : m.historyTitle(env),
    empty: rows.length || report?.marks.length ? '' : m.noHistory(env),
    runs: rows,
    showChart: !!report,
    chart: report ? historyChartData(lang, report, s => MARK[s]) : NO_CHART,
  };
}

/** How many runs the history card lists. */
export const HISTORY_CARD_ROWS = 10;

/** The chart data when there is no report (hidden by `showChart`). */
const NO_CHART: HistoryChartData = {
  uptime: '',
  title: '',
  xAxis: '',
  yAxis: '',
  legend: '',
  points: [],
  marksLabel: '',
  marks: '',
  days: [],
  showItems: false,
  itemsTitle: '',
  itemsX: '',
  items: [],
  itemFacts: [],
};

/** An error card: what went wrong, and what to do instead. */
export function errorCard(lang: Lang, message: string, hints: string[] = []): AdaptiveCard {
  return expandCard('error', errorData(lang, message, hints));
}

/** Data for cards/error.json. */
export function errorData(lang: Lang, message: string, hints: string[] = []): ErrorCardData {
  return { title: messages(lang).errorTitle, message, hints };
}

/** A short confirmation (`good`) or information (`default`). */
export function noticeCard(
  text: string,
  style: 'good' | 'default' | 'warning' = 'default',
  title = '',
): AdaptiveCard {
  return expandCard('notice', { title, text, style });
}

/** The error card for input the parser refused, with usage and suggestions. */
export function parseErrorCard(lang: Lang, raw: ParseError): AdaptiveCard {
  const m = messages(lang);
  // Every value in a parse error is what the person typed: data, not markup.
  const e = escapeParseError(raw);
  const usage = (name: CommandName) => {
    const spec = COMMANDS.find(c => c.name === name);
    return spec ? m.usage(syntaxOf(spec)) : '';
  };
  switch (e.kind) {
    case 'empty':
      return errorCard(lang, m.empty);
    case 'too-long':
      return errorCard(lang, m.tooLong(e.length, e.max), [m.empty]);
    case 'unknown-command':
      return errorCard(lang, m.unknownCommand(e.word), [
        ...(e.suggestion ? [m.didYouMean(e.suggestion)] : []),
        m.empty,
      ]);
    case 'missing-arg':
      return errorCard(lang, m.missingArg(e.arg), [usage(e.command)]);
    case 'extra-args':
      return errorCard(lang, m.extraArgs(e.extra), [usage(e.command)]);
    case 'unknown-environment':
      return errorCard(lang, m.unknownEnvironment(e.value), [
        ...(e.suggestion ? [m.didYouMean(e.suggestion)] : []),
        e.known.length ? m.knownEnvironments(e.known.join(', ')) : m.noEnvironments,
      ]);
    case 'unknown-item':
      return errorCard(lang, m.unknownItem(e.value), [
        ...(e.suggestion ? [m.didYouMean(e.suggestion)] : []),
        m.knownItems(itemIds().join(', ')),
      ]);
    case 'bad-duration':
      return errorCard(lang, m.badDuration(e.value), [usage(e.command)]);
    case 'bad-window':
      return errorCard(lang, m.badWindow(m.windowProblem(e.problem, e.value ?? '')), [
        usage(e.command),
      ]);
    case 'unknown-mailbox':
      return errorCard(lang, m.unknownMailbox(e.value, e.environment), [
        ...(e.suggestion ? [m.didYouMean(e.suggestion)] : []),
        m.knownMailboxes(e.known.join(', ')),
      ]);
    case 'bad-run':
      return errorCard(lang, m.unknownRun(e.value), [usage(e.command)]);
  }
}

function escapeParseError(e: ParseError): ParseError {
  const out: Record<string, unknown> = { ...e };
  for (const k of ['word', 'extra', 'value', 'environment', 'suggestion'] as const) {
    const v = (e as Record<string, unknown>)[k];
    if (typeof v === 'string') out[k] = escapeMarkdown(v);
  }
  if ('known' in e) out.known = e.known.map(escapeMarkdown);
  return out as ParseError;
}

/** Where a sign-in stands. */
export type SigninState =
  | { kind: 'waiting'; url: string; code: string; expiresInSeconds: number }
  | { kind: 'ok'; user: string; shared: boolean; fullAccess?: boolean }
  | { kind: 'wrong-user'; user?: string }
  | { kind: 'failed'; code: string; server: string };

/** What the sign-in card shows. */
export interface SigninView {
  environment: string;
  mailbox: string;
  /** The account that must sign in: the mailbox, or the shared account the inventory names. */
  account: string;
  shared: boolean;
  state: SigninState;
}

/** signin ENV MAILBOX: the code, the link and the advice; then the outcome (updated in place). */
export function signinCard(lang: Lang, v: SigninView): AdaptiveCard {
  return expandCard('signin', signinData(lang, v));
}

/** Data for cards/signin.json. */
export function signinData(lang: Lang, raw: SigninView): SigninCardData {
  const m = messages(lang);
  // The user's name and the server's words come from outside; the code and URL are shown as
  // the device-code flow gave them (the URL is a button, not markdown).
  const v: SigninView = {
    ...raw,
    environment: escapeMarkdown(raw.environment),
    mailbox: escapeMarkdown(raw.mailbox),
    account: escapeMarkdown(raw.account),
    state:
      raw.state.kind === 'ok'
        ? { ...raw.state, user: escapeMarkdown(raw.state.user) }
        : raw.state.kind === 'wrong-user' && raw.state.user
          ? { ...raw.state, user: escapeMarkdown(raw.state.user) }
          : raw.state.kind === 'failed'
            ? {
                ...raw.state,
                code: escapeMarkdown(raw.state.code),
                server: escapeMarkdown(raw.state.server),
              }
            : raw.state,
  };
  const s = v.state;
  const waiting = s.kind === 'waiting';
  let status: string;
  let style: SigninCardData['statusStyle'] = 'default';
  let color: SigninCardData['statusColor'] = 'Default';
  switch (s.kind) {
    case 'waiting':
      status = m.signinWaiting;
      break;
    case 'ok':
      status = s.fullAccess
        ? m.signinOkFullAccess(s.user, v.mailbox)
        : s.shared
          ? m.signinOkShared(s.user, v.mailbox)
          : m.signinOkMailbox(s.user);
      style = 'good';
      color = 'Good';
      break;
    case 'wrong-user':
      status = s.user ? m.signinWrongUser(s.user, v.account) : m.signinUnknownUser;
      style = 'attention';
      color = 'Attention';
      break;
    case 'failed':
      status = m.signinFailed(s.code, s.server);
      style = 'attention';
      color = 'Attention';
      break;
  }
  return {
    title: m.signinTitle(v.mailbox),
    facts: [
      { label: m.environment, value: v.environment },
      { label: m.mailbox, value: v.mailbox },
    ],
    waiting,
    steps: waiting
      ? [
          `1. ${m.signinPrivate}`,
          `2. ${m.signinOpen(s.url, s.code)}`,
          `3. ${v.shared ? m.signinAsShared(v.account, v.mailbox) : m.signinAs(v.account)}`,
          m.signinExpires(Math.round(s.expiresInSeconds / 60)),
        ]
      : [],
    code: waiting ? s.code : '',
    url: waiting ? s.url : '',
    openLabel: m.signinOpenButton,
    status,
    statusStyle: style,
    statusColor: color,
  };
}

/** The picker the Share button (or `share RUN`) answers with. */
export function sharePickerCard(
  lang: Lang,
  run: Run,
  targets: ShareTarget[],
  back: 'run' | 'notice',
): AdaptiveCard {
  return expandCard('share-picker', sharePickerData(lang, run, targets, back));
}

/** Data for cards/share-picker.json. */
export function sharePickerData(
  lang: Lang,
  run: Run,
  targets: ShareTarget[],
  back: 'run' | 'notice',
): SharePickerCardData {
  const m = messages(lang);
  // The one place a share target becomes a choice value (./share-target.ts).
  // Choice titles are plain text (Input.ChoiceSet has no markdown): controls removed only.
  const choices = targets.map(t => ({ title: oneLine(t.title), value: encodeShareTarget(t) }));
  return {
    title: m.shareTitle,
    run: `ecebot check ${escapeMarkdown(run.environment)} · ${escapeMarkdown(run.id)} · ${stateWord(run.status, lang)} · ${formatTime(run.finishedAt)}`,
    empty: targets.length ? '' : m.shareNoTargets,
    choose: m.shareChoose,
    first: choices[0]?.value ?? '',
    targets: choices,
    sendLabel: m.shareSend,
    cancelLabel: m.cancel,
    cancelVerb: back === 'run' ? 'showRun' : 'dismiss',
    runId: run.id,
    back,
  };
}
