/**
 * The shape of a checklist item's declaration. Each `src/checklist/<id>.ts` exports one `item`:
 * everything the rest of ecebot needs to know about the item — what is read, from which kinds of
 * vantage point, how it is titled, how it is judged — so adding an item is a local change.
 * What is read where (src/runner/observe.ts), progress (src/runner/progress.ts), NO_WORKER
 * marking (src/queue/missing.ts), `--item`, help and the card's rows all derive from these.
 */
import type { ItemId, ReadName, Text, VantageKind } from '../model/items';
import type { Rule } from './rule';

/** One read an item draws on, and the kinds of vantage point it wants it from. */
export interface ReadUse {
  read: ReadName;
  /** Where the item wants this read made; a server's role or `central`. */
  on: readonly VantageKind[];
}

/** A checklist item, declared once. */
export interface ItemDeclaration {
  /** The stable id (checklist.md). */
  id: ItemId;
  /** The checklist section's title, in every language. */
  title: Text;
  /**
   * The reads the rule judges. The rule is given only their observations, and only from the
   * vantage kinds named here; an item that reads nothing (the version) is judged from the
   * inventory alone.
   */
  reads: readonly ReadUse[];
  /** The pure rule: inventory facts and the observations of `reads` in, one finding out. */
  rule: Rule;
}

/** Every kind of ECE server (for reads made from each ECE server). */
export const EVERY_SERVER: readonly VantageKind[] = ['services', 'application'];
/** Only the services servers (where ECE's retriever and dispatcher run, checklist.md item 8). */
export const SERVICES: readonly VantageKind[] = ['services'];
/** Only the application servers (where the first token is made and alarm mail sent, item 8). */
export const APPLICATION: readonly VantageKind[] = ['application'];
/** The central vantage point (tenant reads). */
export const CENTRAL_ONLY: readonly VantageKind[] = ['central'];
