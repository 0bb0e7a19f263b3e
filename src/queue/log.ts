/**
 * The queue's logger: the part of pino's API the queue modules use, injected by the command
 * that starts them (`serve`, `assembler`, `check`), so a Redis error or a run that cannot be
 * assembled is logged instead of swallowed. Objects logged here carry run ids, environment and
 * vantage names and errors, never a secret or a finding's evidence.
 */

/** A pino-compatible logger. */
export interface QueueLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Logs nothing: the default for library use and tests that do not look at logs. */
export const SILENT_QUEUE_LOG: QueueLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
