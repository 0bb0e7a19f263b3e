/**
 * Operations of the bot beyond the endpoint shapes (health.test.ts):
 *
 * - log redaction: the real path list (src/util/log-redact.ts) through real pino, fed the shapes
 *   secrets reach a log in;
 * - `/metrics` values after a failing run: runs by status, item failures by code and the probe
 *   duration histogram's buckets, computed from the run itself;
 * - `ecebot serve` on a private redis-server: `/readyz` 503 without workers, 200 with them, 503
 *   once Redis stops while `/healthz` stays 200; the queue depth counts a run waiting for its
 *   workers; SIGTERM with Redis down still exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { Run } from '../../src/model';
import { loadInventory, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { QueueConfig } from '../../src/redis/connection';
import { keys, vantageId } from '../../src/queue/names';
import type { EmbeddedRunService } from '../../src/teams/run-service';
import type { BotServer } from '../../src/teams/server';
import { logRedaction, REDACT_CENSOR } from '../../src/util/log-redact';
import { beat } from '../../src/queue/heartbeat';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { BIN, freePort, ROOT, startRedis, stopRedis, until, workerEnv } from '../queue/support';
import { cardTexts } from './support/adaptive';
import { message, post } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import { cardOf, FakeConnector } from './support/fake-connector';

describe('log redaction', () => {
  /** A pino logger with the real redaction, writing its JSON lines into `lines`. */
  function recorder() {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    return { log: pino({ name: 'ecebot', redact: logRedaction() }, sink), lines };
  }

  // Distinct values, so a leak names which path let it through.
  const secret = (what: string) => `S3CR3T-${what}-${randomBytes(4).toString('hex')}`;

  test('tokens, client secrets and authorization headers are censored; the rest is kept', () => {
    const { log, lines } = recorder();
    const s = {
      auth: secret('auth'),
      authUpper: secret('authUpper'),
      reqAuth: secret('reqAuth'),
      cookie: secret('cookie'),
      access: secret('access'),
      refresh: secret('refresh'),
      client: secret('client'),
      nestedAccess: secret('nestedAccess'),
      wireAccess: secret('wireAccess'),
      wireRefresh: secret('wireRefresh'),
      wireClient: secret('wireClient'),
    };
    log.info({ headers: { authorization: `Bearer ${s.auth}`, accept: 'application/json' } }, 'a');
    log.info({ headers: { Authorization: `Bearer ${s.authUpper}` } }, 'b');
    log.info(
      {
        req: {
          method: 'POST',
          headers: { authorization: `Bearer ${s.reqAuth}`, cookie: s.cookie },
        },
      },
      'c',
    );
    log.info(
      { accessToken: s.access, refreshToken: s.refresh, clientSecret: s.client, mailbox: 'ece@x' },
      'd',
    );
    log.info({ token: { accessToken: s.nestedAccess, expiresOn: 42 } }, 'e');
    log.info(
      {
        body: {
          access_token: s.wireAccess,
          refresh_token: s.wireRefresh,
          client_secret: s.wireClient,
        },
      },
      'f',
    );
    const text = lines.join('\n');
    for (const [name, value] of Object.entries(s))
      expect({ name, leaked: text.includes(value) }).toEqual({ name, leaked: false });
    const parsed = lines.map(l => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(parsed[0]!.headers).toEqual({
      authorization: REDACT_CENSOR,
      accept: 'application/json',
    });
    expect(parsed[1]!.headers!.Authorization).toBe(REDACT_CENSOR);
    expect(parsed[2]!.req).toEqual({
      method: 'POST',
      headers: { authorization: REDACT_CENSOR, cookie: REDACT_CENSOR },
    });
    expect(parsed[3]).toMatchObject({
      accessToken: REDACT_CENSOR,
      refreshToken: REDACT_CENSOR,
      clientSecret: REDACT_CENSOR,
      mailbox: 'ece@x',
    });
    expect(parsed[4]!.token).toEqual({ accessToken: REDACT_CENSOR, expiresOn: 42 });
    expect(parsed[5]!.body).toEqual({
      access_token: REDACT_CENSOR,
      refresh_token: REDACT_CENSOR,
      client_secret: REDACT_CENSOR,
    });
  });

  test('a connector error that carries its request: the bearer header is censored, the status kept', () => {
    const { log, lines } = recorder();
    const bearer = secret('bearer');
    const raw = secret('raw');
    // As the connector's RestError (ms-rest / core-http) carried it: request and response
    // enumerable, the response pointing back at the request.
    const request = {
      url: 'https://smba.trafficmanager.net/emea/v3/conversations/a%3A1/activities/1',
      method: 'PUT',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    };
    const restError = Object.assign(new Error('Forbidden'), {
      name: 'RestError',
      code: 'ERR_FORBIDDEN',
      statusCode: 403,
      request,
      response: { status: 403, headers: { 'content-type': 'text/plain' }, request },
    });
    log.warn({ err: restError, runId: 'lab-1' }, 'updating a run card failed');
    // As axios (Bot Framework's token client) throws: configuration and raw request attached.
    const axiosError = Object.assign(new Error('Request failed with status code 401'), {
      name: 'AxiosError',
      code: 'ERR_BAD_REQUEST',
      config: {
        url: 'https://login.microsoftonline.com/x',
        headers: { Authorization: `Bearer ${bearer}` },
      },
      request: {
        _header: `POST /x HTTP/1.1\r\nAuthorization: Bearer ${raw}\r\n\r\n`,
        method: 'POST',
      },
      response: {
        status: 401,
        config: { headers: { Authorization: `Bearer ${bearer}` } },
        request: { _header: `Authorization: Bearer ${raw}` },
      },
    });
    log.error({ err: axiosError }, 'token request failed');
    // The RestError botframework-connector uses today keeps request and response out of sight.
    const current = new RestError('Unauthorized', {
      statusCode: 401,
      request: createPipelineRequest({
        url: 'https://smba.trafficmanager.net/emea/v3/conversations',
        headers: createHttpHeaders({ authorization: `Bearer ${bearer}` }),
      }),
    });
    log.error({ err: current }, 'posting a card failed');

    const text = lines.join('\n');
    expect(text).not.toContain(bearer);
    expect(text).not.toContain(raw);
    const [rest, axios, modern] = lines.map(
      l => JSON.parse(l) as Record<string, Record<string, unknown>>,
    );
    expect(rest!.err).toMatchObject({
      message: 'Forbidden',
      statusCode: 403,
      request: { method: 'PUT', headers: REDACT_CENSOR },
      response: { status: 403, request: { headers: REDACT_CENSOR } },
    });
    expect(rest!.runId).toBe('lab-1');
    expect(axios!.err).toMatchObject({
      message: 'Request failed with status code 401',
      config: { headers: REDACT_CENSOR },
      request: { _header: REDACT_CENSOR, method: 'POST' },
      response: {
        status: 401,
        config: { headers: REDACT_CENSOR },
        request: { _header: REDACT_CENSOR },
      },
    });
    expect(modern!.err).toMatchObject({ type: 'RestError', statusCode: 401 });
  });
});

/** Value of one sample of the exposition text (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].split(',') : [];
    if (want.length === have.length && want.every(w => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

describe('/metrics after a failing run', () => {
  let lab: Lab;
  let inv: Inventory;
  let fake: FakeConnector;
  let runs: EmbeddedRunService;
  let bot: BotServer;
  let rig: BotRig;

  beforeAll(async () => {
    lab = await startLab({ scenarios: pickScenarios('smtp-auth-disabled', () => undefined) });
    inv = loadInventory(lab.info.inventory);
    rig = await startBotRig(() => inv);
    ({ fake, runs, bot } = rig);
  });
  afterAll(async () => {
    await rig?.close();
    await lab?.stop();
  });

  const scrape = () => fetch(bot.url.replace('/api/messages', '/metrics')).then(r => r.text());

  async function check(conversationId: string): Promise<Run> {
    const done = new Promise<Run>(resolve => {
      const off = runs.onDone(run => {
        off();
        resolve(run);
      });
    });
    const res = await post(bot.url, message(fake.url, { conversationId }, 'check lab'));
    expect(res.status).toBe(200);
    return done;
  }

  test('runs by status, failures by code and duration buckets follow each run', async () => {
    const before = await scrape();
    expect(sample(before, 'ecebot_runs_total', { status: 'fail' })).toBe(0);
    expect(
      sample(before, 'ecebot_item_failures_total', {
        item: 'mailbox-protocols',
        code: 'EXO_SMTP_AUTH_DISABLED',
      }),
    ).toBe(0);

    const durations = new Map<string, number[]>();
    for (const [i, conversation] of ['a:ops-1', 'a:ops-2'].entries()) {
      const run = await check(conversation);
      expect(run.status).toBe('fail');
      const failing = run.findings.filter(f => f.status === 'fail' || f.status === 'error');
      expect(failing.map(f => f.code)).toContain('EXO_SMTP_AUTH_DISABLED');
      for (const f of run.findings)
        for (const e of f.evidence)
          if (typeof e.durationMs === 'number')
            durations.set(f.item, [...(durations.get(f.item) ?? []), e.durationMs / 1000]);

      const text = await scrape();
      expect(sample(text, 'ecebot_runs_total', { status: 'fail' })).toBe(i + 1);
      // Unauthenticated: no environment named unless ECEBOT_METRICS_DETAIL=1.
      expect(text).not.toMatch(/environment=|"lab"/);
      for (const f of failing)
        expect(sample(text, 'ecebot_item_failures_total', { item: f.item, code: f.code })).toBe(
          i + 1,
        );
      // Every bucket holds exactly the durations at or under its bound (cumulative), per kind.
      expect(durations.size).toBeGreaterThan(0);
      for (const [kind, seconds] of durations) {
        const buckets = [
          ...text.matchAll(
            new RegExp(
              `^ecebot_probe_duration_seconds_bucket\\{le="([^"]+)",kind="${kind}"\\} (\\d+)$`,
              'gm',
            ),
          ),
        ];
        expect(buckets.length).toBeGreaterThan(1);
        for (const [, le, count] of buckets) {
          const bound = le === '+Inf' ? Infinity : Number(le);
          expect({ kind, le, count: Number(count) }).toEqual({
            kind,
            le,
            count: seconds.filter(s => s <= bound).length,
          });
        }
        expect(sample(text, 'ecebot_probe_duration_seconds_count', { kind })).toBe(seconds.length);
        expect(sample(text, 'ecebot_probe_duration_seconds_sum', { kind })).toBeCloseTo(
          seconds.reduce((a, b) => a + b, 0),
          6,
        );
      }
    }
  });
});

describe('ecebot serve on a private Redis', () => {
  let lab: Lab;
  let fake: FakeConnector;
  let redis: ChildProcess | undefined;
  let cfg: QueueConfig;
  let serve: ChildProcess | undefined;
  let probe: Redis | undefined;
  const workers: VantageWorker[] = [];
  const VANTAGES = ['services-1', 'app-1', 'central'];

  beforeAll(async () => {
    lab = await startLab({ scenarios: pickScenarios('healthy', () => undefined) });
    fake = await FakeConnector.start();
    const port = await freePort();
    redis = await startRedis(port);
    cfg = { url: `redis://127.0.0.1:${port}`, prefix: `ops${randomBytes(3).toString('hex')}` };
    probe = new Redis(cfg.url, { maxRetriesPerRequest: 1 });
    probe.on('error', () => {});
  });
  afterAll(async () => {
    if (serve && serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
    await Promise.all(workers.splice(0).map(w => w.close()));
    probe?.disconnect();
    await stopRedis(redis);
    await fake?.close();
    await lab?.stop();
  });

  test('/readyz follows Redis and the workers, /healthz does not; queue depth counts a waiting run', async () => {
    serve = spawn(process.execPath, [BIN, 'serve', '--config', lab.info.inventory, '--port', '0'], {
      cwd: ROOT,
      env: workerEnv(cfg, {
        ECEBOT_SECRET_KEY: randomBytes(32).toString('base64'),
        ECEBOT_WORKER_DEADLINE_MS: '120000',
        // Asked for: /metrics and /readyz name the environment and its servers.
        ECEBOT_METRICS_DETAIL: '1',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    serve.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const lines: string[] = [];
    createInterface({ input: serve.stdout! }).on('line', l => lines.push(l));
    const exited = new Promise<number | string | null>(r =>
      serve!.once('exit', (code, signal) => r(code ?? signal)),
    );
    const url = await until(async () => {
      if (serve!.exitCode !== null) throw new Error(`serve exited ${serve!.exitCode}: ${err}`);
      return lines.map(l => /listening on (http:\/\/\S+)/.exec(l)?.[1]).find(Boolean);
    }, 50);
    await until(async () => lines.some(l => /queue at 127\.0\.0\.1/.test(l)), 50);
    const base = url.replace('/api/messages', '');
    const ready = async () => {
      const res = await fetch(`${base}/readyz`);
      return {
        status: res.status,
        body: (await res.json()) as { checks: Record<string, { ok: boolean; detail?: string }> },
      };
    };
    const metrics = () => fetch(`${base}/metrics`).then(r => r.text());

    // Redis up, no worker ever seen: not ready, and it says why.
    const none = await ready();
    expect(none.status).toBe(503);
    expect(none.body.checks.redis).toEqual({ ok: true });
    expect(none.body.checks.workers).toEqual({ ok: false, detail: 'no live worker heartbeat' });
    expect(sample(await metrics(), 'ecebot_queue_depth')).toBe(0);

    // Workers seen (heartbeats) but not pulling yet: a run waits in the queue for them.
    for (const vantage of VANTAGES)
      await beat(
        probe!,
        cfg.prefix,
        { vantage: vantageId('lab', vantage), at: new Date().toISOString(), host: 'h', pid: 1 },
        120_000,
      );
    expect((await ready()).status).toBe(200);
    const from = fake.requests.length;
    const res = await post(url, message(fake.url, { conversationId: 'a:ops-redis' }, 'check lab'));
    expect(res.status).toBeLessThan(300);
    await fake.waitFor(
      r => r.conversationId === 'a:ops-redis' && r.method === 'POST',
      'the running card',
      from,
    );
    expect(sample(await metrics(), 'ecebot_queue_depth')).toBe(1);

    // The workers come: the run finishes, the queue empties and the run is counted.
    for (const vantage of VANTAGES) {
      const w = new VantageWorker({
        vantage,
        queue: cfg,
        inventory: () => loadInventory(lab.info.inventory),
        heartbeatMs: 300,
      });
      await w.start();
      workers.push(w);
    }
    await fake.waitFor(
      r =>
        r.conversationId === 'a:ops-redis' &&
        r.method === 'PUT' &&
        cardTexts(cardOf(r)).some(t => /All checks passed/.test(t)),
      'the final card',
      from,
    );
    const after = await until(async () => {
      const text = await metrics();
      return (
        sample(text, 'ecebot_runs_total', { environment: 'lab', status: 'pass' }) === 1 && text
      );
    });
    expect(sample(after, 'ecebot_queue_depth')).toBe(0);

    // One server loses its worker: still ready (runs report it as NO_WORKER), and named.
    await workers.splice(1, 1)[0]!.close();
    await probe!.del(keys.heartbeat(cfg.prefix, vantageId('lab', 'app-1')));
    const partial = await ready();
    expect(partial.status).toBe(200);
    expect(partial.body.checks.workers!.detail).toMatch(/no worker: lab\/app-1$/);

    // Every worker gone (and its heartbeat with it): not ready.
    await Promise.all(workers.splice(0).map(w => w.close()));
    for (const vantage of VANTAGES)
      await probe!.del(keys.heartbeat(cfg.prefix, vantageId('lab', vantage)));
    const gone = await ready();
    expect(gone.status).toBe(503);
    expect(gone.body.checks.workers!.ok).toBe(false);

    // Redis stops: not ready, the redis check says so; liveness and scrapes still answer.
    await stopRedis(redis);
    redis = undefined;
    const down = await until(async () => {
      const r = await ready();
      return r.body.checks.redis!.ok === false && r;
    });
    expect(down.status).toBe(503);
    expect(JSON.stringify(down.body)).not.toContain('redis://');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/metrics`)).status).toBe(200);

    // SIGTERM with Redis still down: the bot stops and exits 0.
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
