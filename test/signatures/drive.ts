/**
 * Driving corpus texts through the network item: an observation from a real probe is judged by
 * the real rule, and the remediation for the code it gave (text and fix) is what the signature's
 * expectation is checked against.
 */
import { network } from '../../src/checklist/network';
import type { Finding, Observation } from '../../src/model';
import { facts } from '../checklist/fixtures';

/** The network item's finding when `obs` was made from the services server. */
export function judgeFromServices(obs: Observation): Finding {
  const o = { ...obs, vantage: 'services-1', read: 'network' } as Observation;
  return network({ env: facts(), observations: [o], now: new Date() });
}

/** The remediation text and fix the finding gives for `code`, as one string. */
export function remediationText(f: Finding, code: string): string {
  const r = f.remediation.find(x => x.code === code);
  return r ? `${r.text}\n${r.fix ?? ''}` : '';
}
