#!/usr/bin/env node
'use strict';
/**
 * `npm run bench:table`: the Performance table of the README and of docs/performance.md, from
 * bench/results.json (what the last `npm run bench` measured), written between
 * `<!-- bench:start -->` and `<!-- bench:end -->`.
 * One row per metric: what it measures, the value, the goal and whether it was met; a metric
 * kept as a figure (no goal) says so. The output depends on results.json alone, so `--check`
 * compares it byte for byte (test/render/bench-table.test.ts).
 *
 * Usage: node scripts/bench-table.js [--check]   (--check: write nothing, exit 1 if stale)
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const RESULTS = path.join(ROOT, 'bench', 'results.json');
const README = path.join(ROOT, 'README.md');
const PERFORMANCE = path.join(ROOT, 'docs', 'performance.md');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** What each metric measures, in a few words; the full method is its `how` in results.json. */
const WHAT = {
  wan_check_s: 'full check at 50 ms round trips (`lab --latency 25`)',
  wan_check_over_critical_path: 'that check ÷ its longest chain of dependent round trips',
  wan_imap_probe_rtts: 'IMAP probe round trips after TLS (curl: 4)',
  cpu_ms_per_run: "CPU of ecebot's processes per full run, lab excluded",
  cold_start_ms: '`ecebot check` from process start to its first line',
  rss_bot_idle_mb: 'bot (`serve`) memory, idle',
  rss_bot_mb: 'bot memory after 30 s of load',
  rss_worker_idle_mb: 'worker memory, idle',
  rss_worker_mb: 'worker memory after 30 s of load',
  rss_check_process_mb: 'a process that ran checks in-process',
  ack_ms_p50: '`check` until the running card reaches Teams, p50 (50 conversations)',
  ack_ms_p99: 'the same, p99',
  messages_per_s: '`/api/messages` throughput (local mode)',
  messages_ms_p99: '`/api/messages` latency, p99',
  fanout_500_s: 'one alert to 500 conversations within Teams’ limits',
  check_over_slowest_probe: 'full check ÷ its slowest probe',
  check_over_curl_sequential: 'full check ÷ curl’s three logins on loopback',
  imap_probe_over_curl: 'IMAP probe ÷ curl on loopback',
  runs_per_min: 'full runs a minute through Redis, lab on the same 2 cores',
};

/** A value as the table shows it: at most three significant decimals, with its unit. */
function value(m) {
  if (typeof m.value !== 'number') return String(m.value);
  const v = Number.isInteger(m.value) ? String(m.value) : String(Number(m.value.toFixed(3)));
  if (m.unit === 'ratio' || !m.unit) return v;
  return `${v} ${m.unit}`;
}

function met(m) {
  if (m.goal === null || m.goal === undefined || m.met === null || m.met === undefined)
    return 'figure';
  return m.met ? 'met' : '**missed**';
}

/** The Markdown block for results.json's contents. */
function table(results) {
  const shown = results.metrics.filter(m => !/^runs_per_min_\d+w$/.test(m.name));
  const date = String(results.startedAt ?? '').slice(0, 10);
  const machine = results.machine ?? {};
  const lines = [
    `Last \`npm run bench\`: ${date}, ${machine.cpus ?? '?'} cores (${machine.model ?? '?'}), ` +
      `Node.js ${machine.node ?? '?'}, ${results.seconds ?? '?'} s. Generated from ` +
      '[`bench/results.json`](bench/results.json) by `npm run bench:table`.',
    '',
    '| metric | measures | value | goal | |',
    '| --- | --- | --- | --- | --- |',
    ...shown.map(
      m => `| \`${m.name}\` | ${WHAT[m.name] ?? ''} | ${value(m)} | ${m.goal ?? '—'} | ${met(m)} |`,
    ),
  ];
  return lines.join('\n');
}

/** `text` with the block between the markers replaced; undefined when the markers are missing. */
function replaceBlock(text, block) {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return undefined;
  return `${text.slice(0, a + START.length)}\n${block}\n${text.slice(b)}`;
}

/** The table in a file whose links are relative to `dir` (the README's root, or docs/). */
function tableFor(results, file) {
  const block = table(results);
  return path.dirname(file) === ROOT ? block : block.replace('](bench/', '](../bench/');
}

function main() {
  const check = process.argv.includes('--check');
  const results = JSON.parse(fs.readFileSync(RESULTS, 'utf8'));
  let stale = false;
  for (const file of [README, PERFORMANCE]) {
    const name = path.relative(ROOT, file);
    const text = fs.readFileSync(file, 'utf8');
    const next = replaceBlock(text, tableFor(results, file));
    if (next === undefined) {
      console.error(`${name} has no ${START} … ${END} block: add the markers where the table goes`);
      process.exit(1);
    }
    if (check) {
      if (next !== text) {
        console.error(`${name}: the Performance table is stale: run \`npm run bench:table\``);
        stale = true;
      }
      continue;
    }
    fs.writeFileSync(file, next);
    console.log(`wrote the Performance table in ${name}`);
  }
  if (stale) process.exit(1);
}

module.exports = { table, tableFor, replaceBlock, START, END, README, PERFORMANCE };
if (require.main === module) main();
