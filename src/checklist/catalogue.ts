/**
 * The checklist in Cisco's order (checklist.md), and the one entry point that judges a run:
 * every rule, a crashing rule turned into an `error` finding instead of a lost run, then the
 * cross-item root-cause attribution.
 */
import { remediationFor } from '../knowledge/remediation';
import { appRegistration, TITLE as APP_REGISTRATION } from './app-registration';
import { connectivity, TITLE as CONNECTIVITY } from './connectivity';
import { externalUrl, TITLE as EXTERNAL_URL } from './external-url';
import { license, TITLE as LICENSE } from './license';
import { mailboxProtocols, TITLE as MAILBOX_PROTOCOLS } from './mailbox-protocols';
import { mailboxRights, TITLE as MAILBOX_RIGHTS } from './mailbox-rights';
import { network, TITLE as NETWORK } from './network';
import { attributeRootCauses } from './root-cause';
import type { Rule, RuleInput } from './rule';
import { token, TITLE as TOKEN } from './token';
import type { Finding, ItemId } from './types';
import { version, TITLE as VERSION } from './version';

/** One checklist item: its stable id, its title, its rule. */
export interface CatalogueEntry {
  id: ItemId;
  title: string;
  rule: Rule;
}

/** The nine items, in the technote's order (same order as ITEM_IDS). */
export const CATALOGUE: readonly CatalogueEntry[] = [
  { id: 'version', title: VERSION, rule: version },
  { id: 'external-url', title: EXTERNAL_URL, rule: externalUrl },
  { id: 'app-registration', title: APP_REGISTRATION, rule: appRegistration },
  { id: 'token', title: TOKEN, rule: token },
  { id: 'mailbox-protocols', title: MAILBOX_PROTOCOLS, rule: mailboxProtocols },
  { id: 'license', title: LICENSE, rule: license },
  { id: 'mailbox-rights', title: MAILBOX_RIGHTS, rule: mailboxRights },
  { id: 'network', title: NETWORK, rule: network },
  { id: 'connectivity', title: CONNECTIVITY, rule: connectivity },
];

/** The finding for a rule that threw: the run goes on, the item says it broke and why. */
function crashed(entry: CatalogueEntry, input: RuleInput, err: unknown): Finding {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    item: entry.id,
    title: entry.title,
    status: 'error',
    summary: `The ${entry.id} check crashed (${why})`,
    code: 'CHECK_CRASHED',
    codes: ['CHECK_CRASHED'],
    evidence: [],
    remediation: [remediationFor('CHECK_CRASHED', { env: input.env })],
    failedOn: [],
    vantages: [],
    durationMs: 0,
  };
}

/** Judge observations: the selected items (all when `items` is empty), in catalogue order. */
export function evaluate(input: RuleInput, items?: readonly ItemId[]): Finding[] {
  const wanted = items?.length ? new Set(items) : undefined;
  const findings = CATALOGUE.filter(e => !wanted || wanted.has(e.id)).map(entry => {
    try {
      return entry.rule(input);
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
