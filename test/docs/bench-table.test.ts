/**
 * The README's Performance table is what bench/results.json holds (`npm run bench:table`): a
 * bench run without the regenerated table, or a hand edit of the table, fails here. Every
 * metric the bench wrote has a row, with its goal and whether it was met as results.json says.
 */
import { readFileSync } from 'node:fs';

const { tableFor, replaceBlock, START, END, README, PERFORMANCE } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../scripts/bench-table.js') as {
    tableFor(results: unknown, file: string): string;
    replaceBlock(text: string, block: string): string | undefined;
    START: string;
    END: string;
    README: string;
    PERFORMANCE: string;
  };

interface Metric {
  name: string;
  goal: string | null;
  met: boolean | null;
}
const results = JSON.parse(
  readFileSync(README.replace(/README\.md$/, 'bench/results.json'), 'utf8'),
) as {
  metrics: Metric[];
};
const readme = readFileSync(README, 'utf8');

test.each([README, PERFORMANCE])(
  '%s has the table block, and it is what results.json gives',
  file => {
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(START);
    expect(text).toContain(END);
    expect(replaceBlock(text, tableFor(results, file))).toBe(text);
  },
);

test('every metric has a row saying whether its goal was met', () => {
  const block = readme.slice(readme.indexOf(START), readme.indexOf(END));
  for (const m of results.metrics.filter(x => !/^runs_per_min_\d+w$/.test(x.name))) {
    const row = block.split('\n').find(l => l.startsWith(`| \`${m.name}\` |`));
    expect(row).toBeDefined();
    const verdict = m.goal === null || m.met === null ? 'figure' : m.met ? 'met' : '**missed**';
    expect(row!.trim().endsWith(`| ${verdict} |`)).toBe(true);
  }
});
