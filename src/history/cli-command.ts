/**
 * `ecebot history ENV [--item ID] [--since 7d] [--json|--csv]`: what the bot and the assembler
 * recorded of an environment (or one item) in Redis, with its uptime over the window, for a
 * person or a report (docs/history.md). Reads only; exit 0, or 2 for bad input.
 */
import { parseArgs } from 'node:util';
import { itemIds } from '../checklist/items';
import type { Io } from '../cli/io';
import { formatTime } from '../i18n';
import { InputError } from '../inventory/errors';
import { suggest } from '../inventory/load';
import type { ItemId } from '../model';
import { queueConfigFrom } from '../redis/connection';
import { parseSpan, RedisItemHistory, retentionFrom } from '../store/item-history';
import { toCsv } from './csv';
import { historyReport, type HistoryReport } from './report';
import { percent, type Uptime } from './uptime';

const HOW = 'run: ecebot history ENV [--item ID] [--since 7d] [--json|--csv]';

/** The default window. */
const DEFAULT_SINCE = '7d';
/** Runs the text output lists (newest); --json and --csv give every run of the window. */
const TEXT_RUNS = 20;

/** How uptime is counted, in every output, so a report carries its own definition. */
export const UPTIME_DEFINITION =
  'uptime = runs that passed or warned / runs that passed, warned or failed; skipped and errored runs are not counted';

/** The options, checked: what, where and how to fix. */
interface HistoryArgs {
  environment: string;
  item?: ItemId;
  sinceText: string;
  sinceMs: number;
  format: 'text' | 'json' | 'csv';
}

function parseHistoryArgs(argv: string[]): HistoryArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        item: { type: 'string' },
        since: { type: 'string' },
        json: { type: 'boolean' },
        csv: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new InputError(`history: ${(err as Error).message}`, HOW);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new InputError(
      positionals.length
        ? `history takes one environment, got ${positionals.length}: ${positionals.join(' ')}`
        : 'history needs an environment name',
      `${HOW} (ecebot history prod --since 30d)`,
    );
  const environment = positionals[0]!;
  // The inventory's own rule for names (src/inventory/schema.ts).
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(environment))
    throw new InputError(
      `history: ${JSON.stringify(environment)} is not an environment name`,
      'names are letters, digits, dots, dashes and underscores, as in the inventory',
    );
  const item = values.item;
  if (item !== undefined && !itemIds().includes(item as ItemId)) {
    const close = suggest(item, itemIds());
    throw new InputError(
      `history: --item ${JSON.stringify(item)} is not a checklist item`,
      `${close ? `did you mean --item ${close}? ` : ''}items: ${itemIds().join(', ')}`,
    );
  }
  const sinceText = values.since ?? DEFAULT_SINCE;
  const sinceMs = parseSpan(sinceText);
  if (sinceMs === undefined)
    throw new InputError(
      `history: --since must be a span such as 24h, 7d or 30d, got ${JSON.stringify(sinceText)}`,
      'write a number and one of m (minutes), h (hours), d (days), w (weeks): --since 30d',
    );
  if (values.json && values.csv)
    throw new InputError('history: --json and --csv cannot go together', 'choose one of them');
  return {
    environment,
    ...(item ? { item: item as ItemId } : {}),
    sinceText: sinceText.trim().toLowerCase(),
    sinceMs,
    format: values.json ? 'json' : values.csv ? 'csv' : 'text',
  };
}

/** Run `history`; resolves to the exit code. */
export async function runHistoryCommand(argv: string[], io: Io, now = new Date()): Promise<number> {
  const a = parseHistoryArgs(argv);
  const retention = retentionFrom(io.env);
  const queue = queueConfigFrom(io.env);
  if (!queue)
    throw new InputError(
      'history needs REDIS_URL: runs are recorded in the Redis the bot and the assembler share (without it the bot keeps them in its own memory, out of reach)',
      'set REDIS_URL=redis://HOST:6379 (and ECEBOT_QUEUE_PREFIX if the bot uses one)',
    );
  if (a.sinceMs > retention.maxAgeMs)
    io.err(
      `ecebot: note: history keeps ${Math.round(retention.maxAgeMs / 86_400_000)} days (ECEBOT_HISTORY_MAX_AGE); runs before that are gone`,
    );
  const history = new RedisItemHistory(queue, retention, () => now);
  try {
    await history.ready();
    const report = await historyReport(history, {
      environment: a.environment,
      ...(a.item ? { item: a.item } : {}),
      since: new Date(now.getTime() - a.sinceMs),
      until: now,
      allItems: itemIds(),
    });
    if (a.format === 'json') io.out(JSON.stringify(reportJson(report)));
    // io.out ends the text with LF: the last record's CR is written here, so every record of
    // the output ends in CRLF as RFC 4180 §2.1 has it.
    else if (a.format === 'csv') io.out(reportCsv(report).slice(0, -1));
    else for (const line of reportText(report, a.sinceText)) io.out(line);
    return 0;
  } finally {
    await history.close();
  }
}

/** Uptime figures as JSON and text show them; `percent` is null when nothing was counted. */
function uptimeJson(u: Uptime) {
  return {
    up: u.up,
    down: u.down,
    counted: u.up + u.down,
    notCounted: u.notCounted,
    percent: u.ratio === undefined ? null : Number(percent(u.ratio)),
  };
}

/** The report as one JSON document. */
export function reportJson(r: HistoryReport) {
  return {
    environment: r.environment,
    ...(r.item ? { item: r.item } : {}),
    since: r.since.toISOString(),
    until: r.until.toISOString(),
    definition: UPTIME_DEFINITION,
    uptime: uptimeJson(r.uptime),
    ...(r.item ? {} : { items: r.items.map(i => ({ item: i.item, ...uptimeJson(i.uptime) })) }),
    runs: r.marks.map(m => ({ runId: m.runId, finishedAt: m.at, status: m.status })),
  };
}

/**
 * The runs as CSV (RFC 4180, ./csv.ts), oldest first: run id, finish time and status, and
 * without --item each item's status in that run (empty where the run did not judge it).
 */
export function reportCsv(r: HistoryReport): string {
  if (r.item)
    return toCsv(
      ['run_id', 'finished_at', r.item],
      r.marks.map(m => [m.runId, m.at, m.status]),
    );
  const byRun = new Map<string, Map<ItemId, string>>();
  for (const i of r.items)
    for (const m of i.marks) {
      const row = byRun.get(m.runId) ?? new Map<ItemId, string>();
      row.set(i.item, m.status);
      byRun.set(m.runId, row);
    }
  const cols = r.items.map(i => i.item);
  return toCsv(
    ['run_id', 'finished_at', 'status', ...cols],
    r.marks.map(m => [m.runId, m.at, m.status, ...cols.map(c => byRun.get(m.runId)?.get(c) ?? '')]),
  );
}

function uptimeText(u: Uptime): string {
  const counted = u.up + u.down;
  const left = `${u.notCounted} skipped or errored, not counted`;
  return u.ratio === undefined
    ? `no counted run (${left})`
    : `${percent(u.ratio)}% — ${u.up} of ${counted} counted runs passed or warned; ${left}`;
}

/** The report for a person. */
export function reportText(r: HistoryReport, sinceText: string): string[] {
  const what = r.item ? `${r.environment}, item ${r.item}` : r.environment;
  const out = [
    `History of ${what}: ${formatTime(r.since)} → ${formatTime(r.until)} (--since ${sinceText})`,
  ];
  if (!r.marks.length) {
    out.push(
      `No runs of ${what} recorded in this window. Check the name, a longer --since, and that the bot or the assembler uses this REDIS_URL and ECEBOT_QUEUE_PREFIX.`,
    );
    return out;
  }
  out.push(`Uptime: ${uptimeText(r.uptime)}`, `  (${UPTIME_DEFINITION})`);
  if (r.items.length) {
    out.push('', 'Per item:');
    const w = Math.max(...r.items.map(i => i.item.length));
    for (const i of r.items) out.push(`  ${i.item.padEnd(w)}  ${uptimeText(i.uptime)}`);
  }
  const shown = r.marks.slice(-TEXT_RUNS).reverse();
  out.push(
    '',
    shown.length < r.marks.length
      ? `Runs, newest first (${shown.length} of ${r.marks.length}; --json or --csv for all):`
      : `Runs, newest first (${r.marks.length}):`,
  );
  for (const m of shown) out.push(`  ${formatTime(m.at)}  ${m.status.padEnd(5)}  ${m.runId}`);
  return out;
}
