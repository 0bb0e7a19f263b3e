/**
 * The corpus as a whole: well-formed, unique, every expectation naming a real item and code, and
 * every family driven by its own test file through the real code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CODE_TABLE } from '../../src/knowledge/codes';
import { itemIds } from '../../src/checklist/items';
import { families, loadAll } from './corpus';

const all = loadAll();

// The corpus is at least 100 real texts across the families a support engineer meets: Entra,
// IMAP, POP3, SMTP, TLS, DNS, proxy and ECE's own side.
test('at least 100 signatures, from every family', () => {
  expect(all.length).toBeGreaterThanOrEqual(100);
  expect(families()).toEqual(
    expect.arrayContaining(['dns', 'ece', 'entra', 'imap', 'pop3', 'proxy', 'smtp', 'tls']),
  );
});

test('every signature has a unique id', () => {
  const ids = all.map(s => s.sig.id);
  expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
});

test('every expectation names a checklist item and a registry code that exist', () => {
  const items = new Set<string>(itemIds());
  const bad = all.filter(
    ({ sig }) =>
      (sig.expect.item !== null && !items.has(sig.expect.item)) ||
      (sig.expect.code !== undefined && !(sig.expect.code in CODE_TABLE)),
  );
  expect(bad.map(b => b.sig.id)).toEqual([]);
});

test('every family is driven through the real code by its own test file', () => {
  const undriven = families().filter(f => !existsSync(join(__dirname, `${f}.test.ts`)));
  expect(undriven).toEqual([]);
});
