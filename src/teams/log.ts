/**
 * The bot's logger: the subset of pino's API the Teams layer uses, so tests can pass a silent
 * or recording logger. Objects logged here never carry tokens or card contents.
 */

/** A pino-compatible logger. */
export interface BotLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Logs nothing. */
export const SILENT_LOG: BotLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
