/**
 * Benchmarks of the Teams bot as deployed: `ecebot serve` in its own process, in local mode
 * (no MicrosoftAppId, so no token checks), against the inventory of an `ecebot lab` process,
 * with a fake Bot Connector in this process standing in for Teams (./fake-connector.ts):
 * - ack_ms_p50, ack_ms_p99: `check lab` from 50 conversations at once, from the POST to
 *   /api/messages until the running card reaches the connector;
 * - messages_per_s, messages_ms_p99: /api/messages under load (autocannon), each message
 *   answered with a card through the connector;
 * - rss_bot_mb: the serve process's resident set size right after that load;
 * - fanout_500_s: one alert to 500 subscribed conversations through the real alert path (the
 *   AlertPipeline queues on the Redis outbox, the serve process's outbox worker sends through
 *   the bot's TeamsNotifier) to a connector that enforces Teams' rate limits.
 * BENCH_LOAD_SECONDS shortens the load (default 30 s); BENCH_CPU_PROF=DIR writes a CPU profile
 * of each serve process into DIR (`node --cpu-prof`).
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import type { Finding, Run } from '../src/model';
import type { LabInfo } from '../src/lab/index';
import { AlertPipeline } from '../src/notify/pipeline';
import { Outbox, PER_TENANT_PER_SECOND, sendSpacingMs } from '../src/notify/outbox';
import type { QueueConfig } from '../src/redis/connection';
import type { RunJobData } from '../src/queue/jobs';
import { RedisStore } from '../src/store/redis';
import { cleanup } from '../test/queue/support';
import { message, post } from '../test/teams/support/bot-client';
import { BenchConnector, TEAMS_LIMITS } from './fake-connector';
import {
  BENCH_REDIS_URL,
  cleanEnv,
  metric,
  percentile,
  rssMb,
  spawnEcebot,
  type Metric,
  type Spawned,
} from './measure';

const REDIS_URL = BENCH_REDIS_URL;

/** Conversations that send `check lab` at once, and how many times. */
const ACK_CONVERSATIONS = 50;
const ACK_ROUNDS = 3;
/** The load: its length, its concurrency, the command each message carries. */
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const LOAD_CONNECTIONS = 10;
const LOAD_COMMAND = 'envs';
/** Subscribed conversations an alert goes to. */
const FANOUT = 500;
/** The longest any phase may wait before it is given up (the bench stops by itself). */
const PHASE_LIMIT_MS = 60_000;

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Node options for the serve process: `node --cpu-prof` when BENCH_CPU_PROF names a folder, and
 * BENCH_SERVE_NODE_ARGS (e.g. `--max-old-space-size=128`) to measure a heap cap an operator
 * might set with NODE_OPTIONS, on the bot alone.
 */
function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const extra = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), ...extra];
}

/**
 * The bot's rate limits at their highest (src/teams/rate-limit.ts): one bench client plays every
 * user of every conversation, and with the defaults (5 runs a user, 30 messages a conversation,
 * a minute) most of the load below would be answered by the refusal card instead of the command.
 */
const BENCH_LIMITS = {
  ECEBOT_RUNS_PER_USER_PER_MINUTE: '10000',
  ECEBOT_MESSAGES_PER_CONVERSATION_PER_MINUTE: '10000',
};

async function startServe(inventory: string, env: NodeJS.ProcessEnv, ready: RegExp) {
  const s = await spawnEcebot(
    ['serve', '--config', inventory, '--port', '0'],
    ready,
    cleanEnv({ ...BENCH_LIMITS, ...env }),
    profileArgs(),
  );
  const url = s.lines.map(l => /listening on (http:\/\/\S+)/.exec(l)?.[1]).find(Boolean);
  if (!url) throw new Error(`ecebot serve printed no URL: ${s.lines.join('\n')}`);
  return { ...s, url };
}

/** Finished runs the bot counted (`ecebot_runs_total` on /metrics). */
async function runsFinished(botUrl: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', botUrl))).text();
  let n = 0;
  for (const m of text.matchAll(/^ecebot_runs_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

async function until(what: string, fn: () => Promise<boolean> | boolean, limitMs = PHASE_LIMIT_MS) {
  const end = Date.now() + limitMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`bench: ${what} within ${limitMs / 1000} s`);
    await sleep(50);
  }
}

/** Run `fn` over `items` with at most `width` at a time. */
async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Post `check lab` in a conversation; resolves to ms until its running card reached the fake. */
async function checkLab(botUrl: string, fake: BenchConnector, conversationId: string) {
  const activity = message(fake.url, { conversationId }, 'check lab');
  const card = new Promise<{ at: number; body: string }>(r => fake.watch(conversationId, r));
  const t0 = performance.now();
  const res = await post(botUrl, activity);
  if (res.status >= 300) throw new Error(`check lab answered HTTP ${res.status}`);
  const got = await card;
  // The running card: an Adaptive Card for a run of lab, not an error card.
  if (!/adaptive/.test(got.body) || !/lab-/.test(got.body))
    throw new Error(`check lab got no running card: ${got.body.slice(0, 300)}`);
  return got.at - t0;
}

/**
 * Run `fn`, then wait until the bot counted one more finished run and its cards were brought up
 * to date (no update reached the connector for 300 ms), so the next round starts from quiet.
 */
async function oneRun(
  botUrl: string,
  fake: BenchConnector,
  fn: () => Promise<unknown>,
): Promise<void> {
  const before = await runsFinished(botUrl);
  await fn();
  await until('the run of lab did not finish', async () => (await runsFinished(botUrl)) > before);
  let puts = -1;
  await until('the run cards were not updated', async () => {
    const quiet = fake.puts === puts;
    puts = fake.puts;
    if (!quiet) await sleep(300);
    return quiet;
  });
}

/** ack: `check lab` from many conversations at once until each running card is posted. */
async function benchAck(botUrl: string, fake: BenchConnector): Promise<Metric[]> {
  // One check first, untimed: the process's first run loads the probes' modules and compiles
  // their code once; that is start-up, not what 50 conversations at once cost.
  await oneRun(botUrl, fake, () => checkLab(botUrl, fake, 'a:bench-ack-warm'));
  const load = loadavg()[0]!.toFixed(1);
  const acks: number[] = [];
  for (let round = 0; round < ACK_ROUNDS; round++)
    // The 50 requests share one run (runs in flight are joined); it finishes before the next
    // round, so each round starts a run of its own.
    await oneRun(botUrl, fake, () =>
      Promise.all(
        Array.from({ length: ACK_CONVERSATIONS }, async (_, i) =>
          acks.push(await checkLab(botUrl, fake, `a:bench-ack-${round}-${i}`)),
        ),
      ),
    );
  const how = `${ACK_ROUNDS} rounds of ${ACK_CONVERSATIONS} conversations posting "check lab" at once to ecebot serve (its own process, local mode without Redis: the run happens in that process, against an ecebot lab process; one run of an environment at a time, so the conversations join the round's run; the bot's rate limits raised to 10000 a minute); time from the POST until the running card's POST reached the fake connector in this process; ${acks.length} samples, after one untimed check, each round once the previous run and its card updates were done; 1-min load average ${load} on ${cpus().length} cores (other work on the machine included)`;
  return [
    metric('ack_ms_p50', percentile(acks, 50), 'ms', { op: '<=', target: 1000 }, how),
    metric('ack_ms_p99', percentile(acks, 99), 'ms', { op: '<=', target: 1000 }, how),
  ];
}

/** messages: /api/messages under autocannon; then the serve process's RSS. */
async function benchMessages(botUrl: string, pid: number, fake: BenchConnector): Promise<Metric[]> {
  // Distinct activities (ids, 50 conversations), built beforehand so the client does no work.
  const bodies = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify(message(fake.url, { conversationId: `a:bench-load-${i % 50}` }, LOAD_COMMAND)),
  );
  let k = 0;
  const postsBefore = fake.posts;
  const load = loadavg()[0]!.toFixed(1);
  const result = await autocannon({
    url: botUrl,
    method: 'POST',
    connections: LOAD_CONNECTIONS,
    duration: LOAD_SECONDS,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: req => ({ ...req, body: bodies[k++ % bodies.length]! }) }],
  });
  const rss = rssMb(pid);
  const ok = result['2xx'];
  const cards = fake.posts - postsBefore;
  if (result.errors || result.timeouts || result.non2xx)
    throw new Error(
      `load: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`,
    );
  // Each message is answered with one card before the bot answers the POST.
  if (cards < ok) throw new Error(`load: ${ok} messages answered but ${cards} cards posted`);
  const seconds = result.duration;
  const how = `autocannon, ${LOAD_CONNECTIONS} keep-alive connections for ${LOAD_SECONDS} s, POSTing "${LOAD_COMMAND}" messages (Teams-shaped activities from 50 conversations) to ecebot serve in local mode without Redis, its rate limits raised to 10000 a minute; each is answered with the environments card through the fake connector before the POST completes (${ok} messages, ${cards} cards); 1-min load average ${load} on ${cpus().length} cores (other work on the machine included)`;
  return [
    metric('messages_per_s', ok / seconds, 'msg/s', { op: '>=', target: 1000 }, how),
    metric('messages_ms_p99', result.latency.p99, 'ms', { op: '<=', target: 50 }, how),
    metric(
      'rss_bot_mb',
      rss,
      'MB',
      { op: '<=', target: 150 },
      `VmRSS of the ecebot serve process (/proc/<pid>/status) right after the ${LOAD_SECONDS} s messages load above, which followed the ack rounds`,
    ),
  ];
}

/** A scheduled run of lab in which the network item fails. */
function failingRun(n: number): Run {
  const at = new Date(Date.now() - (2 - n) * 60_000).toISOString();
  const finding: Finding = {
    item: 'network',
    title: 'Network, URLs, ports',
    status: 'fail',
    summary: 'outlook.office365.com:993 refused from services-1',
    code: 'CONNECT_REFUSED',
    codes: ['CONNECT_REFUSED'],
    evidence: [],
    remediation: [],
    failedOn: ['services-1'],
    vantages: ['services-1'],
    durationMs: 12,
  };
  return {
    id: `lab-bench-${n}-${randomBytes(3).toString('hex')}`,
    environment: 'lab',
    startedAt: at,
    finishedAt: at,
    status: 'fail',
    ece: {},
    findings: [finding],
  };
}

function scheduled(run: Run): { data: RunJobData; observations: [] } {
  return {
    data: {
      runId: run.id,
      environment: run.environment,
      items: ['network'],
      reason: 'schedule',
      submittedAt: run.startedAt,
      missing: {},
      vantages: ['services-1'],
      inFlightKey: 'lab|network',
    },
    observations: [],
  };
}

/** fanout: one alert to 500 subscribed conversations, Teams' limits enforced. */
async function benchFanout(inventory: string, fake: BenchConnector): Promise<Metric[]> {
  const queue: QueueConfig = { url: REDIS_URL, prefix: `bench${randomBytes(5).toString('hex')}` };
  let serve: Awaited<ReturnType<typeof startServe>> | undefined;
  let store: RedisStore | undefined;
  let outbox: Outbox | undefined;
  let pipeline: AlertPipeline | undefined;
  try {
    serve = await startServe(
      inventory,
      {
        REDIS_URL: queue.url,
        ECEBOT_QUEUE_PREFIX: queue.prefix,
        ECEBOT_SECRET_KEY: randomBytes(32).toString('base64'),
      },
      /queue at /,
    );
    const url = serve.url;
    // 500 conversations subscribe the way people do: `subscribe lab` in each.
    const conversations = Array.from({ length: FANOUT }, (_, i) => `a:bench-fan-${i}`);
    await pool(conversations, 20, async conversationId => {
      const res = await post(url, message(fake.url, { conversationId }, 'subscribe lab'));
      if (res.status >= 300) throw new Error(`subscribe lab answered HTTP ${res.status}`);
    });
    store = new RedisStore({ queue, secrets: undefined });
    const subscribed = await store.subscribers('lab');
    if (subscribed.length !== FANOUT)
      throw new Error(`fanout: ${subscribed.length} subscribers instead of ${FANOUT}`);

    fake.reset();
    fake.limits = TEAMS_LIMITS;
    fake.countPerConversation = true;
    outbox = new Outbox({ queue });
    pipeline = new AlertPipeline({ queue, store, outbox });
    // Connected before the clock starts (producer connections do not queue commands offline).
    await pipeline.state('lab');
    // The first failing scheduled run only counts; the second one alerts (threshold 2).
    const first = failingRun(1);
    await pipeline.afterRun(first, scheduled(first));
    const second = failingRun(2);
    const load = loadavg()[0]!.toFixed(1);
    const t0 = performance.now();
    await pipeline.afterRun(second, scheduled(second));
    let seconds = NaN;
    try {
      await until(
        'the alert did not reach every conversation',
        () => fake.postsByConversation.size >= FANOUT,
      );
      seconds = (performance.now() - t0) / 1000;
    } catch {
      // Reported below as lost.
    }
    // Anything still queued would be a duplicate or a late send: wait until the outbox is empty.
    const o = outbox;
    await until('the outbox did not empty', async () => (await o.pending()) === 0, 10_000).catch(
      () => undefined,
    );
    await sleep(500);
    const delivered = fake.postsByConversation.size;
    const lost = FANOUT - delivered;
    let duplicates = 0;
    for (const n of fake.postsByConversation.values()) duplicates += n - 1;
    const refused = fake.refused;
    const m = metric(
      'fanout_500_s',
      Number.isNaN(seconds) ? PHASE_LIMIT_MS / 1000 : seconds,
      's',
      { op: '<=', target: 30 },
      `an alert (2nd failing scheduled run of lab) to ${FANOUT} conversations subscribed with "subscribe lab": AlertPipeline.afterRun in this process queues on the Redis outbox (random prefix, removed afterwards), the outbox worker of ecebot serve (own process, local mode, Redis) sends through the bot's TeamsNotifier to a fake connector enforcing Teams' limits (per conversation 7/1 s, 8/2 s, 60/30 s, 1800/h; ${TEAMS_LIMITS.globalPerSecond}/s global, 429 with Retry-After beyond); time from the decision until the last conversation got it; outbox sends one at a time, ${sendSpacingMs(PER_TENANT_PER_SECOND)} ms apart (${PER_TENANT_PER_SECOND}/s less 5%); ${delivered} delivered, ${lost} lost, ${duplicates} duplicates, ${refused} answered 429; 1-min load average ${load} on ${cpus().length} cores (other work on the machine included)`,
    );
    return [{ ...m, met: m.met && lost === 0 && duplicates === 0 }];
  } finally {
    fake.limits = undefined;
    fake.countPerConversation = false;
    await pipeline?.close();
    await outbox?.close();
    await store?.close();
    await serve?.stop();
    await cleanup(queue);
  }
}

export async function benchBot(): Promise<Metric[]> {
  const out: Metric[] = [];
  const fake = await BenchConnector.start();
  let lab: Spawned | undefined;
  let serve: Awaited<ReturnType<typeof startServe>> | undefined;
  try {
    lab = await spawnEcebot(['lab', '--json', '--scenario', 'healthy'], /^\{/, cleanEnv({}));
    const info = JSON.parse(lab.line) as LabInfo;
    serve = await startServe(info.inventory, {}, /listening on /);
    out.push(...(await benchAck(serve.url, fake)));
    out.push(...(await benchMessages(serve.url, serve.child.pid!, fake)));
    await serve.stop();
    serve = undefined;
    out.push(...(await benchFanout(info.inventory, fake)));
  } finally {
    await serve?.stop();
    await lab?.stop();
    await fake.close();
  }
  return out;
}
