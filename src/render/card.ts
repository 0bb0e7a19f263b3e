/**
 * The run card: cards/run.json (an Adaptive Card 1.5 template) expanded with data built from a
 * Run. Pure: no I/O beyond reading the template once. Kept under Teams' limits (anchors.md B:
 * ~28 KB for webhook cards) by capping evidence and transcript lines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ACData from 'adaptivecards-templating';
import type { Finding, Run, Status } from '../checklist/types';

const MARK: Record<Status, string> = { pass: '✔', warn: '!', fail: '✖', skip: '–', error: '?' };
const COLOR: Record<Status, string> = {
  pass: 'Good',
  warn: 'Warning',
  fail: 'Attention',
  skip: 'Default',
  error: 'Attention',
};
const MAX_EVIDENCE = 6;
const MAX_TRANSCRIPT = 8;
const MAX_LINE = 240;

let template: object | undefined;
function loadTemplate(): object {
  template ??= JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'cards', 'run.json'), 'utf8'),
  ) as object;
  return template;
}

const clip = (s: string, n = MAX_LINE) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function evidenceLines(f: Finding): string[] {
  const lines: string[] = [];
  for (const e of f.evidence.slice(0, MAX_EVIDENCE)) {
    lines.push(clip(`[${e.ok ? 'ok' : e.code}] ${e.vantage} ${e.target}: ${e.text}`));
    if (e.server && !e.ok) lines.push(clip(`  server: ${e.server}`));
    for (const t of (e.transcript ?? []).slice(0, MAX_TRANSCRIPT)) lines.push(clip(`  ${t}`));
  }
  if (f.evidence.length > MAX_EVIDENCE)
    lines.push(`… ${f.evidence.length - MAX_EVIDENCE} more (ecebot check --details)`);
  return lines.length ? lines : ['(no evidence recorded)'];
}

/** Data for cards/run.json. */
export function runCardData(run: Run) {
  const counts = run.findings.reduce<Record<string, number>>(
    (a, f) => ((a[f.status] = (a[f.status] ?? 0) + 1), a),
    {},
  );
  const countText = (['pass', 'warn', 'fail', 'skip', 'error'] as Status[])
    .filter(s => counts[s])
    .map(s => `${counts[s]} ${s}`)
    .join(' · ');
  const verdict =
    run.status === 'pass'
      ? 'All checks passed'
      : run.status === 'warn'
        ? 'Passed with warnings'
        : 'Problems found';
  const items = run.findings.map(f => ({
    mark: MARK[f.status],
    color: COLOR[f.status],
    title: f.title,
    summary: clip(f.summary, 300),
    where: [
      f.failedOn.length ? `failed on ${f.failedOn.join(', ')}` : '',
      f.rootCause ? `root cause: ${f.rootCause}` : '',
    ]
      .filter(Boolean)
      .join(' · '),
    timing:
      f.durationMs >= 1000
        ? `${(f.durationMs / 1000).toFixed(1)} s`
        : `${Math.round(f.durationMs)} ms`,
    remediation:
      f.status === 'pass'
        ? []
        : f.remediation.slice(0, 3).map(r => ({
            text: clip(r.text, 400),
            fix: r.fix ? clip(r.fix, 400) : '',
            links: r.links
              .slice(0, 3)
              .map(l => `[${l.title}](${l.url})`)
              .join(' · '),
          })),
    detailsId: `details-${f.item}`,
    evidence: evidenceLines(f),
  }));
  return {
    title: `ecebot check ${run.environment}`,
    verdictText: `${verdict}: ${countText}`,
    verdictColor: COLOR[run.status],
    headerStyle: run.status === 'pass' ? 'good' : run.status === 'warn' ? 'warning' : 'attention',
    environment: run.environment,
    release: `${run.ece.version ?? '?'} ES${run.ece.es ?? '?'}`,
    runId: run.id,
    finished: run.finishedAt,
    items,
    detailsIds: items.map(i => i.detailsId),
    failedItems: run.findings
      .filter(f => f.status === 'fail' || f.status === 'error')
      .map(f => f.item)
      .join(','),
  };
}

/** The expanded Adaptive Card JSON for a run. */
export function renderRunCard(run: Run): object {
  const t = new ACData.Template(loadTemplate());
  return t.expand({ $root: runCardData(run) }) as object;
}
