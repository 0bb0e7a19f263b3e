/**
 * One checklist run in this process: every vantage point observed concurrently, then the pure
 * rules judge. The queue (when REDIS_URL is set) runs `observeFrom` on each server's own worker
 * and calls `assemble` with the merged observations.
 */
import { evaluate, overallStatus, vantageLabel } from '../checklist/catalogue';
import type { Run } from '../model';
import type { Observation } from '../model';
import { factsOf } from './facts';
import { observeFrom } from './observe';
import { vantagesOf, type PreparedRun } from './prepare';

/** Judge merged observations into a Run. Pure apart from reading the clock it is given. */
export function assemble(
  run: PreparedRun,
  observations: Observation[],
  startedAt: Date,
  finishedAt: Date,
): Run {
  const findings = evaluate(
    { env: factsOf(run.env, run.secrets), observations, now: finishedAt },
    run.items,
  ).map(f => ({ ...f, vantage: vantageLabel(f) }));
  return {
    id: run.id,
    environment: run.env.name,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    status: overallStatus(findings),
    ece: { version: run.env.ece.version, es: run.env.ece.es },
    findings,
  };
}

/** Run the whole checklist in-process. */
export async function runInProcess(run: PreparedRun): Promise<Run> {
  const startedAt = new Date();
  const parts = await Promise.all(vantagesOf(run).map(v => observeFrom(run, v)));
  return assemble(run, parts.flat(), startedAt, new Date());
}
