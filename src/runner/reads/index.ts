/**
 * The registry of reads: the built-in ones, plus any registered at run time (a test, a
 * deployment's own check), and the plan of which reads a vantage point makes for a run's items.
 */
import { declarationOf } from '../../checklist/items';
import type { SecretKind } from '../../inventory/secrets';
import type { ItemId, ReadName, VantageKind } from '../../model/items';
import * as exo from './exo';
import * as externalUrl from './external-url';
import * as graph from './graph';
import * as mailbox from './mailbox';
import * as network from './network';
import type { ReadDeclaration } from './read';
import * as tenant from './tenant';

/** Whether a module export is a read declaration (modules also export helpers and scopes). */
function isRead(x: unknown): x is ReadDeclaration {
  const r = x as Partial<ReadDeclaration> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.name === 'string' &&
    Array.isArray(r.on) &&
    typeof r.observe === 'function'
  );
}

/**
 * Every read the modules of this folder export, so a new read in an existing module needs no
 * line here. Sorted by name: the order reads start in does not matter, a stable one does.
 */
const BUILT_IN: readonly ReadDeclaration[] = [network, externalUrl, mailbox, tenant, graph, exo]
  .flatMap(m => Object.values(m).filter(isRead))
  .sort((a, b) => a.name.localeCompare(b.name));

const registered: ReadDeclaration[] = [];

/** Add a read. Returns a function that removes it again (for tests). Names are unique. */
export function registerRead(decl: ReadDeclaration): () => void {
  if (readOf(decl.name)) throw new Error(`read ${decl.name} is already declared`);
  registered.push(decl);
  return () => {
    const at = registered.indexOf(decl);
    if (at >= 0) registered.splice(at, 1);
  };
}

/** Every read, built-in first. */
export function allReads(): readonly ReadDeclaration[] {
  return registered.length ? [...BUILT_IN, ...registered] : BUILT_IN;
}

/** One read by name. */
export function readOf(name: string): ReadDeclaration | undefined {
  return allReads().find(r => r.name === name);
}

/**
 * The reads a vantage point of `kind` makes for `items`: every read an item names for that
 * kind, plus the reads those use, each once, in registry order. An item naming a read that does
 * not exist, or one that cannot be made from that kind, is a programming error and throws.
 */
export function readsFor(items: readonly ItemId[], kind: VantageKind): ReadDeclaration[] {
  const names = new Set<ReadName>();
  const add = (name: ReadName, by: string): void => {
    if (names.has(name)) return;
    const read = readOf(name);
    if (!read) throw new Error(`${by} names the read ${name}, which is not declared`);
    if (!read.on.includes(kind)) {
      throw new Error(
        `${by} wants the read ${name} from ${kind}, but it is made only from ${read.on.join(', ')}`,
      );
    }
    names.add(name);
    for (const u of read.uses ?? []) add(u, `the read ${name}`);
  };
  for (const id of items) {
    const decl = declarationOf(id);
    if (!decl) throw new Error(`unknown checklist item ${id}`);
    for (const use of decl.reads) if (use.on.includes(kind)) add(use.read, `item ${id}`);
  }
  return allReads().filter(r => names.has(r.name));
}

/**
 * The kinds of secret a process making the reads of `items` from the vantage kinds `kinds`
 * resolves: the union of what those reads declare (`needs`), and nothing else (least privilege,
 * docs/security.md). Used reads are among `readsFor`'s, so their needs count.
 */
export function secretsFor(
  items: readonly ItemId[],
  kinds: Iterable<VantageKind>,
): Set<SecretKind> {
  const out = new Set<SecretKind>();
  for (const kind of new Set(kinds))
    for (const read of readsFor(items, kind)) for (const n of read.needs ?? []) out.add(n);
  return out;
}
