/**
 * The registry of checklist items: the nine declarations in the order of Cisco's technote
 * (checklist.md), plus any registered at run time (a test, a deployment's own check). This is
 * the one list of items; everything that needs "every item" asks it.
 */
import type { ItemId } from '../model/items';
import { item as appRegistration } from './app-registration';
import { item as connectivity } from './connectivity';
import { item as externalUrl } from './external-url';
import type { ItemDeclaration } from './item';
import { item as license } from './license';
import { item as mailboxProtocols } from './mailbox-protocols';
import { item as mailboxRights } from './mailbox-rights';
import { item as network } from './network';
import { item as token } from './token';
import { item as version } from './version';

const BUILT_IN: readonly ItemDeclaration[] = [
  version,
  externalUrl,
  appRegistration,
  token,
  mailboxProtocols,
  license,
  mailboxRights,
  network,
  connectivity,
];

const registered: ItemDeclaration[] = [];

/** A valid item id: lower-case words joined by hyphens, as the nine built-in ids are. */
const ID_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * Add an item after the built-in ones. Returns a function that removes it again (for tests).
 * Throws on a malformed or duplicate id: two declarations for one id would make every derived
 * list ambiguous.
 */
export function registerItem(decl: ItemDeclaration): () => void {
  if (!ID_PATTERN.test(decl.id)) {
    throw new Error(`item id ${JSON.stringify(decl.id)} must be lower-case words joined by "-"`);
  }
  if (declarationOf(decl.id)) throw new Error(`item ${decl.id} is already declared`);
  registered.push(decl);
  return () => {
    const at = registered.indexOf(decl);
    if (at >= 0) registered.splice(at, 1);
  };
}

/** Every item, built-in first in the technote's order, then registered ones in order. */
export function allItems(): readonly ItemDeclaration[] {
  return registered.length ? [...BUILT_IN, ...registered] : BUILT_IN;
}

/** Every item id, in order. */
export function itemIds(): ItemId[] {
  return allItems().map(d => d.id);
}

/** The declaration of one item, if there is one. */
export function declarationOf(id: string): ItemDeclaration | undefined {
  return allItems().find(d => d.id === id);
}

/** Whether a string names a declared item. */
export function isItemId(id: string): id is ItemId {
  return declarationOf(id) !== undefined;
}
