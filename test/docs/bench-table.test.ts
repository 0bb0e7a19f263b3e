/**
 * The README's Performance table is what bench/results.json holds (`npm run bench:table`): a
 * bench run without the regenerated table, or a hand edit of the table, fails here. Every
 * metric the bench wrote has a row, with its goal and whether it was met as results.json says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { table, replaceBlock, START, END } = require('../../scripts/bench-table.js') as {
  table(results: unknown): string;
  replaceBlock(text: string, block: string): string | undefined;
  START: string;
  END: string;
};

interface Metric {
  name: string;
  goal: string | null;
  met: boolean | null;
}
const ROOT = join(__dirname, '..', '..');
const results = JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8')) as {
  metrics: Metric[];
};
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('README has the table block, and it is what results.json gives', () => {
  expect(readme).toContain(START);
  expect(readme).toContain(END);
  expect(replaceBlock(readme, table(results))).toBe(readme);
});

test('every metric has a row saying whether its goal was met', () => {
  const block = readme.slice(readme.indexOf(START), readme.indexOf(END));
  for (const m of results.metrics.filter(x => !/^runs_per_min_\d+w$/.test(x.name))) {
    const row = block.split('\n').find(l => l.startsWith(`| \`${m.name}\` |`));
    expect(row).toBeDefined();
    const verdict = m.goal === null || m.met === null ? 'figure' : m.met ? 'met' : '**missed**';
    expect(row!.trim().endsWith(`| ${verdict} |`)).toBe(true);
  }
});
