/**
 * The checklist in Cisco's order (checklist.md), and the one entry point that judges a run:
 * every rule, a crashing rule turned into an `error` finding instead of a lost run, then the
 * cross-item root-cause attribution.
 */
import { remediationFor } from '../knowledge/remediation';
import type { VantageKind } from '../model/items';
import type { Observation } from '../model';
import type { ItemDeclaration } from './item';
import { allItems } from './items';
import { attributeRootCauses } from './root-cause';
import type { RuleInput } from './rule';
import type { EnvironmentFacts } from '../model';
import type { Finding, ItemId } from '../model';

/** The finding for a rule that threw: the run goes on, the item says it broke and why. */
function crashed(entry: ItemDeclaration, input: RuleInput, err: unknown): Finding {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    item: entry.id,
    title: entry.title.en,
    status: 'error',
    summary: `The ${entry.id} check crashed (${why})`,
    summaryNl: `De controle ${entry.id} is vastgelopen (${why})`,
    code: 'CHECK_CRASHED',
    codes: ['CHECK_CRASHED'],
    evidence: [],
    remediation: [remediationFor('CHECK_CRASHED', { env: input.env })],
    failedOn: [],
    vantages: [],
    durationMs: 0,
  };
}

/** The kind of a vantage point: `central`, or the role of the ECE server of that name. */
export function kindOf(
  env: Pick<EnvironmentFacts, 'servers'>,
  vantage: string,
): VantageKind | undefined {
  if (vantage === 'central') return 'central';
  return env.servers.find(s => s.name === vantage)?.role;
}

/**
 * The observations an item's rule may judge: those of the reads its declaration names, made
 * from the vantage kinds it names. A rule never sees evidence its declaration does not claim,
 * so what `check --item X` gathers (the declared reads) is all a full run's verdict rests on.
 */
export function observationsFor(
  decl: Pick<ItemDeclaration, 'reads'>,
  env: Pick<EnvironmentFacts, 'servers'>,
  observations: readonly Observation[],
): Observation[] {
  if (!decl.reads.length) return [];
  return observations.filter(o => {
    const kind = kindOf(env, o.vantage);
    return decl.reads.some(u => u.read === o.read && !!kind && u.on.includes(kind));
  });
}

/** Judge observations: the selected items (all when `items` is empty), in catalogue order. */
export function evaluate(input: RuleInput, items?: readonly ItemId[]): Finding[] {
  const wanted = items?.length ? new Set<string>(items) : undefined;
  const findings = allItems()
    .filter(e => !wanted || wanted.has(e.id))
    .map(entry => {
      try {
        const own = observationsFor(entry, input.env, input.observations);
        return { ...entry.rule({ ...input, observations: own }), title: entry.title.en };
      } catch (err) {
        return crashed(entry, input, err);
      }
    });
  return attributeRootCauses(findings);
}

/**
 * A finding's `vantage` label: the servers it failed on, else every vantage point it was observed
 * from, else `inventory`. Derived, so whoever changes `failedOn` or `vantages` (assembly, the
 * NO_WORKER marking) sets it again from them.
 */
export function vantageLabel(f: Pick<Finding, 'failedOn' | 'vantages'>): string {
  return (f.failedOn.length ? f.failedOn : f.vantages).join(',') || 'inventory';
}

/** The run's status: fail if any item failed or errored, else warn if any warned, else pass. */
export function overallStatus(findings: readonly Finding[]): 'pass' | 'warn' | 'fail' {
  if (findings.some(f => f.status === 'fail' || f.status === 'error')) return 'fail';
  if (findings.some(f => f.status === 'warn')) return 'warn';
  return 'pass';
}
