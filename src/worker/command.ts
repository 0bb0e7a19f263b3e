/**
 * `ecebot worker --vantage ENV/SERVER [--config FILE]` (or `--vantage central`): run this ECE
 * server's part of every run of its environment (./identity.ts).
 * Needs REDIS_URL. Prints one line when it takes jobs, then one line per part; SIGTERM or
 * SIGINT stops it after the parts in hand are done (BullMQ graceful close).
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { InputError } from '../inventory/errors';
import { findInventoryPath } from '../inventory/load';
import { describeUrl, positiveMsFrom, queueConfigFrom } from '../redis/connection';
import { vantagePrefix } from '../queue/names';
import type { Environment } from '../inventory/types';
import { RedisStore } from '../store/redis';
import { refreshTokenKeeper, storedRefreshTokens } from '../store/tokens';
import { logRedaction } from '../util/log-redact';
import { cachedInventory } from '../inventory/cache';
import { resolveWorkerVantage } from './identity';
import { VantageWorker } from './vantage-worker';

/** What the CLI hands the command (its Io, trimmed to what is used). */
export interface WorkerIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export async function runWorkerCommand(
  argv: string[],
  io: WorkerIo,
  deps: { waitForSignal: () => Promise<NodeJS.Signals> },
): Promise<number> {
  let values: { vantage?: string; config?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { vantage: { type: 'string' }, config: { type: 'string', short: 'c' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    throw new InputError(
      `worker: ${(err as Error).message}`,
      'run: ecebot worker --vantage ENV/SERVER',
    );
  }
  if (positionals.length)
    throw new InputError(
      `worker takes no arguments, got: ${positionals.join(' ')}`,
      'use --vantage ENV/SERVER',
    );
  const vantage = values.vantage?.trim();
  if (!vantage)
    throw new InputError(
      'worker needs --vantage ENV/SERVER: the environment and inventory name of this ECE server, or central',
      'run: ecebot worker --vantage prod/services-1',
    );
  const queue = queueConfigFrom(io.env);
  if (!queue)
    throw new InputError(
      'worker needs REDIS_URL (the queue the bot and the other workers share)',
      'set REDIS_URL=redis://HOST:6379',
    );
  const path = findInventoryPath(values.config, io.env, io.cwd);
  // Parsed again only when the inventory changes on disk, so edits apply without a restart.
  const inventory = cachedInventory(path);
  // Read once now so a bad inventory or an unknown vantage stops the worker at start.
  const inv = inventory();
  // An unknown or ambiguous --vantage stops here, before anything connects.
  const serves = resolveWorkerVantage(inv, vantage, path);
  const lockMs = positiveMsFrom(io.env, 'ECEBOT_WORKER_LOCK_MS');
  const heartbeatMs = positiveMsFrom(io.env, 'ECEBOT_HEARTBEAT_MS');
  // Sealed refresh tokens from Teams sign-ins need the same key the bot sealed them with.
  const store = io.env.ECEBOT_SECRET_KEY ? new RedisStore({ queue, vars: io.env }) : undefined;
  // Errors as pino JSON on stderr, with the same redaction as the bot: a connection or HTTP
  // error can carry the request it failed on. Synchronous, so nothing is lost at exit.
  const errors = pino(
    { name: 'ecebot-worker', redact: logRedaction() },
    pino.destination({ dest: 2, sync: true }),
  );
  const worker = new VantageWorker({
    vantage: serves.id,
    queue,
    ...(store
      ? {
          storedTokens: (env: Environment) => storedRefreshTokens(store, env),
          keepTokens: refreshTokenKeeper(store, errors),
        }
      : {}),
    inventory,
    vars: io.env,
    ...(lockMs ? { lockMs } : {}),
    ...(heartbeatMs ? { heartbeatMs } : {}),
    log: line => io.out(line),
    onError: (err, context) =>
      errors.error({ err, ...context }, context.runId ? 'part failed' : 'worker error'),
  });
  // Listen before saying "ready": a SIGTERM that follows the line at once must reach this
  // handler, not Node's default one, which would end the process without closing anything.
  const stopped = deps.waitForSignal();
  await worker.start();
  io.out(
    `ecebot worker ${serves.id} ready: queue ${vantagePrefix(queue.prefix)}:${serves.id} on ${describeUrl(queue.url)}`,
  );
  const signal = await stopped;
  io.out(`ecebot worker ${serves.id}: ${signal}, finishing parts in hand`);
  await worker.close();
  await store?.close();
  return 0;
}
