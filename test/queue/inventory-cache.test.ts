/**
 * The worker's inventory loader parses the file once and again only after it changed on disk:
 * edits (renamed environments, a new file in an inventory folder, a broken edit and its fix)
 * apply to the next part without restarting the worker.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/inventory/errors';
import { cachedInventory } from '../../src/inventory/cache';

const EXAMPLE = readFileSync(join(__dirname, '..', '..', 'examples', 'inventory.yaml'), 'utf8');

/** The example inventory with its one environment renamed. */
const named = (name: string) => EXAMPLE.replace(/^ {2}prod:$/m, `  ${name}:`);

describe('cachedInventory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecebot-inv-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('the same parsed inventory while the file is unchanged, a new one after an edit', () => {
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, named('prod'));
    const inventory = cachedInventory(file);
    const first = inventory();
    expect([...first.environments.keys()]).toEqual(['prod']);
    expect(inventory()).toBe(first);

    writeFileSync(file, named('staging'));
    const second = inventory();
    expect(second).not.toBe(first);
    expect([...second.environments.keys()]).toEqual(['staging']);
    expect(inventory()).toBe(second);
  });

  test('a broken edit is reported, and its fix is picked up', () => {
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, named('prod'));
    const inventory = cachedInventory(file);
    inventory();
    writeFileSync(file, named('prod').replace('role: services', 'role: mainframe'));
    expect(() => inventory()).toThrow(InputError);
    writeFileSync(file, named('lab'));
    expect([...inventory().environments.keys()]).toEqual(['lab']);
  });

  test('a folder: a file added or changed is seen', () => {
    writeFileSync(join(dir, 'a.yaml'), named('prod'));
    const inventory = cachedInventory(dir);
    const first = inventory();
    expect([...first.environments.keys()]).toEqual(['prod']);
    expect(inventory()).toBe(first);

    writeFileSync(join(dir, 'b.yaml'), named('staging'));
    expect([...inventory().environments.keys()].sort()).toEqual(['prod', 'staging']);

    writeFileSync(join(dir, 'a.yaml'), named('lab'));
    expect([...inventory().environments.keys()].sort()).toEqual(['lab', 'staging']);
  });
});
