import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'ecebot.js');
const GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');

/** Environment for child processes: the loopback guard preloaded, no colour. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_OPTIONS: `-r ${GUARD}`,
    NO_COLOR: '1',
    ECEBOT_CONFIG: '',
    // Cleared so `check` runs in-process here; the queue's own tests set REDIS_URL explicitly.
    REDIS_URL: '',
    ...extra,
  };
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `ecebot ARGS` to completion. */
export function ecebot(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Result> {
  return new Promise(resolve => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: childEnv(opts.env),
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', code => resolve({ code, stdout, stderr }));
  });
}

/** Start a long-running `ecebot ARGS` and wait for its first stdout line. */
export function ecebotFirstLine(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; line: string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env) });
    const exited = new Promise<number | null>(r => child.on('exit', c => r(c)));
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', line => resolve({ child, line, exited }));
    child.once('exit', code =>
      reject(new Error(`ecebot ${args.join(' ')} exited ${code} before printing: ${err}`)),
    );
  });
}
