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
import { type Finding, type ItemId, type Remediation, type Run, type Status } from '../model';
import { itemIds } from '../checklist/items';
import { itemTitle, messages, stateWord, type ItemState, type Lang, type Messages } from '../i18n';
import type {
  AdaptiveCard,
  CardTemplates,
  RunCardData,
  RunCardGroup,
  RunCardRemediation,
  RunCardSection,
  TemplateName,
} from './card-data';
import {
  clipWords,
  findingSummary,
  remediationFix,
  remediationText,
  sentencesWithin,
} from './finding-text';

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
  /**
   * Formats ISO timestamps for the footer; by default Adaptive Cards' DATE and TIME functions,
   * which Teams renders in the reader's own locale and time zone (cardTime).
   */
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

/**
 * A time as Adaptive Cards' `{{DATE()}} {{TIME()}}` functions: the client shows it in the
 * reader's locale and time zone ("Text features": RFC 3339 without fractions; COMPACT is the locale's short numeric date).
 * An unreadable time is shown as it is.
 */
export function cardTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const t = `${d.toISOString().slice(0, 19)}Z`;
  return `{{DATE(${t}, COMPACT)}} {{TIME(${t})}}`;
}

const MARK: Record<ItemState, string> = {
  pass: '✔',
  warn: '⚠',
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
/** The background of a problem: failures and errors red, warnings amber (host config styles). */
const STYLE: Record<ItemState, RunCardSection['style']> = {
  pass: 'default',
  warn: 'warning',
  fail: 'attention',
  skip: 'default',
  error: 'attention',
  pending: 'default',
  running: 'default',
};
/** Worst first: what blocks mail, then what cannot be told, then warnings, then the unchecked. */
const RANK: Record<Status, number> = { fail: 0, error: 1, warn: 2, skip: 3, pass: 4 };

/** How much of each finding a card shows; levels go from everything to the bare minimum. */
interface Detail {
  /** Evidence lines of a problem, and transcript lines under each (Details only). */
  evidence: number;
  transcript: number;
  line: number;
  /** Remediations beyond the first, in Details. */
  remediations: number;
  /** The first remediation's sentences on the card. */
  text: number;
  /** The fix on the card (cut only at a word, and only at the last levels). */
  fix: number;
  links: number;
  /** The summary beside the item's title (whole, up to `summary`, in Details). */
  headline: number;
  summary: number;
}

const LEVELS: readonly Detail[] = [
  {
    evidence: 6,
    transcript: 8,
    line: 240,
    remediations: 3,
    text: 240,
    fix: 1000,
    links: 3,
    headline: 80,
    summary: 300,
  },
  {
    evidence: 5,
    transcript: 4,
    line: 200,
    remediations: 2,
    text: 240,
    fix: 600,
    links: 2,
    headline: 80,
    summary: 240,
  },
  {
    evidence: 4,
    transcript: 2,
    line: 160,
    remediations: 2,
    text: 200,
    fix: 400,
    links: 2,
    headline: 80,
    summary: 200,
  },
  {
    evidence: 2,
    transcript: 0,
    line: 140,
    remediations: 1,
    text: 200,
    fix: 300,
    links: 1,
    headline: 80,
    summary: 160,
  },
  {
    evidence: 0,
    transcript: 0,
    line: 120,
    remediations: 0,
    text: 160,
    fix: 240,
    links: 1,
    headline: 80,
    summary: 140,
  },
  {
    evidence: 0,
    transcript: 0,
    line: 100,
    remediations: 0,
    text: 120,
    fix: 160,
    links: 0,
    headline: 80,
    summary: 120,
  },
];

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** The reader's words: the message table, and the language for item titles and states. */
interface Words {
  m: Messages;
  lang: Lang;
}

function evidenceLines(f: Finding, d: Detail, { m }: Words): string[] {
  const lines: string[] = [];
  // Failing evidence first: it is what the reader opens Details for.
  const ordered = [...f.evidence].sort((a, b) => Number(a.ok) - Number(b.ok));
  for (const e of ordered.slice(0, d.evidence)) {
    lines.push(clipWords(`[${e.ok ? 'ok' : e.code}] ${e.vantage} ${e.target}: ${e.text}`, d.line));
    if (e.server && !e.ok) lines.push(clipWords(`  server: ${e.server}`, d.line));
    // Transcripts only where something went wrong: a good exchange is not what Details is for.
    if (!e.ok)
      for (const t of (e.transcript ?? []).slice(0, d.transcript))
        lines.push(clipWords(`  ${t}`, d.line));
  }
  if (f.evidence.length > d.evidence && d.evidence > 0)
    lines.push(m.moreEvidence(f.evidence.length - d.evidence));
  return lines;
}

const linksText = (r: Remediation, n: number) =>
  r.links
    .slice(0, n)
    .map(k => `[${k.title}](${k.url})`)
    .join(' · ');

/** What makes two remediations the same advice: the same exact fix, else the same words. */
const remedyKey = (r: Remediation) => (r.fix ? `fix:${r.fix}` : `text:${r.text}`);

/** A problem while it is being built: the lead finding and the findings folded into it. */
interface Problem {
  lead: Finding;
  also: Finding[];
  remedies: Remediation[];
}

/**
 * The findings that did not pass, as problems: a finding whose root cause is another failing
 * item joins that item's problem; one whose every remediation is already shown joins the
 * problem that shows it (the wrong-user token fails three items with one fix). Each
 * remediation appears once on the card.
 */
function problemsOf(findings: readonly Finding[]): Problem[] {
  const open = findings.filter(f => f.status !== 'pass');
  const ordered = [...open].sort((a, b) => RANK[a.status] - RANK[b.status]);
  const problems: Problem[] = [];
  const byItem = new Map<ItemId, Problem>();
  const shownIn = new Map<string, Problem>();
  const add = (p: Problem, f: Finding) => {
    for (const r of f.remediation) {
      const k = remedyKey(r);
      if (shownIn.has(k)) continue;
      shownIn.set(k, p);
      p.remedies.push(r);
    }
  };
  // Roots before the findings they cause, so a consequence always finds its root's problem.
  const roots = ordered.filter(f => !f.rootCause || !open.some(o => o.item === f.rootCause));
  const caused = ordered.filter(f => !roots.includes(f));
  for (const f of [...roots, ...caused]) {
    const keys = f.remediation.map(remedyKey);
    const host =
      (f.rootCause ? byItem.get(f.rootCause) : undefined) ??
      (keys.length && keys.every(k => shownIn.has(k)) ? shownIn.get(keys[0]!) : undefined);
    if (host) {
      host.also.push(f);
      add(host, f);
      byItem.set(f.item, host);
      continue;
    }
    const p: Problem = { lead: f, also: [], remedies: [] };
    add(p, f);
    problems.push(p);
    byItem.set(f.item, p);
  }
  return problems;
}

/**
 * How much shorter a headline is cut per language: the same words take about a fifth more
 * characters in Dutch than in English (and the Dutch summaries are built from the codes'
 * meanings, which are whole sentences), so a Dutch headline is cut sooner to wrap as often.
 */
const HEADLINE_SHARE: Record<Lang, number> = { en: 1, nl: 0.75 };

function problemGroup(p: Problem, d: Detail, w: Words): RunCardGroup {
  const { m, lang } = w;
  const headline = Math.round(d.headline * HEADLINE_SHARE[lang]);
  const f = p.lead;
  const [first, ...rest] = p.remedies;
  // With an exact fix, the fix is what the card shows; the sentences explaining it wait in
  // Details. Without one, the sentences are the fix, in whole sentences.
  const said =
    first && !first.fix ? sentencesWithin(remediationText(first, lang), d.text) : undefined;
  const where = [
    ...(findingSummary(f, lang).length > headline
      ? [clipWords(findingSummary(f, lang), d.summary * 2)]
      : []),
    [f.failedOn.length ? m.failedOn(f.failedOn.join(', ')) : '', m.took(ms(f.durationMs))]
      .filter(Boolean)
      .join(' · '),
    ...p.also.map(a =>
      clipWords(
        `**${itemTitle(a.item, lang)}** — ${findingSummary(a, lang)}${
          a.failedOn.length ? ` (${m.failedOn(a.failedOn.join(', '))})` : ''
        }`,
        d.summary,
      ),
    ),
  ];
  // The whole first remediation goes to Details when the card shows only its first sentences.
  const more: RunCardRemediation[] = [
    ...(first && (first.fix || said?.cut)
      ? [{ text: clipWords(remediationText(first, lang), d.text * 2), fix: '', links: '' }]
      : ([] as RunCardRemediation[])),
    ...rest.slice(0, d.remediations).map(r => ({
      text: clipWords(remediationText(r, lang), d.text * 2),
      fix: r.fix ? clipWords(remediationFix(r, lang) ?? r.fix, d.fix) : '',
      links: linksText(r, d.links),
    })),
  ];
  const evidence = [f, ...p.also].flatMap(x => (x.status === 'pass' ? [] : evidenceLines(x, d, w)));
  const links = first ? linksText(first, d.links) : '';
  const hasDetails = where.length > 0;
  return {
    mark: MARK[f.status],
    color: COLOR[f.status],
    title: itemTitle(f.item, lang),
    summary: clipWords(findingSummary(f, lang), headline),
    also: p.also.length ? m.also(p.also.map(a => itemTitle(a.item, lang)).join(', ')) : '',
    text: said?.text ?? '',
    fix: first?.fix ? clipWords(remediationFix(first, lang) ?? first.fix, d.fix) : '',
    hasDetails,
    detailsId: `details-${f.item}`,
    where,
    links,
    more,
    evidence,
  };
}

/** A row of the running card: a finished item with its summary, or one still to come. */
function progressGroup(
  item: ItemId,
  f: Finding | undefined,
  started: boolean,
  w: Words,
): RunCardGroup {
  const state: ItemState = f?.status ?? (started ? 'running' : 'pending');
  return {
    mark: MARK[state],
    color: COLOR[state],
    title: itemTitle(item, w.lang),
    summary: f ? clipWords(findingSummary(f, w.lang), 160) : stateWord(state, w.lang),
    also: '',
    text: '',
    fix: '',
    hasDetails: false,
    detailsId: `details-${item}`,
    where: [],
    links: '',
    more: [],
    evidence: [],
  };
}

function countsOf(findings: readonly Finding[]): Record<Status, number> {
  const c: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 };
  for (const f of findings) c[f.status]++;
  return c;
}

/** What both states share: header, rows and buttons. */
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

const VERDICT: Record<Run['status'], 'verdictPass' | 'verdictWarn' | 'verdictFail'> = {
  pass: 'verdictPass',
  warn: 'verdictWarn',
  fail: 'verdictFail',
};

function verdictOf(c: CardModel, m: Messages): string {
  if (!c.done)
    return `${c.environment} — ${c.started ? m.running(c.findings.length, c.items.length) : m.queued}`;
  const status = c.status ?? 'pass';
  const counts = countsOf(c.findings);
  // The passed items have their own line; the header counts the problems.
  const problems = m.counts({ ...counts, pass: 0 });
  return `${MARK[status]} ${c.environment} — ${m[VERDICT[status]]}${problems ? `: ${problems}` : ''}`;
}

/**
 * From this level on, what the card shows (not only its Details, whose evidence lists say
 * "… n more") is shorter than the run's own words, and the footer says so.
 */
const SHORTENED_LEVEL = 3;
/** Characters of the passed line: one line of small text beside its toggle at 450 px. */
const PASSED_LINE = 56;

function modelData(c: CardModel, o: RunCardOptions, d: Detail, level: number): RunCardData {
  const shortened = level >= SHORTENED_LEVEL;
  const lang = o.lang ?? 'en';
  const w: Words = { m: messages(lang), lang };
  const { m } = w;
  const time = o.time ?? cardTime;
  const byItem = new Map(c.findings.map(f => [f.item, f]));
  const status = c.status;
  const full = c.items.length === itemIds().length;
  const passing = c.done ? c.findings.filter(f => f.status === 'pass') : [];
  const sections: RunCardSection[] = [];
  if (c.done) {
    for (const p of problemsOf(c.findings)) {
      const style = STYLE[p.lead.status];
      const group = problemGroup(p, d, w);
      const last = sections[sections.length - 1];
      if (last?.style === style) last.groups.push(group);
      else sections.push({ style, groups: [group] });
    }
  } else {
    sections.push({
      style: 'default',
      groups: c.items.map(i => progressGroup(i, byItem.get(i), c.started, w)),
    });
  }
  const when = c.done ? (c.finishedAt ?? c.startedAt) : c.startedAt;
  return {
    verdictText: verdictOf(c, m),
    verdictColor: c.done ? COLOR[status ?? 'pass'] : 'Accent',
    // Which items, when the run covers only some (a full run needs no words).
    subtitle: full ? '' : c.items.map(i => itemTitle(i, lang)).join(', '),
    sharedText: o.sharedBy ? m.sharedBy(o.sharedBy.name, o.sharedBy.at) : '',
    sections,
    // One line at Teams' narrow width: the titles that fit, the rest behind the toggle.
    passedText: passing.length
      ? clipWords(
          m.passedLine(passing.length, passing.map(f => itemTitle(f.item, lang)).join(', ')),
          PASSED_LINE,
        )
      : '',
    passed: passing.map(f => ({
      title: itemTitle(f.item, lang),
      summary: clipWords(findingSummary(f, lang), d.summary),
    })),
    // The release is in the version item's own summary (a failure shows it; Show lists it).
    footer: [
      m.footer(c.runId, when ? time(when) : '', o.requestedBy ?? ''),
      shortened ? m.trimmed : '',
    ]
      .filter(Boolean)
      .join(' · '),
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
    note: o.notice ?? '',
    labels: {
      details: m.details,
      show: m.show,
      rerun: m.rerun,
      rerunFailed: m.rerunFailed,
      share: m.share,
      bundle: m.bundle,
    },
  };
}

/** Render at the most detailed level that fits the budget. */
function fit(m: CardModel, opts: RunCardOptions): { card: AdaptiveCard; data: RunCardData } {
  const o = cardPeople(opts);
  const budget = o.budgetBytes ?? CARD_BUDGET_BYTES;
  let last: { card: AdaptiveCard; data: RunCardData } | undefined;
  for (let i = 0; i < LEVELS.length; i++) {
    const data = modelData(m, o, LEVELS[i]!, i);
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
