/**
 * Human output of a run for the terminal: one line per item with status, summary and timing,
 * then what to do for each item that is not passing. Layout only; no judgement here.
 */
import type { Finding, Run, Status } from '../model';
import { messages } from '../i18n';
import { plainRun } from './escape';
import { findingSummary, remediationText } from './finding-text';

/** The terminal speaks English (the cards follow the reader's locale). */
const m = messages('en');

const MARK: Record<Status, string> = {
  pass: 'PASS',
  warn: 'WARN',
  fail: 'FAIL',
  skip: 'SKIP',
  error: 'ERR ',
};
const COLOR: Record<Status, string> = {
  pass: '32',
  warn: '33',
  fail: '31',
  skip: '90',
  error: '35',
};

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** Render a run; `color` adds ANSI colours (only when writing to a terminal). */
export function renderRunText(
  outside: Run,
  opts: { color?: boolean; details?: boolean } = {},
): string {
  // Server text never drives the terminal: ESC, BEL, CR and the like are removed (./escape.ts).
  const run = plainRun(outside);
  const paint = (s: Status, text: string) =>
    opts.color ? `\x1b[${COLOR[s]}m${text}\x1b[0m` : text;
  const lines: string[] = [];
  const counts = run.findings.reduce<Record<string, number>>(
    (a, f) => ((a[f.status] = (a[f.status] ?? 0) + 1), a),
    {},
  );
  const took = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  lines.push(
    `ecebot check ${run.environment}  ECE ${run.ece.version ?? '?'} ES${run.ece.es ?? '?'}  run ${run.id}`,
  );
  lines.push('');
  const width = Math.max(...run.findings.map(f => f.item.length));
  for (const f of run.findings) {
    const where = f.failedOn.length ? ` [${f.failedOn.join(', ')}]` : '';
    const root = f.rootCause ? ` (${m.rootCause(f.rootCause)})` : '';
    lines.push(
      `${paint(f.status, MARK[f.status])}  ${f.item.padEnd(width)}  ${findingSummary(f, 'en')}${where}${root}  (${ms(f.durationMs)})`,
    );
  }
  const todo = run.findings.filter(
    f => f.status !== 'pass' && (f.remediation.length || opts.details),
  );
  if (todo.length) {
    lines.push('');
    lines.push(`${m.whatToDo}:`);
    for (const f of todo) lines.push(...renderTodo(f, !!opts.details));
  }
  lines.push('');
  const parts = (['pass', 'warn', 'fail', 'skip', 'error'] as Status[])
    .filter(s => counts[s])
    .map(s => `${counts[s]} ${s}`);
  lines.push(`${paint(run.status, run.status.toUpperCase())}: ${parts.join(', ')} in ${ms(took)}`);
  return lines.join('\n');
}

function renderTodo(f: Finding, details: boolean): string[] {
  const out = [`  ${f.item} — ${findingSummary(f, 'en')}`];
  for (const r of f.remediation) {
    out.push(`    ${r.code}: ${remediationText(r, 'en')}`);
    if (r.fix) out.push(`      fix: ${r.fix}`);
    for (const l of r.links) out.push(`      see: ${l.title} <${l.url}>`);
  }
  if (details) {
    for (const e of f.evidence) {
      out.push(
        `    [${e.ok ? 'ok' : e.code}] ${e.vantage} ${e.target}: ${e.text}${e.durationMs !== undefined ? ` (${ms(e.durationMs)})` : ''}`,
      );
      if (e.server) out.push(`      server: ${e.server}`);
      for (const t of e.transcript ?? []) out.push(`      ${t}`);
    }
  }
  return out;
}
