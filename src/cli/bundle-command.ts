/**
 * `ecebot bundle RUN_ID [--out FILE] [--force] [--config FILE]`: the support bundle of a stored
 * run (src/bundle/bundle.ts) as a zip file. Runs are kept in the Redis the bot and workers
 * share, so the command needs REDIS_URL; the inventory gives the environment's part. The file
 * is created only when it does not exist yet (`--force` replaces it), readable by its owner
 * alone, and nothing is written when anything is wrong.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildBundle,
  bundleFileName,
  knownSecretsOf,
  parseRunId,
  storedRun,
} from '../bundle/bundle';
import { InputError } from '../inventory/errors';
import { findInventoryPath, loadInventory } from '../inventory/load';
import { queueConfigFrom } from '../redis/connection';
import { RedisStore } from '../store/redis';
import type { Io } from './io';

const HOW =
  'run: ecebot bundle RUN_ID [--out FILE] [--force] (the run id is on the run card and in check --json)';

/** Run the command; resolves to the exit code. */
export async function runBundleCommand(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', short: 'o' },
        force: { type: 'boolean' },
        config: { type: 'string', short: 'c' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new InputError(`bundle: ${(err as Error).message}`, HOW);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new InputError(
      positionals.length
        ? `bundle takes one run id, got ${positionals.length}`
        : 'bundle needs a run id',
      HOW,
    );
  const raw = positionals[0]!;
  const id = parseRunId(raw);
  if (!id)
    throw new InputError(
      `bundle: ${JSON.stringify(raw.slice(0, 80))} is not a run id (ENV-YYYYMMDDHHMMSS-XXXX, like prod-20261203091500-0a1b)`,
      HOW,
    );
  const out = resolve(io.cwd, values.out ?? bundleFileName(id.runId));
  if (!values.force && existsSync(out))
    throw new InputError(
      `bundle: ${out} exists`,
      'add --force to replace it, or --out another file',
    );
  const queue = queueConfigFrom(io.env);
  if (!queue)
    throw new InputError(
      'bundle needs REDIS_URL: runs are kept in the Redis the bot and workers share',
      'set REDIS_URL=redis://HOST:6379 (and ECEBOT_QUEUE_PREFIX if the bot uses one)',
    );
  const invPath = findInventoryPath(values.config, io.env, io.cwd);
  const inv = loadInventory(invPath);
  const store = new RedisStore({ queue, vars: io.env });
  try {
    await store.ready();
    const run = await storedRun(store, id.runId);
    if (!run)
      throw new InputError(
        `bundle: no run ${id.runId} is stored (runs are kept 30 days, the newest 50 per environment)`,
        'check the id on the run card, or run the check again',
      );
    const env = inv.environments.get(run.environment);
    if (!env)
      io.err(
        `ecebot: environment ${run.environment} is not in ${invPath}; the bundle leaves out its inventory and facts`,
      );
    const bundle = buildBundle({
      run,
      env,
      knownSecrets: env ? await knownSecretsOf(env, inv, io.env, store) : [],
      createdAt: new Date(),
    });
    try {
      // `wx`: created only when absent, so an earlier bundle (or any other file) is never
      // replaced by accident; 0600: a support file is its owner's.
      writeFileSync(out, bundle.bytes, { flag: values.force ? 'w' : 'wx', mode: 0o600 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new InputError(
          `bundle: ${out} exists`,
          'add --force to replace it, or --out another file',
        );
      throw new InputError(
        `bundle: cannot write ${out} (${code ?? 'error'})`,
        'give --out a file in a folder you can write to',
      );
    }
    const counts = Object.entries(bundle.manifest.redacted)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    io.out(
      `ecebot: wrote ${out} (${bundle.manifest.files.length + 1} files, ${bundle.bytes.length} bytes; redacted: ${counts || 'nothing'})`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
