/**
 * The guard around every probe a read makes: probes return observations for every answer a
 * server can give, so one that throws is a bug. It becomes an observation with code
 * CHECK_CRASHED, its message redacted, so the run still finishes and the finding says what broke.
 */
import type { Code } from '../model';
import type { ProbeContext } from './context';
import type { Observation, ObservationKind } from '../model';

/** Run `fn`; a throw becomes one CHECK_CRASHED observation of `kind` about `target`. */
export async function guarded(
  ctx: ProbeContext,
  kind: ObservationKind,
  target: string,
  fn: () => Promise<Observation | Observation[]>,
): Promise<Observation[]> {
  const started = new Date();
  try {
    const r = await fn();
    return Array.isArray(r) ? r : [r];
  } catch (err) {
    const code: Code = 'CHECK_CRASHED';
    return [
      {
        kind,
        vantage: ctx.vantage,
        target,
        ok: false,
        code,
        stage: 'crash',
        server: ctx.redactor.text(
          err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        ),
        startedAt: started.toISOString(),
        durationMs: Date.now() - started.getTime(),
        steps: [],
      } as unknown as Observation,
    ];
  }
}
