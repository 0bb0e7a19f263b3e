/**
 * One source of ecebot's words: item titles are the checklist's section names in English and
 * come only from src/i18n; both languages have every message; the presentation layers keep no
 * copy of a title, and render/ does not reach into teams/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allItems, itemIds } from '../../src/checklist/items';
import { itemTitle, langOf, messages } from '../../src/i18n';

const SRC = join(__dirname, '..', '..', 'src');

/** The code of a source file without its comments (titles may be cited in prose). */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .filter(l => !l.trim().startsWith('//'))
    .join('\n');
}

const filesOf = (dir: string) =>
  readdirSync(join(SRC, dir))
    .filter(f => f.endsWith('.ts'))
    .map(f => join(SRC, dir, f));

test('the English title of every item is the checklist’s own section name', () => {
  for (const e of allItems()) expect(itemTitle(e.id, 'en')).toBe(e.title.en);
});

test('every item has a title in every language', () => {
  for (const id of itemIds())
    for (const lang of ['en', 'nl'] as const) expect(itemTitle(id, lang).length).toBeGreaterThan(2);
});

test('both languages have every message, with the same parameters', () => {
  const en = messages('en') as Record<string, unknown>;
  const nl = messages('nl') as Record<string, unknown>;
  expect(Object.keys(nl).sort()).toEqual(Object.keys(en).sort());
  for (const k of Object.keys(en)) {
    expect([k, typeof nl[k]]).toEqual([k, typeof en[k]]);
    if (typeof en[k] === 'function')
      expect([k, (nl[k] as () => string).length]).toEqual([k, (en[k] as () => string).length]);
  }
});

test('the language follows the locale: Dutch for nl-*, English otherwise', () => {
  expect(['nl', 'nl-NL', 'nl_BE', 'NL-nl'].map(langOf)).toEqual(['nl', 'nl', 'nl', 'nl']);
  expect(['en-US', 'de-DE', 'nld', '', undefined].map(langOf)).toEqual([
    'en',
    'en',
    'en',
    'en',
    'en',
  ]);
});

test('teams/, render/ and notify/ hold no copy of an item title', () => {
  const titles = itemIds().flatMap(id => [itemTitle(id, 'en'), itemTitle(id, 'nl')]);
  const copies = ['teams', 'render', 'notify']
    .flatMap(filesOf)
    .flatMap(f => titles.filter(t => code(f).includes(t)).map(t => `${f}: ${t}`));
  expect(copies).toEqual([]);
});

test('render/ does not import teams/', () => {
  const imports = filesOf('render').filter(f => /from '\.\.\/teams\//.test(code(f)));
  expect(imports).toEqual([]);
});
