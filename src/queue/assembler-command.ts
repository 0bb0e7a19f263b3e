/**
 * `ecebot assembler [--config FILE]`: assemble queued runs where no bot runs (the CLI and
 * schedules-free deployments). Needs REDIS_URL and the full inventory: it judges the runs of
 * every environment, as the bot would, saves them in the Redis store (history), and runs the
 * watchdog that gives up on absent workers. It sends no Teams cards or alerts (that is the
 * bot's). `ecebot serve` assembles by itself; running both is fine (each run is assembled once).
 * Prints one line when it takes runs; SIGTERM or SIGINT stops it after the runs in hand.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { InputError } from '../inventory/errors';
import { findInventoryPath } from '../inventory/load';
import { RedisStore } from '../store/redis';
import { recordingRuns, RedisItemHistory, retentionFrom } from '../store/item-history';
import { logRedaction } from '../util/log-redact';
import { cachedInventory } from '../inventory/cache';
import { Assembler } from './assembler';
import { describeUrl, positiveMsFrom, queueConfigFrom } from '../redis/connection';
import { RUNS_QUEUE } from './names';

/** What the CLI hands the command (its Io, trimmed to what is used). */
export interface AssemblerIo {
  out: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const USAGE = 'run: ecebot assembler [--config FILE]';

export async function runAssemblerCommand(
  argv: string[],
  io: AssemblerIo,
  deps: { waitForSignal: () => Promise<NodeJS.Signals> },
): Promise<number> {
  let values: { config?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    throw new InputError(`assembler: ${(err as Error).message}`, USAGE);
  }
  if (positionals.length)
    throw new InputError(`assembler takes no arguments, got: ${positionals.join(' ')}`, USAGE);
  const queue = queueConfigFrom(io.env);
  if (!queue)
    throw new InputError(
      'assembler needs REDIS_URL (the queue the CLI, the workers and the bot share)',
      'set REDIS_URL=redis://HOST:6379',
    );
  const path = findInventoryPath(values.config, io.env, io.cwd);
  // Parsed again only when the inventory changes on disk, so a new environment applies without
  // a restart; read once now so a bad inventory stops the assembler at start.
  const inventory = cachedInventory(path);
  const environments = [...inventory().environments.keys()];
  // pino JSON on stderr, with the bot's redaction; synchronous, so nothing is lost at exit.
  const log = pino(
    { name: 'ecebot-assembler', redact: logRedaction() },
    pino.destination({ dest: 2, sync: true }),
  );
  // Runs assembled here leave their marks in the per-item history too (docs/history.md).
  const itemHistory = new RedisItemHistory(queue, retentionFrom(io.env));
  const store = recordingRuns(new RedisStore({ queue, vars: io.env }), itemHistory, (err, run) =>
    log.warn({ err, runId: run.id }, 'recording the run in history failed'),
  );
  const deadline = positiveMsFrom(io.env, 'ECEBOT_WORKER_DEADLINE_MS');
  const heartbeat = positiveMsFrom(io.env, 'ECEBOT_HEARTBEAT_MS');
  const assembler = new Assembler({
    queue,
    inventory,
    vars: io.env,
    store,
    log,
    ...(deadline ? { workerDeadlineMs: deadline } : {}),
    ...(heartbeat ? { heartbeatMs: heartbeat } : {}),
  });
  // Listen before saying "ready": a SIGTERM right after the line must reach this handler.
  const stopped = deps.waitForSignal();
  await assembler.ready();
  io.out(
    `ecebot assembler ready: queue ${queue.prefix}:${RUNS_QUEUE} on ${describeUrl(queue.url)}; inventory ${path} (${environments.join(', ')})`,
  );
  const signal = await stopped;
  io.out(`ecebot assembler: ${signal}, finishing runs in hand`);
  await assembler.close();
  await store.close();
  await itemHistory.close();
  return 0;
}
