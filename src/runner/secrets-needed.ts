/**
 * Least privilege (docs/security.md): which kinds of secret a vantage point's process resolves
 * for a run, derived from the declarations of the reads it makes (src/runner/reads, `needs`).
 */
import { kindOf } from '../checklist/catalogue';
import type { SecretKind } from '../inventory/secrets';
import type { Environment } from '../inventory/types';
import type { ItemId } from '../model/items';
import { vantagesForItems } from './progress';
import { secretsFor } from './reads';

/**
 * The kinds of secret a process resolves for a run of `items`: what the reads of `vantage`'s kind
 * declare, or, without a vantage, those of every vantage point the run needs. An unknown vantage
 * needs nothing (the worker then refuses the job).
 */
export function secretsNeeded(
  env: Pick<Environment, 'servers'>,
  items: readonly ItemId[],
  vantage?: string,
): Set<SecretKind> {
  const vantages = vantage === undefined ? vantagesForItems(env, items) : [vantage];
  return secretsFor(
    items,
    vantages.flatMap(v => kindOf(env, v) ?? []),
  );
}
