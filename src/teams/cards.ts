/**
 * The bot's cards other than the run card's body: help (generated from the registry),
 * environments and status, history, errors, notices, sign-in and the share picker. Each is a
 * template in cards/ filled with data built here in the reader's language. Pure: no I/O.
 */
import { ITEM_IDS, type ItemId, type Run, type Status } from '../checklist/types';
import {
  expandCard,
  renderProgressCard,
  renderRunCard,
  type ItemState,
  type RunCardLabels,
  type RunCardOptions,
  type RunProgressView,
} from '../render/card';
import type { RunSummary } from '../store/types';
import { COMMANDS, syntaxOf, type CommandName } from './commands';
import { formatTime, itemTitle, messages, stateWord, type Lang } from './i18n';
import type { ParseError } from './parser';

/** The run card's labels in the language. */
function runCardLabels(lang: Lang): RunCardLabels {
  const m = messages(lang);
  return {
    environment: m.environment,
    release: m.release,
    run: m.run,
    started: m.started,
    finished: m.finished,
    requestedBy: m.requestedBy,
    verdict: { pass: m.verdictPass, warn: m.verdictWarn, fail: m.verdictFail },
    queued: m.queued,
    running: m.running,
    state: (s: ItemState) => stateWord(s, lang),
    itemTitle: (item: ItemId) => itemTitle(item, lang),
    failedOn: m.failedOn,
    rootCause: m.rootCause,
    noEvidence: m.noEvidence,
    moreEvidence: m.moreEvidence,
    trimmed: m.trimmed,
    sharedBy: m.sharedBy,
    details: m.details,
    rerun: m.rerun,
    rerunFailed: m.rerunFailed,
    share: m.share,
  };
}

/** Options of a run card for a reader. */
export interface RunCardFor {
  lang: Lang;
  requestedBy?: string;
  sharedBy?: { name: string; at: Date };
  /** A line under the items (e.g. where the run was just shared to). */
  notice?: string;
}

/** The render options for a reader (labels, time format, who asked, who shared). */
export function runCardOptions(o: RunCardFor): RunCardOptions {
  return {
    labels: runCardLabels(o.lang),
    time: formatTime,
    ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}),
    ...(o.notice ? { notice: o.notice } : {}),
    ...(o.sharedBy ? { sharedBy: { name: o.sharedBy.name, at: formatTime(o.sharedBy.at) } } : {}),
  };
}

/** A finished run's card in the reader's language. */
export function finishedRunCard(run: Run, o: RunCardFor): Record<string, unknown> {
  return renderRunCard(run, runCardOptions(o));
}

/** A running run's card in the reader's language. */
export function runningRunCard(p: RunProgressView, o: RunCardFor): Record<string, unknown> {
  return renderProgressCard(p, runCardOptions(o));
}

/** help: every command, or one, straight from the registry. */
export function helpCard(lang: Lang, only?: CommandName): Record<string, unknown> {
  return expandCard('help', helpData(lang, only));
}

/** Data for cards/help.json. */
export function helpData(lang: Lang, only?: CommandName) {
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
export function environmentsCard(
  lang: Lang,
  rows: EnvironmentRow[],
  title?: string,
): Record<string, unknown> {
  return expandCard('environments', environmentsData(lang, rows, title));
}

/** Data for cards/environments.json. */
function environmentsData(lang: Lang, rows: EnvironmentRow[], title?: string) {
  const m = messages(lang);
  return {
    title: title ?? m.envsTitle,
    empty: rows.length ? '' : m.noEnvironments,
    environments: rows.map(r => ({
      mark: MARK[r.last?.status ?? 'none'],
      color: COLOR[r.last?.status ?? 'none'],
      name: r.name,
      description: r.description ? `— ${r.description}` : '',
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

/** history ENV: recent runs, newest first; selecting one shows its card. */
export function historyCard(lang: Lang, env: string, runs: RunSummary[]): Record<string, unknown> {
  return expandCard('history', historyData(lang, env, runs));
}

/** Data for cards/history.json. */
function historyData(lang: Lang, env: string, runs: RunSummary[]) {
  const m = messages(lang);
  return {
    title: m.historyTitle(env),
    empty: runs.length ? '' : m.noHistory(env),
    runs: runs.map(r => ({
      id: r.id,
      mark: MARK[r.status],
      color: COLOR[r.status],
      when: formatTime(r.finishedAt),
      text: r.problems.length
        ? m.problems(
            r.problems.map(p => `${p.item} (${stateWord(p.status as Status, lang)})`).join(', '),
          )
        : m.allPassed,
    })),
  };
}

/** An error card: what went wrong, and what to do instead. */
export function errorCard(
  lang: Lang,
  message: string,
  hints: string[] = [],
): Record<string, unknown> {
  return expandCard('error', { title: messages(lang).errorTitle, message, hints });
}

/** A short confirmation (`good`) or information (`default`). */
export function noticeCard(
  text: string,
  style: 'good' | 'default' | 'warning' = 'default',
  title = '',
): Record<string, unknown> {
  return expandCard('notice', { title, text, style });
}

/** The error card for input the parser refused, with usage and suggestions. */
export function parseErrorCard(lang: Lang, e: ParseError): Record<string, unknown> {
  const m = messages(lang);
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
        m.knownItems(ITEM_IDS.join(', ')),
      ]);
    case 'bad-duration':
      return errorCard(lang, m.badDuration(e.value), [usage(e.command)]);
    case 'unknown-mailbox':
      return errorCard(lang, m.unknownMailbox(e.value, e.environment), [
        ...(e.suggestion ? [m.didYouMean(e.suggestion)] : []),
        m.knownMailboxes(e.known.join(', ')),
      ]);
    case 'bad-run':
      return errorCard(lang, m.unknownRun(e.value), [usage(e.command)]);
  }
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
export function signinCard(lang: Lang, v: SigninView): Record<string, unknown> {
  return expandCard('signin', signinData(lang, v));
}

/** Data for cards/signin.json. */
function signinData(lang: Lang, v: SigninView) {
  const m = messages(lang);
  const s = v.state;
  const waiting = s.kind === 'waiting';
  let status: string;
  let style = 'default';
  let color = 'Default';
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
      { label: 'Mailbox', value: v.mailbox },
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

/** A place a run can be shared to. */
export interface ShareTarget {
  title: string;
  /** `c:<conversation key>` (a stored conversation) or `t:<channel id>` (a channel of this team). */
  value: string;
}

/** The picker the Share button (or `share RUN`) answers with. */
export function sharePickerCard(
  lang: Lang,
  run: Run,
  targets: ShareTarget[],
  back: 'run' | 'notice',
): Record<string, unknown> {
  return expandCard('share-picker', sharePickerData(lang, run, targets, back));
}

/** Data for cards/share-picker.json. */
function sharePickerData(lang: Lang, run: Run, targets: ShareTarget[], back: 'run' | 'notice') {
  const m = messages(lang);
  return {
    title: m.shareTitle,
    run: `ecebot check ${run.environment} · ${run.id} · ${stateWord(run.status, lang)} · ${formatTime(run.finishedAt)}`,
    empty: targets.length ? '' : m.shareNoTargets,
    choose: m.shareChoose,
    first: targets[0]?.value ?? '',
    targets,
    sendLabel: m.shareSend,
    cancelLabel: m.cancel,
    cancelVerb: back === 'run' ? 'showRun' : 'dismiss',
    runId: run.id,
    back,
  };
}
