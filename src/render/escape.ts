/**
 * Outside text as data, never markup: what servers (greetings, error lines, transcripts), Teams
 * users (names, conversation titles) and the inventory say reaches cards and the terminal only
 * through these functions.
 *
 * - Control characters are removed everywhere (cards, CLI, anything printed): C0 except tab and
 *   line feed, DEL, C1 (ECMA-48 §5: ESC starts terminal control sequences, BEL rings, CR moves
 *   the cursor back over what was printed), and the Unicode bidirectional overrides and isolates
 *   (Unicode TR #9 §2; "Trojan Source", CVE-2021-42574), which reorder what a reader sees.
 * - For cards, the characters of the Adaptive Card TextBlock markdown subset are escaped with a
 *   backslash (CommonMark 0.31 §2.4 "Backslash escapes": any ASCII punctuation): emphasis
 *   (`*`, `_`), links (`[`, `]`, `(`, `)`), lists and headings at a line start (`-`, `+`, `#`,
 *   `1.`), code (`` ` ``), and `<`/`>` so `<at>…</at>` is never taken for a mention. A URL
 *   scheme's `://` gets an invisible word joiner (U+2060) after the colon, so clients that
 *   turn bare URLs into links do not make a server's URL clickable.
 *
 * The layout (src/render/card.ts) stays markup-free: these run on the data before it.
 */
import type { Evidence, Finding, Run } from '../model';

/** C0 but tab and LF, DEL, C1, and the bidi embeddings/overrides/isolates. */
const CONTROLS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Remove control characters (see above); CR LF and lone CR become LF. */
export function stripControls(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(CONTROLS, '');
}

/** One line: control characters removed and line breaks become spaces (log fields, facts). */
export function oneLine(s: string): string {
  return stripControls(s).replace(/[\n\t]+/g, ' ');
}

/** ASCII punctuation that opens emphasis, code, links, images or HTML/mentions anywhere (`>` only
 * means something at a line start, below). */
const INLINE = /[\\`*_[\]<~]/g;
/** What opens a heading, quote, list or thematic break at the start of a line. */
const LINE_START = /^([ \t]*)(#|>|[-+]|\d+(?=[.)]))/gm;

/** Escape outside text for an Adaptive Card TextBlock (markdown on). */
export function escapeMarkdown(s: string): string {
  return stripControls(s)
    .replace(INLINE, c => `\\${c}`)
    .replace(LINE_START, (_all, lead: string, mark: string) =>
      /^\d/.test(mark) ? `${lead}${mark}\\` : `${lead}\\${mark}`,
    )
    .replace(/([A-Za-z][A-Za-z0-9+.-]*):\/\//g, '$1:\u2060//');
}

/**
 * Names and ids that also travel in button data (run id, environment): left alone when they
 * hold only characters with no markdown meaning mid-word, escaped otherwise.
 */
function safeName(s: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(s) ? s : escapeMarkdown(s);
}

/** A link a card may show: https only, no characters that could end the markdown target. */
export function safeLinkUrl(url: string): string | undefined {
  return /^https:\/\/[^\s()<>[\]\\]+$/.test(url) ? url : undefined;
}

function mapEvidence(e: Evidence, f: (s: string) => string): Evidence {
  return {
    ...e,
    vantage: f(e.vantage),
    target: f(e.target),
    text: f(e.text),
    ...(e.server !== undefined ? { server: f(e.server) } : {}),
    ...(e.transcript ? { transcript: e.transcript.map(f) } : {}),
  };
}

function mapFinding(x: Finding, f: (s: string) => string, card: boolean): Finding {
  return {
    ...x,
    title: f(x.title),
    summary: f(x.summary),
    ...(x.summaryNl !== undefined ? { summaryNl: f(x.summaryNl) } : {}),
    failedOn: x.failedOn.map(f),
    vantages: x.vantages.map(f),
    evidence: x.evidence.map(e => mapEvidence(e, f)),
    remediation: x.remediation.map(r => ({
      ...r,
      text: f(r.text),
      ...(r.textNl !== undefined ? { textNl: f(r.textNl) } : {}),
      ...(r.fix !== undefined ? { fix: f(r.fix) } : {}),
      ...(r.fixNl !== undefined ? { fixNl: f(r.fixNl) } : {}),
      links: card
        ? r.links.flatMap(l => {
            const url = safeLinkUrl(l.url);
            return url ? [{ ...l, title: f(l.title), url }] : [];
          })
        : r.links.map(l => ({ ...l, title: f(l.title), url: f(l.url) })),
    })),
  };
}

/** The findings of a run or progress view, made safe for a card. */
export function cardFindings(findings: readonly Finding[]): Finding[] {
  return findings.map(x => mapFinding(x, escapeMarkdown, true));
}

/** A run whose outside strings are escaped for a card (src/render/card.ts renders it). */
export function cardRun(run: Run): Run {
  return {
    ...run,
    id: safeName(run.id),
    environment: safeName(run.environment),
    ece: {
      ...run.ece,
      ...(run.ece.version !== undefined ? { version: escapeMarkdown(run.ece.version) } : {}),
    },
    findings: cardFindings(run.findings),
  };
}

/** The same for a view of a run in progress. */
export function cardProgress<
  T extends { runId: string; environment: string; findings: Finding[]; ece?: { version?: string } },
>(p: T): T {
  return {
    ...p,
    runId: safeName(p.runId),
    environment: safeName(p.environment),
    ...(p.ece
      ? {
          ece: {
            ...p.ece,
            ...(p.ece.version !== undefined ? { version: escapeMarkdown(p.ece.version) } : {}),
          },
        }
      : {}),
    findings: cardFindings(p.findings),
  };
}

/** A run whose outside strings have no control characters, for the terminal. */
export function plainRun(run: Run): Run {
  return {
    ...run,
    id: oneLine(run.id),
    environment: oneLine(run.environment),
    ece: {
      ...run.ece,
      ...(run.ece.version !== undefined ? { version: oneLine(run.ece.version) } : {}),
    },
    findings: run.findings.map(x => mapFinding(x, oneLine, false)),
  };
}

/** Who asked and who shared: Teams display names, the user's own text. */
export function cardPeople<
  T extends { requestedBy?: string; sharedBy?: { name: string; at: string } },
>(o: T): T {
  return {
    ...o,
    ...(o.requestedBy !== undefined ? { requestedBy: escapeMarkdown(o.requestedBy) } : {}),
    ...(o.sharedBy ? { sharedBy: { ...o.sharedBy, name: escapeMarkdown(o.sharedBy.name) } } : {}),
  };
}
