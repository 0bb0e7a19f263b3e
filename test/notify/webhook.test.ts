/**
 * The webhook notifier end to end: scheduled runs through the alert pipeline and the durable
 * outbox (real Redis) to a real HTTP receiver on 127.0.0.1 that checks every delivery's
 * signature on its own, the way docs/overview-and-webhook.md tells a receiver to:
 * HMAC-SHA256 keyed with the shared secret over `<X-Ecebot-Timestamp>.<raw body>`, hex, after
 * `sha256=` (GitHub's header form: docs.github.com "Validating webhook deliveries"; Stripe's
 * signed timestamp: stripe-ruby Stripe::Webhook::Signature.compute_signature), compared in
 * constant time, the timestamp within five minutes (Svix, "Why verify webhooks").
 *
 * Retries: 503 and 429 with Retry-After are delivered again, 400 is not (and the job is kept
 * as failed). Bad configuration is refused when the inventory loads, with what and where.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { parse, stringify } from 'yaml';
import { InputError } from '../../src/inventory/errors';
import { loadInventory, type Inventory } from '../../src/inventory/load';
import type { Run } from '../../src/model';
import { AlertPipeline } from '../../src/notify/pipeline';
import { Outbox } from '../../src/notify/outbox';
import { ConnectorNotifier } from '../../src/notify/connector';
import { serviceUrlPolicyFrom } from '../../src/notify/service-url';
import {
  routeNotifier,
  webhookKeysOf,
  webhookSignature,
  WebhookNotifier,
} from '../../src/notify/webhook';
import { startFakeConnector } from '../queue/support-connector';
import { OUTBOX_QUEUE } from '../../src/queue/names';
import type { RunJobData } from '../../src/queue/jobs';
import type { QueueConfig } from '../../src/redis/connection';
import { connect } from '../../src/redis/connection';
import { MemoryStore } from '../../src/store/memory';
import { cleanup, findingOf, freshQueue, until } from '../queue/support';

/** One delivery as the receiver saw it, with its own verdict on the signature. */
interface Delivery {
  headers: IncomingMessage['headers'];
  raw: string;
  valid: boolean;
  answered: number;
}

const SECRET = randomBytes(24).toString('hex');
const FIVE_MINUTES_S = 300;

/** The receiver's own check of the documented scheme (not ecebot's code). */
function verify(headers: IncomingMessage['headers'], raw: string): boolean {
  const ts = headers['x-ecebot-timestamp'];
  const sig = headers['x-ecebot-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts)) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > FIVE_MINUTES_S) return false;
  const want = Buffer.from(
    `sha256=${createHmac('sha256', SECRET).update(`${ts}.${raw}`).digest('hex')}`,
  );
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A receiver answering from a script (then 200), refusing bad signatures with 401. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private readonly script: { status: number; retryAfter?: string }[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const self = new Receiver(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const valid = verify(req.headers, raw);
        const next = valid ? (self.script.shift() ?? { status: 200 }) : { status: 401 };
        self.deliveries.push({ headers: req.headers, raw, valid, answered: next.status });
        res.writeHead(next.status, next.retryAfter ? { 'retry-after': next.retryAfter } : {});
        res.end(next.status === 200 ? '{"ok":true}' : '{"error":"no"}');
      });
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hooks/ecebot`;
  }

  answer(...steps: { status: number; retryAfter?: string }[]): void {
    this.script.push(...steps);
  }

  close(): Promise<void> {
    return new Promise(r => this.server.close(() => r()));
  }
}

let dir: string;
let receiver: Receiver;
let cfg: QueueConfig;
let inv: Inventory;
const VARS = { ECEBOT_WEBHOOK_SECRET: SECRET };

/** An inventory of one environment `prod` with the given webhooks. */
function inventoryWith(webhooks: unknown): string {
  const doc = parse(readFileSync(join(__dirname, '../../examples/inventory.yaml'), 'utf8')) as {
    environments: Record<string, Record<string, unknown>>;
  };
  doc.environments = { prod: { ...doc.environments.prod!, webhooks } };
  const file = join(dir, `inventory-${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

let seq = 0;
function failingRun(): Run {
  seq++;
  return {
    id: `prod-20261203${String(90000 + seq).padStart(6, '0')}-${seq.toString(16).padStart(4, '0')}`,
    environment: 'prod',
    startedAt: new Date(Date.now() - 2000).toISOString(),
    finishedAt: new Date().toISOString(),
    status: 'fail',
    ece: { version: '12.6(1)', es: 10 },
    findings: [findingOf('connectivity', 'fail'), findingOf('token', 'pass')],
  };
}
const scheduled = { data: { reason: 'schedule' } as RunJobData, observations: [] };

let outbox: Outbox;
let pipeline: AlertPipeline;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecebot-webhook-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  receiver = await Receiver.start();
  cfg = freshQueue();
  inv = loadInventory(
    inventoryWith([{ name: 'pager', url: receiver.url, secret: 'env:ECEBOT_WEBHOOK_SECRET' }]),
  );
  outbox = new Outbox({
    queue: cfg,
    notifier: new WebhookNotifier({ inventory: () => inv, vars: VARS, timeoutMs: 5000 }),
    // Retry-After is honoured as given; back-off without one stays short for the test.
    maxWaitMs: 2000,
  });
  await outbox.start();
  pipeline = new AlertPipeline({
    queue: cfg,
    store: new MemoryStore(),
    outbox,
    webhooks: env => webhookKeysOf(inv, env),
  });
});
afterEach(async () => {
  await pipeline.close();
  await outbox.close();
  await receiver.close();
  await cleanup(cfg);
});

/** Two failing scheduled runs in a row: the second raises the alert (threshold 2). */
async function alert(): Promise<Run> {
  await pipeline.afterRun(failingRun(), scheduled);
  const run = failingRun();
  await pipeline.afterRun(run, scheduled);
  return run;
}

test('an alert arrives as signed JSON with what the card shows, and nothing secret', async () => {
  const run = await alert();
  await until(async () => receiver.deliveries.length >= 1 && (await outbox.pending()) === 0);
  expect(receiver.deliveries).toHaveLength(1);
  const d = receiver.deliveries[0]!;
  expect(d.valid).toBe(true);
  expect(d.answered).toBe(200);
  expect(d.headers['content-type']).toBe('application/json');
  const body = JSON.parse(d.raw) as Record<string, unknown>;
  const f = run.findings[0]!;
  expect(body).toEqual({
    id: `alert-${run.id}-connectivity`,
    kind: 'alert',
    environment: 'prod',
    item: 'connectivity',
    code: f.code,
    status: 'fail',
    summary: f.summary,
    runId: run.id,
    time: run.finishedAt,
  });
  expect(d.headers['x-ecebot-delivery']).toBe(body.id);
  // The secret travels only as the key of the signature.
  expect(JSON.stringify(d.headers) + d.raw).not.toContain(SECRET);
});

test('503 and 429 with Retry-After are delivered again, with a fresh valid signature', async () => {
  receiver.answer({ status: 503, retryAfter: '1' }, { status: 429, retryAfter: '1' });
  await alert();
  await until(async () => receiver.deliveries.length >= 3 && (await outbox.pending()) === 0);
  expect(receiver.deliveries.map(d => [d.answered, d.valid])).toEqual([
    [503, true],
    [429, true],
    [200, true],
  ]);
  // The same event each time: a receiver de-duplicates on the delivery id.
  expect(new Set(receiver.deliveries.map(d => d.raw)).size).toBe(1);
});

test('500 without Retry-After is retried too (every 5xx)', async () => {
  receiver.answer({ status: 500 });
  await alert();
  await until(async () => receiver.deliveries.length >= 2 && (await outbox.pending()) === 0);
  expect(receiver.deliveries.map(d => d.answered)).toEqual([500, 200]);
});

test('400 is not retried: one delivery, and the job is kept as failed', async () => {
  receiver.answer({ status: 400 });
  await alert();
  const redis = connect(cfg, 'producer');
  const q = new Queue(OUTBOX_QUEUE, { prefix: cfg.prefix, connection: redis });
  try {
    await until(async () => ((await q.getJobCounts('failed')).failed ?? 0) >= 1);
    expect(await outbox.pending()).toBe(0);
    expect(receiver.deliveries.map(d => d.answered)).toEqual([400]);
  } finally {
    await q.close();
    await redis.quit();
  }
});

test('one outbox: a Teams subscriber gets the card, the webhook the event', async () => {
  const connector = await startFakeConnector();
  const store = new MemoryStore();
  await store.saveConversation('conv-ops', {
    serviceUrl: connector.url,
    conversation: { id: '19:ops@thread.tacv2' },
    bot: { id: '28:bot', name: 'ecebot' },
  });
  await store.subscribe('prod', 'conv-ops');
  const cfg2 = freshQueue();
  const box = new Outbox({
    queue: cfg2,
    notifier: routeNotifier(
      new ConnectorNotifier({ store, serviceUrls: serviceUrlPolicyFrom({}) }),
      new WebhookNotifier({ inventory: () => inv, vars: VARS }),
    ),
  });
  const p = new AlertPipeline({
    queue: cfg2,
    store,
    outbox: box,
    webhooks: env => webhookKeysOf(inv, env),
  });
  try {
    await box.start();
    await p.afterRun(failingRun(), scheduled);
    await p.afterRun(failingRun(), scheduled);
    await until(async () => (await box.pending()) === 0 && receiver.deliveries.length >= 1);
    expect(connector.received).toHaveLength(1);
    expect(connector.received[0]!.activity.attachments?.[0]?.content).toMatchObject({
      type: 'AdaptiveCard',
    });
    expect(
      receiver.deliveries.map(d => [d.valid, (JSON.parse(d.raw) as { kind: string }).kind]),
    ).toEqual([[true, 'alert']]);
  } finally {
    await p.close();
    await box.close();
    await connector.close();
    await cleanup(cfg2);
  }
});

test('a secret that is not set fails the delivery at once, naming the reference, not a value', async () => {
  const n = new WebhookNotifier({ inventory: () => inv, vars: {} });
  const err = await n
    .send('webhook:prod:pager', {
      event: {
        id: 'x',
        kind: 'alert',
        environment: 'prod',
        item: 'connectivity',
        code: 'CONNECT_REFUSED',
        status: 'fail',
        summary: 's',
        runId: 'r',
        time: new Date().toISOString(),
      },
    })
    .then(
      () => ({ message: 'sent', retry: undefined }),
      (e: unknown) => e as { message: string; retry?: boolean },
    );
  expect(err.message).toContain('env:ECEBOT_WEBHOOK_SECRET');
  expect(err.message).toContain('webhooks.0.secret');
  expect(err.retry).toBe(false);
  expect(receiver.deliveries).toHaveLength(0);
});

test('only https, or http to 127.0.0.1, without credentials, is accepted in the inventory', () => {
  const load = (url: string) => () =>
    loadInventory(inventoryWith([{ name: 'pager', url, secret: 'env:ECEBOT_WEBHOOK_SECRET' }]));
  expect(load('https://events.example.com/x')).not.toThrow();
  expect(load('http://127.0.0.1:9/x')).not.toThrow();
  for (const [url, why] of [
    ['http://events.example.com/x', 'must be https://'],
    ['http://10.0.0.5/x', 'must be https://'],
    ['http://localhost:8080/x', 'must be https://'],
    ['https://user:pw@events.example.com/x', 'holds credentials'],
    ['file:///etc/passwd', 'must be https://'],
  ] as const) {
    let err: unknown;
    try {
      load(url)();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain(why);
    // Where: the field, so the reader knows which line to fix.
    expect((err as InputError).describe()).toMatch(/environments\.prod\.webhooks\.0\.url/);
  }
  // A secret value instead of a reference is refused as everywhere in the inventory.
  expect(() =>
    loadInventory(inventoryWith([{ name: 'pager', url: 'https://e.example.com', secret: SECRET }])),
  ).toThrow(/secret reference/);
});

test('the signature is HMAC-SHA256 hex after sha256= (GitHub’s test vector, no timestamp part)', () => {
  // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody",
  // payload "Hello, World!" → sha256=757107ea…3e17. Our signed string is `<t>.<body>`, so
  // the vector is reached with the timestamp and dot as the start of GitHub's payload.
  const hex = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  expect(
    createHmac('sha256', "It's a Secret to Everybody").update('Hello, World!').digest('hex'),
  ).toBe(hex);
  // Same primitive, our framing: t = 0 and body = the rest after "0.".
  expect(webhookSignature('k', 0, 'b')).toBe(
    `sha256=${createHmac('sha256', 'k').update('0.b').digest('hex')}`,
  );
});
