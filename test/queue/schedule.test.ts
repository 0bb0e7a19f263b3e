/**
 * Schedules end to end: a BullMQ job scheduler from the inventory's `schedule.every` runs the
 * lab environment through the queue and workers; a failure on two scheduled runs in a row sends
 * one alert, the fix sends one recovery card, and a muted environment sends nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { ConnectorNotifier } from '../../src/notify/connector';
import { serviceUrlPolicyFrom } from '../../src/notify/service-url';
import { Outbox } from '../../src/notify/outbox';
import { AlertPipeline } from '../../src/notify/pipeline';
import type { QueueConfig } from '../../src/redis/connection';
import { RedisRunService } from '../../src/queue/redis-run-service';
import { Scheduler } from '../../src/queue/schedules';
import { SecretBox } from '../../src/store/crypto';
import { RedisStore } from '../../src/store/redis';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { randomBytes } from 'node:crypto';
import { cleanup, freshQueue, until } from './support';
import { startFakeConnector, type FakeConnector } from './support-connector';

describe('scheduled runs, alerts and recoveries', () => {
  let l: Lab;
  let cfg: QueueConfig;
  let connector: FakeConnector;
  const closers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    l = await startLab({ scenarios: pickScenarios('healthy', () => undefined) });
    cfg = freshQueue();
    connector = await startFakeConnector();
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c.close();
    await connector.close();
    await cleanup(cfg);
    await l.stop();
  });

  test('fails twice: one alert; fixed: one recovery; muted: nothing', async () => {
    // The lab's inventory with a schedule every second.
    const doc = parse(readFileSync(l.info.inventory, 'utf8')) as {
      environments: Record<string, Record<string, unknown>>;
    };
    doc.environments.lab!.schedule = { every: '1s' };
    const path = join(l.dir, 'scheduled.yaml');
    writeFileSync(path, stringify(doc));
    const inv = () => loadInventory(path);

    const store = new RedisStore({ queue: cfg, secrets: new SecretBox(randomBytes(32)) });
    closers.push(store);
    await store.saveConversation('ops', {
      serviceUrl: connector.url,
      conversation: { id: '19:ops@thread.tacv2' },
    });
    await store.subscribe('lab', 'ops');
    const outbox = new Outbox({
      queue: cfg,
      notifier: new ConnectorNotifier({ store, serviceUrls: serviceUrlPolicyFrom({}) }),
    });
    closers.push(outbox);
    await outbox.start();
    const pipeline = new AlertPipeline({ queue: cfg, store, outbox });
    closers.push(pipeline);
    for (const v of ['services-1', 'app-1', 'central']) {
      const w = new VantageWorker({ vantage: v, queue: cfg, inventory: inv, heartbeatMs: 500 });
      await w.start();
      closers.push(w);
    }
    const runs = new RedisRunService({
      queue: cfg,
      inventory: inv,
      store,
      afterRun: pipeline.afterRun,
    });
    closers.push(runs);
    await runs.ready();

    // IMAP off on support@: mailbox-protocols fails from the first scheduled run on.
    const support = l.tenant.mailboxes.find(m => m.address.startsWith('support@'))!;
    support.imapEnabled = false;
    const scheduler = new Scheduler({ queue: cfg, runs });
    closers.push(scheduler);
    expect(await scheduler.sync(inv())).toEqual(['lab']);
    await scheduler.start();

    const cards = () => connector.received.map(r => r.activity.text ?? '');
    await until(async () => cards().some(t => t.startsWith('lab: checks failing')));
    // Keep failing for two more scheduled runs: still one alert (the next reminder is hours away).
    const failures = async () =>
      (await pipeline.state('lab')).items['mailbox-protocols']?.failures ?? 0;
    const atAlert = await failures();
    await until(async () => (await failures()) >= atAlert + 2);
    expect(cards().filter(t => t.startsWith('lab: checks failing'))).toHaveLength(1);
    const alert = connector.received[0]!.activity;
    expect(alert.text).toMatch(/^lab: checks failing: .*mailbox-protocols/);
    expect(JSON.stringify(alert.attachments?.[0]?.content)).toContain('2 scheduled runs in a row');
    expect((await store.history('lab', 1))[0]?.status).toBe('fail');

    // Fixed: exactly one recovery, then quiet.
    support.imapEnabled = true;
    await until(async () => cards().some(t => t.startsWith('lab: recovered')));
    const recoveredRun = (await store.history('lab', 1))[0]!.id;
    await until(async () => (await store.history('lab', 1))[0]!.id !== recoveredRun);
    expect(cards().filter(t => t.startsWith('lab: recovered'))).toHaveLength(1);

    // Muted: failures are still counted, but nothing is sent.
    await store.setMute('lab', new Date(Date.now() + 3600_000));
    const sent = connector.received.length;
    support.imapEnabled = false;
    await until(
      async () => (await pipeline.state('lab')).items['mailbox-protocols']?.alerting === true,
    );
    const quiet = (await pipeline.state('lab')).items['mailbox-protocols']!.failures;
    await until(async () => (await failures()) > quiet);
    expect(await outbox.pending()).toBe(0);
    expect(connector.received.length).toBe(sent);
  });
});
