/**
 * The worker's inventory, parsed again only when the file (or a file of the folder) changed.
 * A worker reads the inventory for every part it runs, so an edited inventory applies without a
 * restart; parsing and validating the YAML each time cost several milliseconds of CPU per part,
 * which under load was a sizeable share of a worker's time. A stat of each file is enough to
 * notice an edit. Secrets are not cached: `prepareRun` resolves them for every part.
 */
import { readdirSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { loadInventory, type Inventory } from './load';

/** What identifies one version of a file: inode, size, modification and change times. */
function stamp(s: BigIntStats): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/**
 * A fingerprint of the inventory at `path`: the file's stamp, or for a folder the stamps of
 * the folder and of each YAML file in it (as loadInventory reads them). Undefined when it
 * cannot be read; the loader then parses, and loadInventory reports the problem.
 */
function fingerprint(path: string): string | undefined {
  try {
    const top = statSync(path, { bigint: true });
    if (!top.isDirectory()) return stamp(top);
    const files = readdirSync(path)
      .filter(f => /\.ya?ml$/i.test(f))
      .sort();
    return [
      stamp(top),
      ...files.map(f => `${f}=${stamp(statSync(join(path, f), { bigint: true }))}`),
    ].join('|');
  } catch {
    return undefined;
  }
}

/**
 * A loader for the inventory at `path` that returns the parsed inventory while nothing changed
 * on disk and parses again (throwing InputError for a bad edit) when something did.
 */
export function cachedInventory(
  path: string,
  load: (path: string) => Inventory = loadInventory,
): () => Inventory {
  let held: { print: string; inv: Inventory } | undefined;
  return () => {
    const print = fingerprint(path);
    if (held && print !== undefined && held.print === print) return held.inv;
    const inv = load(path);
    held = print !== undefined ? { print, inv } : undefined;
    return inv;
  };
}
