/**
 * Items whose vantage points never reported: pure, so the run still finishes with a verdict
 * that says why (NO_WORKER, "no worker for services-1 seen since …") instead of hanging or
 * passing on half the evidence.
 */
import { overallStatus, vantageLabel } from '../checklist/catalogue';
import type { EnvironmentFacts } from '../model';
import type { Evidence, Finding, Run } from '../model';
import type { Environment } from '../inventory/types';
import { CODE_TABLE } from '../knowledge/codes';
import { remediationFor } from '../knowledge/remediation';
import { vantagesForItem } from '../runner/progress';

const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];

/**
 * Mark findings that draw on a missing vantage point. A `fail` stays a fail (the failure
 * observed elsewhere is real) with NO_WORKER added; anything else becomes `error` with code
 * NO_WORKER, since the rule judged without part of its evidence.
 */
function markMissing(
  findings: readonly Finding[],
  env: Environment,
  facts: EnvironmentFacts,
  missing: ReadonlyMap<string, string>,
): Finding[] {
  if (!missing.size) return [...findings];
  return findings.map(f => {
    const gone = vantagesForItem(env, f.item).filter(v => missing.has(v));
    if (!gone.length) return f;
    const reasons = gone.map(v => missing.get(v)!);
    // The reason is ecebot's English sentence; the Dutch line names the server and the meaning.
    const reasonsNl = gone.map(v => `${v}: ${CODE_TABLE.NO_WORKER.meaning.nl.replace(/\.$/, '')}`);
    const evidence: Evidence[] = gone.map(v => ({
      vantage: v,
      target: v,
      text: missing.get(v)!,
      code: 'NO_WORKER',
      ok: false,
    }));
    const failed = f.status === 'fail';
    const failedOn = uniq([...f.failedOn, ...gone]);
    const vantages = uniq([...f.vantages, ...gone]);
    return {
      ...f,
      status: failed ? 'fail' : 'error',
      code: failed ? f.code : 'NO_WORKER',
      codes: uniq([...(f.status === 'pass' ? [] : f.codes), 'NO_WORKER']),
      summary: failed ? `${f.summary}; ${reasons.join('; ')}` : reasons.join('; '),
      summaryNl: failed
        ? `${f.summaryNl ?? f.summary}; ${reasonsNl.join('; ')}`
        : reasonsNl.join('; '),
      evidence: [...f.evidence, ...evidence],
      remediation: [
        ...(f.status === 'pass' ? [] : f.remediation),
        ...gone.map(v => remediationFor('NO_WORKER', { env: facts, vantage: v })),
      ],
      failedOn,
      vantages,
      vantage: vantageLabel({ failedOn, vantages }),
    };
  });
}

/** The run with missing vantage points marked and its status recomputed. */
export function withMissing(
  run: Run,
  env: Environment,
  facts: EnvironmentFacts,
  missing: ReadonlyMap<string, string>,
): Run {
  const findings = markMissing(run.findings, env, facts, missing);
  return { ...run, findings, status: overallStatus(findings) };
}
