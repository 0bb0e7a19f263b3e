#!/usr/bin/env node
'use strict';
/**
 * `npm run signatures:doc`: the list of error signatures ecebot recognises, from the corpus
 * (test/signatures/*.json), written between `<!-- signatures:start -->` and
 * `<!-- signatures:end -->`:
 *
 * - docs/signatures.md: per family the count and the share its corpus test holds right, per
 *   checklist item one compact line of signature names, then per item a full table (code, text
 *   excerpt, source link);
 * - README.md: the compact block only, and only if README already has the markers.
 *
 * Every corpus entry is driven by its family's test and must pass, so the share is the entries
 * the test holds right over all entries; the corpus has no "known wrong" marking. The output
 * depends on the corpus alone (sorted, no dates), so `--check` can compare it byte for byte.
 *
 * Usage: node scripts/signatures-doc.js [--check]   (--check: write nothing, exit 1 if stale)
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const CORPUS = path.join(ROOT, 'test', 'signatures');
const DOC = path.join(ROOT, 'docs', 'signatures.md');
const README = path.join(ROOT, 'README.md');
const START = '<!-- signatures:start -->';
const END = '<!-- signatures:end -->';

/** Items in checklist order (checklist.md), then signatures that point at none of the nine. */
const ITEM_ORDER = [
  'version',
  'external-url',
  'app-registration',
  'token',
  'mailbox-protocols',
  'license',
  'mailbox-rights',
  'network',
  'connectivity',
];
const NO_ITEM = 'none of the nine';

/** Every family's entries, by family name, in name order. */
function loadCorpus(dir = CORPUS) {
  return fs
    .readdirSync(dir)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map(f => {
      const family = f.slice(0, -'.json'.length);
      const entries = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      if (!Array.isArray(entries)) throw new Error(`${f}: expected an array of signatures`);
      return { family, entries };
    });
}

/** The short name of a signature: its id without the family prefix. */
function shortName(family, id) {
  return id.startsWith(`${family}-`) ? id.slice(family.length + 1) : id;
}

/** One line of a text, cut for a table cell; pipes and backticks cannot break the table. */
function excerpt(text, max = 110) {
  const one = String(text).replace(/\s+/g, ' ').trim();
  const cut = one.length > max ? `${one.slice(0, max - 1)}…` : one;
  return cut.replace(/\|/g, '\\|').replace(/`/g, "'");
}

function byItem(corpus) {
  const groups = new Map();
  for (const { family, entries } of corpus) {
    for (const e of entries) {
      const item = e.expect && e.expect.item ? e.expect.item : NO_ITEM;
      if (!groups.has(item)) groups.set(item, []);
      groups.get(item).push({ family, e });
    }
  }
  const order = [...ITEM_ORDER, ...[...groups.keys()].filter(k => !ITEM_ORDER.includes(k)).sort()];
  return order.filter(k => groups.has(k)).map(k => [k, groups.get(k)]);
}

/** The compact block: per family the share, per item one line of signature names. */
function compact(corpus) {
  const lines = ['| family | signatures | held right by its test |', '|---|---|---|'];
  for (const { family, entries } of corpus) {
    const n = entries.length;
    lines.push(`| ${family} | ${n} | ${n} of ${n} (${n ? 100 : 0} %) |`);
  }
  lines.push('');
  for (const [item, list] of byItem(corpus)) {
    const names = list.map(({ family, e }) => `${family}:${shortName(family, e.id)}`);
    lines.push(`- **${item}** (${list.length}): ${names.join(', ')}`);
  }
  return lines.join('\n');
}

/** The full tables: per item, code, text excerpt and source. */
function full(corpus) {
  const out = [];
  for (const [item, list] of byItem(corpus)) {
    out.push(
      `### ${item}`,
      '',
      '| signature | code | text (excerpt) | source |',
      '|---|---|---|---|',
    );
    for (const { family, e } of list) {
      const code = e.expect && e.expect.code ? `\`${e.expect.code}\`` : '';
      const title = excerpt(e.source.title, 60).replace(/\[/g, '(').replace(/\]/g, ')');
      out.push(
        `| ${family}:${shortName(family, e.id)} | ${code} | ${excerpt(e.text)} | [${title}](${e.source.url}) |`,
      );
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function docBlock(corpus) {
  return [compact(corpus), '', '## Signatures by item', '', full(corpus)].join('\n');
}

/** `text` with the part between the markers replaced, or undefined when it has no markers. */
function replaceBlock(text, block) {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < 0 || b < a) return undefined;
  // Prettier would realign the tables; the block is the generator's, byte for byte.
  const fenced = `<!-- prettier-ignore-start -->\n${block}\n<!-- prettier-ignore-end -->`;
  return `${text.slice(0, a + START.length)}\n${fenced}\n${text.slice(b)}`;
}

const DOC_HEAD = `# Error signatures ecebot recognises

Real error texts from public sources (Microsoft's AADSTS reference, GitHub issues of mail
clients and tools), each driven through ecebot's own code by its family's test in
test/signatures/ and held to the checklist item and the fix its source gives. Generated by
\`npm run signatures:doc\` from test/signatures/*.json; do not edit between the markers.

`;

/** What each file should contain: [path, expected text] for the files this script owns or fills. */
function expected(corpus = loadCorpus()) {
  const files = [];
  const doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : `${DOC_HEAD}${START}\n${END}\n`;
  const newDoc = replaceBlock(doc, docBlock(corpus));
  if (newDoc === undefined) throw new Error(`${DOC}: the markers ${START} / ${END} are missing`);
  files.push([DOC, newDoc]);
  if (fs.existsSync(README)) {
    const readme = fs.readFileSync(README, 'utf8');
    const newReadme = replaceBlock(readme, compact(corpus));
    if (newReadme !== undefined) files.push([README, newReadme]);
  }
  return files;
}

function main(argv) {
  const check = argv.includes('--check');
  const stale = [];
  for (const [file, text] of expected()) {
    const now = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (now === text) continue;
    stale.push(path.relative(ROOT, file));
    if (!check) fs.writeFileSync(file, text);
  }
  if (check && stale.length) {
    console.error(`out of date with the corpus: ${stale.join(', ')} (run npm run signatures:doc)`);
    return 1;
  }
  if (!check) console.log(stale.length ? `wrote ${stale.join(', ')}` : 'up to date');
  return 0;
}

module.exports = { loadCorpus, compact, full, replaceBlock, expected, START, END };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
