/**
 * The `ecebot` command. Exit codes: 0 nothing failed, 1 an item failed or errored (or a probe
 * did not end OK), 2 bad input (nothing ran).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { itemIds } from './checklist/items';
import type { Io } from './cli/io';
import { asksForHelp, COMMAND_NAMES, unknownOption, USAGES } from './cli/synopsis';
import type { ItemId, Run } from './model';
import { InputError } from './inventory/errors';
import {
  findInventoryPath,
  loadInventory,
  pickEnvironment,
  suggest,
  type Inventory,
} from './inventory/load';
import { parseFault, type Fault } from './lab/faults';
import { parseLatency } from './lab/latency';
import { DEMO_SCENARIOS, pickScenarios, SCENARIOS } from './lab/scenarios';
import {
  describeUrl,
  queueConfigFrom,
  QueueUnavailableError,
  type QueueConfig,
} from './redis/config';
import { DEFAULT_WORKER_DEADLINE_MS } from './queue/jobs';
import type { QueueLog } from './queue/log';
import { NoAssemblerError } from './queue/no-assembler';
import { SecretKeyError } from './store/crypto';
import { eceRefreshTokenKey, refreshTokenKey } from './store/tokens';
import { Redactor } from './util/redact';
import { VERSION } from './version';
import { waitForSignal } from './util/signals';

// Each command loads what it uses, at its dispatch below (types stay static): `check` without
// REDIS_URL never loads BullMQ, ioredis or pino, `worker` never loads the bot, `serve` never
// loads the lab. docs/performance.md lists what each dependency costs to load.
const runner = () => import('./runner/run');
const prepare = () => import('./runner/prepare');
const textRender = () => import('./render/text');

/** Where the CLI writes and reads; injectable so tests run it in-process. */
const defaultIo = (): Io => ({
  out: s => process.stdout.write(`${s}\n`),
  err: s => process.stderr.write(`${s}\n`),
  env: process.env,
  cwd: process.cwd(),
  isTTY: !!process.stdout.isTTY,
});

/** The usage text; the item list comes from the item declarations. */
const usage =
  (): string => `ecebot — checks Cisco ECE mail on Office 365 (OAuth2) against Cisco's troubleshooting checklist

Usage:
  ecebot check ENV [--config FILE] [--item ID]... [--json] [--details] [--local]
  ecebot worker --vantage ENV/SERVER|central [--config FILE]
  ecebot probe imap|pop3|smtp|tls|https --host H [--port N] [--user U] [--token T | --token-file F] [--ca FILE] [--json]
  ecebot lab [--scenario NAME[,NAME...]] [--fault VANTAGE:ENDPOINT:KIND[:MS]]... [--latency MS] [--json] [--dir DIR] [--list]
                      (--fault kinds: refuse, blackhole, slow, wrong-cert, expired-cert, trickle, garbage,
                       huge-list [imap], huge-greeting [smtp]; MS goes with slow and trickle)
  ecebot demo [--out DIR] [--json]
  ecebot serve [--config FILE] [--port N]    (the Teams bot; MicrosoftAppId etc. from the environment)
  ecebot assembler [--config FILE]           (assembles queued runs where no bot runs; needs REDIS_URL)
  ecebot token delete ENV MAILBOX            (removes ecebot's kept refresh tokens of a mailbox; needs REDIS_URL)
  ecebot bundle RUN_ID [--out FILE] [--force] (a stored run's support bundle, redacted; needs REDIS_URL)
  ecebot history ENV [--item ID] [--since 7d] [--json|--csv]  (recorded runs and uptime; needs REDIS_URL)
  ecebot help [COMMAND] | ecebot COMMAND --help | ecebot version

Exit codes: 0 nothing failed, 1 an item failed or errored, 2 bad input (nothing ran).
Inventory: --config FILE or folder, else $ECEBOT_CONFIG, else ./ecebot.yaml. See examples/inventory.yaml.
Queue: with $REDIS_URL set, check runs through the workers (one per ECE server, plus central) and
is assembled by \`ecebot serve\` or \`ecebot assembler\` (either must be running, with the full
inventory); without one, check gives up after $ECEBOT_WORKER_DEADLINE_MS (default 30 s) and says so.
--local runs every vantage point in this process instead.
Items (--item): ${itemIds().join(', ')}.`;

function parse(argv: string[], options: ParseArgsConfig['options'], command: string) {
  try {
    return parseArgs({ args: argv, options: options ?? {}, allowPositionals: true, strict: true });
  } catch (err) {
    throw new InputError(
      `${command}: ${(err as Error).message}`,
      `run \`npx ecebot ${command} --help\` for its usage`,
    );
  }
}

async function printRun(io: Io, run: Run, json: boolean, details: boolean): Promise<number> {
  if (json) io.out(JSON.stringify(run));
  else {
    const { renderRunText } = await textRender();
    io.out(renderRunText(run, { color: io.isTTY && !io.env.NO_COLOR, details }));
  }
  return run.findings.some(f => f.status === 'fail' || f.status === 'error') ? 1 : 0;
}

async function check(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      config: { type: 'string', short: 'c' },
      item: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      details: { type: 'boolean' },
      local: { type: 'boolean' },
    },
    'check',
  );
  if (positionals.length !== 1) {
    throw new InputError(
      positionals.length
        ? `check takes one environment, got ${positionals.length}: ${positionals.join(' ')}`
        : 'check needs an environment name',
      'run: ecebot check ENV (ecebot check prod)',
    );
  }
  const path = findInventoryPath(values.config as string | undefined, io.env, io.cwd);
  const inv = loadInventory(path);
  const env = pickEnvironment(inv, positionals[0]!, path);
  const items = values.item as string[] | undefined;
  const { prepareRun } = await prepare();
  const prepared = prepareRun(env, inv, { ...(items ? { items } : {}), vars: io.env });
  const queue = values.local ? undefined : queueConfigFrom(io.env);
  const run = queue
    ? await checkThroughQueue(io, queue, inv, env.name, items ? prepared.items : undefined)
    : await (await runner()).runInProcess(prepared);
  return await printRun(io, run, !!values.json, !!values.details);
}

/**
 * `check` with REDIS_URL: submit to the queue (or join the run in flight) and wait for it,
 * through the run client only. The CLI never assembles: its inventory may hold one environment,
 * and an assembler here could take the bot's runs and fail them (src/queue/assembler.ts).
 */
async function checkThroughQueue(
  io: Io,
  queue: QueueConfig,
  inv: Inventory,
  environment: string,
  items: ItemId[] | undefined,
): Promise<Run> {
  const [{ workerDeadlineFrom }, { RunClient }] = await Promise.all([
    import('./queue/create'),
    import('./queue/run-client'),
  ]);
  const deadline = workerDeadlineFrom(io.env) ?? DEFAULT_WORKER_DEADLINE_MS;
  const client = new RunClient({
    queue,
    inventory: () => inv,
    vars: io.env,
    workerDeadlineMs: deadline,
    assemblerDeadlineMs: deadline,
    log: cliLog(io),
  });
  try {
    await client.ready();
    const handle = await client.submit({
      environment,
      ...(items ? { items } : {}),
      reason: 'cli',
    });
    io.err(
      handle.joined
        ? `ecebot: joined run ${handle.runId}, already in flight (queue at ${describeUrl(queue.url)})`
        : `ecebot: run ${handle.runId} queued (queue at ${describeUrl(queue.url)})`,
    );
    if (!(await client.assemblers()).live)
      io.err(
        `ecebot: no assembler is running (\`ecebot serve\` or \`ecebot assembler\`); waiting up to ${Math.round(deadline / 1000)} s for one`,
      );
    return await client.wait(handle.runId);
  } finally {
    await client.close();
  }
}

/**
 * The queue's warnings as CLI lines on stderr, redacted as unexpected errors are (a library's
 * error may quote a token-shaped value); progress details (info) are not the CLI's to print.
 */
function cliLog(io: Io): QueueLog {
  const line = (level: string) => (obj: object, msg?: string) => {
    const err = (obj as { err?: unknown }).err;
    const why = err instanceof Error ? `: ${err.message}` : '';
    io.err(new Redactor().text(`ecebot: ${level}: ${msg ?? 'queue'}${why}`));
  };
  return { info: () => undefined, warn: line('warning'), error: line('error') };
}

async function lab(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      scenario: { type: 'string', short: 's' },
      fault: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      dir: { type: 'string' },
      list: { type: 'boolean' },
      latency: { type: 'string' },
    },
    'lab',
  );
  if (positionals.length)
    throw new InputError(
      `lab takes no arguments, got: ${positionals.join(' ')}`,
      'use --scenario NAME',
    );
  if (values.list) {
    for (const s of SCENARIOS) io.out(`${s.name.padEnd(30)} ${s.description}`);
    return 0;
  }
  let scenarios;
  try {
    scenarios = pickScenarios(values.scenario as string | undefined, suggest);
  } catch (err) {
    throw new InputError((err as Error).message, 'list them with: ecebot lab --list');
  }
  // The lab's servers (and node-forge) load only for `lab` and `demo`: `serve` and `worker`,
  // which run for weeks, don't carry them (about 17 MB resident).
  const { LAB_VANTAGES, startLab } = await import('./lab/index');
  let faults: Fault[];
  try {
    faults = ((values.fault as string[] | undefined) ?? []).map(f => parseFault(f, LAB_VANTAGES));
  } catch (err) {
    throw new InputError(
      (err as Error).message,
      'for example: ecebot lab --fault app-1:smtp:expired-cert',
    );
  }
  let latencyMs = 0;
  try {
    if (values.latency !== undefined) latencyMs = parseLatency(values.latency as string);
  } catch (err) {
    throw new InputError((err as Error).message, 'for example: ecebot lab --latency 25ms');
  }
  const l = await startLab({
    scenarios,
    faults,
    ...(latencyMs ? { latencyMs } : {}),
    ...(values.dir ? { dir: resolve(io.cwd, values.dir as string) } : {}),
    // The lab's ECE refreshes its tokens hourly, as ECE does when its access token runs out
    // (60–90 minutes, o365-facts.md §2.5), so Entra's sign-in log shows it at work.
    eceRetriever: { everyMinutes: 60 },
  });
  if (values.json) {
    io.out(JSON.stringify(l.info));
  } else {
    io.out(`ecebot lab running (scenario: ${l.info.scenarios.join(', ')}) — Ctrl-C stops it`);
    for (const [k, v] of Object.entries(l.info.endpoints))
      io.out(`  ${k.padEnd(6)} ${v.host}:${v.port} -> 127.0.0.1`);
    io.out(`  CA        ${l.info.ca}`);
    io.out(`  inventory ${l.info.inventory}`);
    for (const b of l.info.breaks)
      io.out(
        `  breaks    ${b.scenario}: ${b.description}${b.code ? ` (expect ${b.item} ${b.status} ${b.code})` : ''}`,
      );
    io.out('');
    io.out(`Try: npx ecebot check lab --config ${l.info.inventory}`);
    // A ready probe of the lab's IMAP with a mailbox's token, kept in a file in the lab's own
    // folder (removed with it) so it shows in no process list. The lab listens on its own
    // port for what Office 365 serves on 993.
    const [mailbox, token] = Object.entries(l.info.tokens)[0] ?? [];
    if (mailbox && token) {
      const tokenFile = join(dirname(l.info.inventory), `token-${mailbox}.txt`);
      writeFileSync(tokenFile, token, { mode: 0o600 });
      const imap = l.info.endpoints.imap;
      io.out(
        `     npx ecebot probe imap --host ${imap.host} --port ${imap.port} --resolve ${imap.host}=127.0.0.1 --ca ${l.info.ca} --user ${mailbox} --token-file ${tokenFile}`,
      );
      io.out(`     (the lab's port ${imap.port} stands for Office 365's IMAP port 993)`);
      // The same login with curl, an independent client (RFC 7628 XOAUTH2 via --oauth2-bearer).
      io.out(
        `     curl --cacert ${l.info.ca} --resolve ${imap.host}:${imap.port}:127.0.0.1 --user ${mailbox}: --oauth2-bearer "$(cat ${tokenFile})" imaps://${imap.host}:${imap.port}/`,
      );
    }
  }
  await waitForSignal();
  await l.stop();
  return 0;
}

async function demo(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' }, json: { type: 'boolean' } }, 'demo');
  const scenarios = pickScenarios(DEMO_SCENARIOS.join(','), suggest);
  const { startLab } = await import('./lab/index');
  // With --json, stdout carries the run alone; what the demo says goes to stderr.
  const say = values.json ? io.err : io.out;
  say(
    `Starting the lab with: ${DEMO_SCENARIOS.join(', ')} (simulated Office 365 on 127.0.0.1; no credentials, no network)`,
  );
  const l = await startLab({ scenarios });
  try {
    const inv = loadInventory(l.info.inventory);
    const env = pickEnvironment(inv, 'lab', l.info.inventory);
    const [{ prepareRun }, { runInProcess }, { renderRunText }] = await Promise.all([
      prepare(),
      runner(),
      textRender(),
    ]);
    const run = await runInProcess(prepareRun(env, inv, { vars: io.env }));
    say('');
    if (values.json) io.out(JSON.stringify(run));
    else io.out(renderRunText(run, { color: io.isTTY && !io.env.NO_COLOR }));
    const outDir = resolve(io.cwd, (values.out as string | undefined) ?? 'demo-output');
    mkdirSync(outDir, { recursive: true });
    const cardPath = join(outDir, 'run-card.json');
    // The card the bot posts for this run, built by the same function (titles, times in the
    // reader's locale, who asked). Loaded on demand: the card templating (adaptive-expressions)
    // adds ~14 MB to every worker.
    const { finishedRunCard } = await import('./teams/cards');
    const requestedBy = io.env.USER || io.env.USERNAME || 'ecebot demo';
    const card = finishedRunCard(run, { lang: 'en', requestedBy });
    writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
    writeFileSync(join(outDir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
    say('');
    say(
      `Adaptive Card written to ${cardPath} (the card the Teams bot posts; paste it into https://adaptivecards.io/designer to see it).`,
    );
    say(
      `Run it yourself: npx ecebot lab --scenario ${DEMO_SCENARIOS.join(',')}   (it prints the check and probe lines to try)`,
    );
    return 0;
  } finally {
    await l.stop();
  }
}

function unknownCommand(command: string): InputError {
  const close = suggest(command, COMMAND_NAMES);
  return new InputError(
    `unknown command ${JSON.stringify(command)}`,
    `${close ? `did you mean ${close}? ` : ''}commands: ${COMMAND_NAMES.join(', ')}`,
  );
}

/** `ecebot help CMD`: that command's synopsis. */
function helpFor(command: string, io: Io): number {
  const u = USAGES[command];
  if (!u) throw unknownCommand(command);
  io.out(u.synopsis);
  return 0;
}

/**
 * `token delete ENV MAILBOX`: forget the refresh tokens ecebot keeps for a mailbox (its own
 * sign-in token and its successor of ECE's grant, src/store/tokens.ts), e.g. after the mailbox
 * left or its grant was revoked. Needs no ECEBOT_SECRET_KEY (a token whose key was lost can be
 * deleted too) and never reads nor prints a token.
 */
async function token(argv: string[], io: Io): Promise<number> {
  const { positionals } = parse(argv, {}, 'token');
  const [verb, environment, mailbox, ...extra] = positionals;
  const how = 'run: ecebot token delete ENV MAILBOX (ecebot token delete prod support@example.com)';
  if (verb !== 'delete' || !environment || !mailbox || extra.length)
    throw new InputError(
      verb === 'delete'
        ? 'token delete takes an environment and a mailbox'
        : 'token: the only action is delete',
      how,
    );
  // The inventory's own rules for names and addresses (src/inventory/schema.ts).
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(environment))
    throw new InputError(
      `token delete: ${JSON.stringify(environment)} is not an environment name`,
      how,
    );
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mailbox))
    throw new InputError(`token delete: ${JSON.stringify(mailbox)} is not an email address`, how);
  const queue = queueConfigFrom(io.env);
  if (!queue)
    throw new InputError(
      'token delete needs REDIS_URL: kept tokens live in the Redis the bot and workers share',
      'set REDIS_URL=redis://HOST:6379',
    );
  const { RedisStore } = await import('./store/redis');
  const store = new RedisStore({ queue, secrets: undefined });
  try {
    await store.ready();
    const removed: string[] = [];
    if (await store.deleteSecret(refreshTokenKey(environment, mailbox)))
      removed.push('sign-in token');
    if (await store.deleteSecret(eceRefreshTokenKey(environment, mailbox)))
      removed.push("kept successor of ECE's grant");
    const where = `${mailbox.toLowerCase()} in ${environment}`;
    io.out(
      removed.length
        ? `ecebot: deleted the ${removed.join(' and the ')} of ${where}`
        : `ecebot: no kept token for ${where}; nothing deleted`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** Run the CLI; resolves to the exit code. */
export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command && command !== 'help' && USAGES[command]) {
      if (asksForHelp(rest)) {
        io.out(USAGES[command].synopsis);
        return 0;
      }
      const bad = unknownOption(command, rest);
      if (bad) {
        io.err(
          `ecebot: ${command}: unknown option ${bad.option}${bad.closest ? ` (did you mean ${bad.closest}?)` : ''}`,
        );
        io.err('');
        io.err(USAGES[command].synopsis);
        return 2;
      }
    }
    switch (command) {
      case 'check':
        return await check(rest, io);
      case 'probe':
        return await (await import('./cli/probe-command')).runProbeCommand(rest, io);
      case 'worker':
        return await (
          await import('./worker/command')
        ).runWorkerCommand(rest, io, {
          waitForSignal,
        });
      case 'lab':
        return await lab(rest, io);
      case 'demo':
        return await demo(rest, io);
      case 'assembler':
        return await (
          await import('./queue/assembler-command')
        ).runAssemblerCommand(rest, io, {
          waitForSignal,
        });
      case 'token':
        return await token(rest, io);
      case 'bundle':
        return await (await import('./cli/bundle-command')).runBundleCommand(rest, io);
      case 'history':
        return await (await import('./history/cli-command')).runHistoryCommand(rest, io);
      case 'serve':
        // Loaded on demand: botbuilder and restify are only needed by the bot.
        return await (await import('./teams/serve')).runServe(rest, io);
      case 'version':
      case '--version':
        io.out(VERSION);
        return 0;
      case 'help':
        if (rest[0] && rest[0] !== 'help') return helpFor(rest[0], io);
        io.out(usage());
        return 0;
      case undefined:
      case '--help':
      case '-h':
        io.out(usage());
        return command === undefined ? 2 : 0;
      default:
        throw unknownCommand(command);
    }
  } catch (err) {
    if (err instanceof InputError) {
      io.err(`ecebot: ${err.describe()}`);
      return 2;
    }
    // A missing or malformed ECEBOT_SECRET_KEY(_OLD) is bad input: its message names the
    // variable, the entry and the fix, never the value.
    if (err instanceof SecretKeyError) {
      io.err(`ecebot: ${err.message}`);
      return 2;
    }
    if (err instanceof QueueUnavailableError || err instanceof NoAssemblerError) {
      io.err(`ecebot: ${err.message}`);
      return 1;
    }
    // Redacted: an unexpected error may quote a token-shaped value from deep inside a library.
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.err(new Redactor().text(`ecebot: unexpected error: ${text}`));
    return 1;
  }
}

export type { Io };
