/**
 * The README is the front door: every picture it shows and every file it links to is in the
 * repository (a renamed doc or a screenshot that was never added fails here).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Local targets of `<img src>` and Markdown links, without anchors. */
const targets = [
  ...[...readme.matchAll(/<img src="([^"]+)"/g)].map(m => m[1]!),
  ...[...readme.matchAll(/\]\(([^)\s]+)\)/g)].map(m => m[1]!),
]
  .filter(t => !/^[a-z]+:/.test(t) && !t.startsWith('#'))
  .map(t => t.split('#')[0]!);

test('the README shows pictures', () => {
  expect(readme).toMatch(/<img src="docs\/img\/[^"]+\.png"/);
});

test.each([...new Set(targets)])('%s exists', target => {
  expect(existsSync(join(ROOT, target))).toBe(true);
});
