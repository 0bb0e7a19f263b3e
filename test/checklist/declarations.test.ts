/**
 * The item declarations are the one list of items: ids, titles, reads and rules. These tests
 * hold the declarations to what the rest of ecebot derives from them (src/checklist/item.ts).
 */
import { observationsFor } from '../../src/checklist/catalogue';
import { allItems, declarationOf, itemIds } from '../../src/checklist/items';
import { VANTAGE_KINDS } from '../../src/model/items';
import { vantagesForItem } from '../../src/runner/progress';
import { readOf, readsFor } from '../../src/runner/reads';
import { facts, graph, mailboxToken, probeToken, SUPPORT } from './fixtures';

describe('item declarations', () => {
  test('the nine items of the technote, in its order, with distinct titles in both languages', () => {
    // checklist.md lists the items in this order; the ids are the design's stable ids.
    expect(itemIds()).toEqual([
      'version',
      'external-url',
      'app-registration',
      'token',
      'mailbox-protocols',
      'license',
      'mailbox-rights',
      'network',
      'connectivity',
    ]);
    for (const lang of ['en', 'nl'] as const) {
      const titles = allItems().map(d => d.title[lang].trim());
      expect(new Set(titles).size).toBe(titles.length);
      for (const t of titles) expect(t.length).toBeGreaterThan(3);
    }
  });

  test('every read an item names exists and can be made from every kind the item wants it from', () => {
    for (const d of allItems()) {
      for (const use of d.reads) {
        const read = readOf(use.read);
        expect(read).toBeDefined();
        for (const kind of use.on) expect(read!.on).toContain(kind);
      }
    }
    for (const kind of VANTAGE_KINDS) expect(() => readsFor(itemIds(), kind)).not.toThrow();
  });

  test('the version is judged from the inventory alone (checklist.md item 1)', () => {
    expect(declarationOf('version')?.reads).toEqual([]);
    const env = { servers: [{ name: 's1', role: 'services' as const }] };
    expect(vantagesForItem(env, 'version')).toEqual([]);
  });

  test('network and external URL come from every ECE server (checklist.md items 2 and 8)', () => {
    const env = {
      servers: [
        { name: 's1', role: 'services' as const },
        { name: 'a1', role: 'application' as const },
      ],
    };
    expect(vantagesForItem(env, 'network')).toEqual(['s1', 'a1']);
    expect(vantagesForItem(env, 'external-url')).toEqual(['s1', 'a1']);
    // Token refusals that say the tenant has no Exchange Online come from the services server.
    expect(vantagesForItem(env, 'license')).toEqual(['s1', 'central']);
  });

  test('a rule is given only the reads its declaration names, from the kinds it names', () => {
    const env = facts();
    const services = env.servers.find(s => s.role === 'services')!.name;
    const licence = graph('licenseDetails', [], { mailbox: SUPPORT, target: SUPPORT });
    const token = mailboxToken(services, SUPPORT);
    const graphApp = probeToken('graph');
    const exchangeApp = probeToken('exchange');
    const untagged = { ...mailboxToken(services, SUPPORT), read: undefined };
    // A mailbox token made from `central` is not something the licence item asked for.
    const fromCentral = { ...mailboxToken('central', SUPPORT) };
    const seen = observationsFor(declarationOf('license')!, env, [
      licence,
      token,
      graphApp,
      exchangeApp,
      untagged,
      fromCentral,
    ]);
    expect(seen).toEqual([licence, token, graphApp]);
    expect(observationsFor(declarationOf('version')!, env, [licence, token])).toEqual([]);
  });
});
