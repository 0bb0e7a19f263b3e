/**
 * The Microsoft 365 Agents Playground (npm @microsoft/m365agentsplayground), started the way
 * playground-notes.md says it stays on loopback: the loopback guard preloaded (it binds
 * 127.0.0.1 and refuses any other connection), no browser opened (TEAMSAPPTESTER_BROWSER=none),
 * no telemetry (`--dt`) and no Application Insights statsbeat (APPLICATION_INSIGHTS_NO_STATSBEAT=1),
 * and a service URL on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');
const CLI = join(ROOT, 'node_modules', '@microsoft', 'm365agentsplayground', 'cli.js');

/** A running Playground. */
export interface Playground {
  port: number;
  /** `http://127.0.0.1:PORT` */
  base: string;
  /** Its log file (it writes nothing else when stdout is not a terminal). */
  logFile: string;
  /** The log so far (empty when none was written yet). */
  log(): string;
  /** What the process wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Start the Playground in front of a bot endpoint; resolves once it answers /_debug/ping. */
export async function startPlayground(botUrl: string): Promise<Playground> {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-playground-'));
  const logFile = join(dir, 'playground.log');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-r',
      GUARD,
      CLI,
      '-e',
      botUrl,
      '-c',
      'msteams',
      '-p',
      String(port),
      '--su',
      `http://127.0.0.1:${port}/_connector`,
      '--dt',
    ],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        TEAMSAPPTESTER_BROWSER: 'none',
        APPLICATION_INSIGHTS_NO_STATSBEAT: '1',
        M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    const listening = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the Playground did not start:\n${out}\n${log()}`)),
        30_000,
      );
      const check = () => {
        const m = /Listening on (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', code => {
        clearTimeout(timer);
        reject(new Error(`the Playground exited with ${code}:\n${out}\n${log()}`));
      });
    });
    // It moves to a random port when the one asked for is taken; the service URL would be wrong.
    if (listening !== port) throw new Error(`the Playground took port ${listening}, not ${port}`);
    const base = `http://127.0.0.1:${port}`;
    const pong = await fetch(`${base}/_debug/ping`).then(r => r.text());
    if (!pong.includes('pong')) throw new Error(`the Playground answered ${pong} to /_debug/ping`);
    return { port, base, logFile, log, output: () => out, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}
