/**
 * Where a command writes and what it reads from its process: kept apart from src/cli.ts so that
 * the commands it starts (serve, worker, assembler) can take one without importing the CLI.
 */

/** A command's standard streams, environment and working folder. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  isTTY: boolean;
}
