/**
 * Adaptive Cards: templates in cards/NAME.json (Adaptive Card 1.5, the newest Teams renders for
 * bot cards: teams-bot-notes.md §3) expanded with adaptivecards-templating. Pure: no I/O beyond
 * reading each template once.
 *
 * The run card has two states, built by the same template: *progress* (items pending, running
 * or done as vantage points report) and *done* (verdict, remediation, details, buttons). Every
 * card is kept under Teams' size limits by rendering at decreasing levels of detail until it
 * fits CARD_BUDGET_BYTES: bot messages may be 100 KB, but webhook and Workflows cards stop at
 * ~28 KB (teams-bot-notes.md §2 "Size"), and a card must survive either path.
 */
import { cardPeople, cardProgress, cardRun } from './escape';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { type Finding, type ItemId, type Run, type Status } from '../model';
import { itemIds } from '../checklist/items';
import {
  findingSummary,
  itemTitle,
  messages,
  remediationFix,
  remediationText,
  stateWord,
  type ItemState,
  type Lang,
  type Messages,
} from '../i18n';
import type {
  AdaptiveCard,
  CardTemplates,
  RunCardData,
  RunCardItem,
  TemplateName,
} from './card-data';

/** What Teams accepts through every path (webhooks, Workflows): ~28 KB. */
export const CARD_BYTE_LIMIT = 28 * 1024;
/** What ecebot aims for, leaving room for the activity envelope around the card. */
export const CARD_BUDGET_BYTES = 26 * 1024;

/** Where a template is: cards/ sits two folders above src/render and dist/render. */
const CARDS_DIR = join(__dirname, '..', '..', 'cards');
/**
 * Templates by name, parsed once: `new Template()` parses every `${…}` expression of the
 * payload with adaptive-expressions' ANTLR grammar, which cost more than the rest of a bot turn
 * (bench: ~2 ms of the serve process's CPU per card). A Template is made to be expanded again
 * with other data (adaptivecards-templating: "can be bound to different data objects in a
 * loop"); `expand` is synchronous and resets its own state, so one instance serves every call.
 */
const templates = new Map<TemplateName, ACData.Template>();

function loadTemplate(name: TemplateName): ACData.Template {
  let t = templates.get(name);
  if (!t) {
    const payload = JSON.parse(readFileSync(join(CARDS_DIR, `${name}.json`), 'utf8')) as object;
    t = new ACData.Template(payload);
    templates.set(name, t);
  }
  return t;
}

/**
 * Expand the template cards/NAME.json with its data (a fresh object; the template is
 * untouched). Every template is an AdaptiveCard object at its root, so the expansion is one.
 */
export function expandCard<N extends TemplateName>(name: N, data: CardTemplates[N]): AdaptiveCard {
  return loadTemplate(name).expand({ $root: data }) as AdaptiveCard;
}

/** Bytes of a card as it travels (compact JSON, UTF-8). */
export function cardBytes(card: unknown): number {
  return Buffer.byteLength(JSON.stringify(card), 'utf8');
}

/** How a run card is dressed beyond the run itself. */
export interface RunCardOptions {
  /** The reader's language (English by default: the CLI's demo card). */
  lang?: Lang;
  /** Display name of who asked for the run. */
  requestedBy?: string;
  /** A snapshot posted by `share`: who shared it and when (already formatted). */
  sharedBy?: { name: string; at: string };
  /** A line shown under the items, e.g. "Shared to Ops › General." */
  notice?: string;
  /** Size budget in bytes (CARD_BUDGET_BYTES by default). */
  budgetBytes?: number;
  /** Formats ISO timestamps for the facts (the ISO string itself by default). */
  time?: (iso: string) => string;
}

/** A run still going: which items there are, which findings are final so far. */
export interface RunProgressView {
  runId: string;
  environment: string;
  ece?: { version?: string; es?: number };
  items: ItemId[];
  /** Final findings of the items that are ready. */
  findings: Finding[];
  /** False while the run waits in the queue; true once a vantage point works on it. */
  started: boolean;
  startedAt?: string;
}

const MARK: Record<ItemState, string> = {
  pass: '✔',
  warn: '!',
  fail: '✖',
  skip: '–',
  error: '?',
  pending: '·',
  running: '…',
};
const COLOR: Record<ItemState, string> = {
  pass: 'Good',
  warn: 'Warning',
  fail: 'Attention',
  skip: 'Default',
  error: 'Attention',
  pending: 'Default',
  running: 'Accent',
};

/** How much of each finding a card shows; levels go from everything to the bare minimum. */
interface Detail {
  /** Evidence lines of an item that did not pass, and transcript lines under each. */
  evidence: number;
  transcript: number;
  /** Evidence lines of a passing item (no transcripts: nothing to debug). */
  passEvidence: number;
  line: number;
  remediations: number;
  text: number;
  links: number;
  summary: number;
}

const LEVELS: readonly Detail[] = [
  {
    evidence: 6,
    transcript: 8,
    passEvidence: 3,
    line: 240,
    remediations: 3,
    text: 400,
    links: 3,
    summary: 300,
  },
  {
    evidence: 5,
    transcript: 4,
    passEvidence: 2,
    line: 200,
    remediations: 3,
    text: 300,
    links: 2,
    summary: 300,
  },
  {
    evidence: 4,
    transcript: 2,
    passEvidence: 0,
    line: 160,
    remediations: 2,
    text: 240,
    links: 2,
    summary: 240,
  },
  {
    evidence: 2,
    transcript: 0,
    passEvidence: 0,
    line: 140,
    remediations: 1,
    text: 200,
    links: 1,
    summary: 200,
  },
  {
    evidence: 0,
    transcript: 0,
    passEvidence: 0,
    line: 120,
    remediations: 1,
    text: 160,
    links: 1,
    summary: 160,
  },
  {
    evidence: 0,
    transcript: 0,
    passEvidence: 0,
    line: 100,
    remediations: 1,
    text: 120,
    links: 0,
    summary: 120,
  },
];

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s);

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** The reader's words: the message table, and the language for item titles and states. */
interface Words {
  m: Messages;
  lang: Lang;
}

function evidenceLines(f: Finding, d: Detail, { m }: Words): string[] {
  const passed = f.status === 'pass';
  const max = passed ? d.passEvidence : d.evidence;
  const lines: string[] = [];
  // Failing evidence first: it is what the reader opens Details for.
  const ordered = [...f.evidence].sort((a, b) => Number(a.ok) - Number(b.ok));
  for (const e of ordered.slice(0, max)) {
    lines.push(clip(`[${e.ok ? 'ok' : e.code}] ${e.vantage} ${e.target}: ${e.text}`, d.line));
    if (e.server && !e.ok) lines.push(clip(`  server: ${e.server}`, d.line));
    if (!passed)
      for (const t of (e.transcript ?? []).slice(0, d.transcript))
        lines.push(clip(`  ${t}`, d.line));
  }
  if (f.evidence.length > max) lines.push(m.moreEvidence(f.evidence.length - max));
  return lines.length ? lines : [m.noEvidence];
}

function findingRow(f: Finding, d: Detail, w: Words): RunCardItem {
  const { m } = w;
  const showDetails = (f.status === 'pass' ? d.passEvidence : d.evidence) > 0;
  return {
    mark: MARK[f.status],
    color: COLOR[f.status],
    title: itemTitle(f.item, w.lang),
    summary: clip(findingSummary(f, w.lang), d.summary),
    where: [
      f.failedOn.length ? m.failedOn(f.failedOn.join(', ')) : '',
      f.rootCause ? m.rootCause(f.rootCause) : '',
    ]
      .filter(Boolean)
      .join(' · '),
    timing: ms(f.durationMs),
    remediation:
      f.status === 'pass'
        ? []
        : f.remediation.slice(0, d.remediations).map(r => ({
            text: clip(remediationText(r, w.lang), d.text),
            fix: clip(remediationFix(r, w.lang) ?? '', d.text),
            links: r.links
              .slice(0, d.links)
              .map(k => `[${k.title}](${k.url})`)
              .join(' · '),
          })),
    showDetails,
    detailsId: `details-${f.item}`,
    evidence: showDetails ? evidenceLines(f, d, w) : [],
  };
}

function pendingRow(item: ItemId, state: 'pending' | 'running', { lang }: Words): RunCardItem {
  const title = itemTitle(item, lang);
  return {
    mark: MARK[state],
    color: COLOR[state],
    title,
    summary: stateWord(state, lang),
    where: '',
    timing: '',
    remediation: [],
    showDetails: false,
    detailsId: `details-${item}`,
    evidence: [],
  };
}

function countsText(findings: readonly Finding[], lang: Lang): string {
  const counts = new Map<Status, number>();
  for (const f of findings) counts.set(f.status, (counts.get(f.status) ?? 0) + 1);
  return (['pass', 'warn', 'fail', 'skip', 'error'] as Status[])
    .filter(s => counts.get(s))
    .map(s => `${counts.get(s)} ${stateWord(s, lang)}`)
    .join(' · ');
}

/** What both states share: header, facts, rows and buttons. */
interface CardModel {
  runId: string;
  environment: string;
  ece?: { version?: string; es?: number };
  items: ItemId[];
  findings: Finding[];
  done: boolean;
  status?: Run['status'];
  started: boolean;
  startedAt?: string;
  finishedAt?: string;
}

function release(ece: CardModel['ece']): string {
  return `${ece?.version ?? '?'} ES${ece?.es ?? '?'}`;
}

const VERDICT: Record<Run['status'], 'verdictPass' | 'verdictWarn' | 'verdictFail'> = {
  pass: 'verdictPass',
  warn: 'verdictWarn',
  fail: 'verdictFail',
};

function modelData(c: CardModel, o: RunCardOptions, d: Detail, trimmed: boolean): RunCardData {
  const lang = o.lang ?? 'en';
  const w: Words = { m: messages(lang), lang };
  const { m } = w;
  const time = o.time ?? ((iso: string) => iso);
  const byItem = new Map(c.findings.map(f => [f.item, f]));
  const rows = c.items.map(i => {
    const f = byItem.get(i);
    return f ? findingRow(f, d, w) : pendingRow(i, c.started ? 'running' : 'pending', w);
  });
  const status = c.status;
  const verdictText = c.done
    ? `${m[VERDICT[status ?? 'pass']]}: ${countsText(c.findings, lang)}`
    : c.started
      ? m.running(c.findings.length, c.items.length)
      : m.queued;
  const facts = [
    { label: m.environment, value: c.environment },
    { label: m.release, value: release(c.ece) },
    { label: m.run, value: c.runId },
    ...(c.startedAt ? [{ label: m.started, value: time(c.startedAt) }] : []),
    ...(c.done && c.finishedAt ? [{ label: m.finished, value: time(c.finishedAt) }] : []),
    ...(o.requestedBy ? [{ label: m.requestedBy, value: o.requestedBy }] : []),
  ];
  const full = c.items.length === itemIds().length;
  const detailsIds = rows.filter(r => r.showDetails).map(r => r.detailsId);
  return {
    title: `ecebot check ${c.environment}${full ? '' : ` ${c.items.join(',')}`}`,
    headerStyle: !c.done
      ? 'accent'
      : status === 'pass'
        ? 'good'
        : status === 'warn'
          ? 'warning'
          : 'attention',
    verdictText,
    verdictColor: c.done ? COLOR[status ?? 'pass'] : 'Accent',
    sharedText: o.sharedBy ? m.sharedBy(o.sharedBy.name, o.sharedBy.at) : '',
    facts,
    items: rows,
    hasDetails: c.done && detailsIds.length > 0,
    detailsIds,
    done: c.done,
    runId: c.runId,
    environment: c.environment,
    runItems: full ? '' : c.items.join(','),
    failedItems: c.done
      ? c.findings
          .filter(f => f.status === 'fail' || f.status === 'error')
          .map(f => f.item)
          .join(',')
      : '',
    note: [o.notice ?? '', trimmed ? m.trimmed : ''].filter(Boolean).join(' '),
    labels: { details: m.details, rerun: m.rerun, rerunFailed: m.rerunFailed, share: m.share },
  };
}

/** Render at the most detailed level that fits the budget. */
function fit(m: CardModel, opts: RunCardOptions): { card: AdaptiveCard; data: RunCardData } {
  const o = cardPeople(opts);
  const budget = o.budgetBytes ?? CARD_BUDGET_BYTES;
  let last: { card: AdaptiveCard; data: RunCardData } | undefined;
  for (let i = 0; i < LEVELS.length; i++) {
    const data = modelData(m, o, LEVELS[i]!, i > 0);
    last = { card: expandCard('run', data), data };
    if (cardBytes(last.card) <= budget) return last;
  }
  // The last level caps every text, so nine items always fit; return it even if a caller's
  // budget is smaller than that.
  return last!;
}

function runModel(outside: Run): CardModel {
  // Server and user text is data: escaped before the layout sees it (./escape.ts).
  const run = cardRun(outside);
  return {
    runId: run.id,
    environment: run.environment,
    ece: run.ece,
    items: run.findings.map(f => f.item),
    findings: run.findings,
    done: true,
    status: run.status,
    started: true,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

/** Data for cards/run.json of a finished run, at the level of detail that fits the budget. */
export function runCardData(run: Run, opts: RunCardOptions = {}): RunCardData {
  return fit(runModel(run), opts).data;
}

function progressModel(outside: RunProgressView): CardModel {
  const p = cardProgress(outside);
  return {
    runId: p.runId,
    environment: p.environment,
    ...(p.ece ? { ece: p.ece } : {}),
    items: p.items,
    findings: p.findings,
    done: false,
    started: p.started,
    ...(p.startedAt ? { startedAt: p.startedAt } : {}),
  };
}

/** Data for cards/run.json of a run in progress, at the level of detail that fits the budget. */
export function progressCardData(p: RunProgressView, opts: RunCardOptions = {}): RunCardData {
  return fit(progressModel(p), opts).data;
}

/** The expanded Adaptive Card for a finished run, within the size budget. */
export function renderRunCard(run: Run, opts: RunCardOptions = {}): AdaptiveCard {
  return fit(runModel(run), opts).card;
}

/** The expanded Adaptive Card for a run in progress (the same card, its running state). */
export function renderProgressCard(p: RunProgressView, opts: RunCardOptions = {}): AdaptiveCard {
  return fit(progressModel(p), opts).card;
}
