/**
 * Per-step timing for probes: every protocol step records when it started, how long it took
 * and what the server said, so evidence can show "993 refused after 1 ms" and transcripts.
 */
import type { Code } from '../model';
import type { Step } from '../model';
import type { Redactor } from './redact';

/** Records the steps of one probe, all times relative to its start. */
export class StepRecorder {
  readonly startedAt = new Date();
  private readonly t0 = performance.now();
  readonly steps: Step[] = [];

  constructor(private readonly redactor: Redactor) {}

  /** Milliseconds since the probe started. */
  elapsed(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  /** Start a step; call the returned function exactly once to finish it. */
  begin(name: string, sent?: string): (result: StepResult) => Step {
    const at = this.elapsed();
    return result => {
      const step: Step = {
        name,
        ok: result.ok,
        atMs: at,
        durationMs: Math.round((this.elapsed() - at) * 10) / 10,
      };
      if (sent !== undefined) step.sent = this.redactor.text(sent);
      if (result.received?.length) step.received = result.received.map(l => this.redactor.text(l));
      if (result.code && result.code !== 'OK') step.code = result.code;
      if (result.note) step.note = this.redactor.text(result.note);
      this.steps.push(step);
      return step;
    };
  }

  /** Run an async step, recording it whether it resolves or rejects. */
  async run<T>(
    name: string,
    sent: string | undefined,
    fn: () => Promise<T>,
    describe: (value: T) => StepResult,
    onError: (err: unknown) => StepResult,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown; result: StepResult }> {
    const done = this.begin(name, sent);
    try {
      const value = await fn();
      done(describe(value));
      return { ok: true, value };
    } catch (error) {
      const result = onError(error);
      done({ ...result, ok: false });
      return { ok: false, error, result };
    }
  }
}

/** How a step ended. */
export interface StepResult {
  ok: boolean;
  received?: string[];
  code?: Code;
  note?: string;
}
