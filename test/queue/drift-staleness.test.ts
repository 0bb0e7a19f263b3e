/**
 * Drift and staleness end to end: runs against the lab's Entra, Graph and Exchange (real reads),
 * the alert pipeline on real Redis (random prefix), the durable outbox and the HTTP notifier
 * posting to the fake Bot Connector (test/teams/support/fake-connector.ts).
 *
 * - Drift: IMAP turned off for support@ between two passing-or-not runs is one card naming the
 *   window between the two runs' times (en + nl); a new client secret is named by keyId and
 *   display name, never its value; a muted environment gets nothing and the unmute replays
 *   nothing.
 * - Staleness: ECE's redemptions as support@ stop → one "ECE has stopped reading support@" card,
 *   not repeated; they resume → one "reads again" card. Without Entra ID P1 the sign-in log is
 *   not readable (Graph 403, o365-facts.md §3.4): no verdict, no card, whatever the log holds.
 */
import type { Observation, Run } from '../../src/model';
import { ECEBOT_USER_AGENT } from '../../src/model';
import { formatTime } from '../../src/i18n';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { LAB_ECE_ADDRESS, type LabSignIn } from '../../src/lab/tenant';
import { ConnectorNotifier } from '../../src/notify/connector';
import { environmentFactsFrom } from '../../src/notify/notices';
import { Outbox } from '../../src/notify/outbox';
import { AlertPipeline } from '../../src/notify/pipeline';
import { serviceUrlPolicyFrom } from '../../src/notify/service-url';
import type { RunJobData } from '../../src/queue/jobs';
import type { QueueConfig } from '../../src/redis/connection';
import { observeFrom } from '../../src/runner/observe';
import { prepareRun, vantagesOf } from '../../src/runner/prepare';
import { assemble } from '../../src/runner/run';
import { MemoryStore } from '../../src/store/memory';
import { cardOf, FakeConnector, type Recorded } from '../teams/support/fake-connector';
import { cleanup, freshQueue } from './support';

const CONVERSATION = '19:oncall@thread.tacv2';
const ITEMS = ['mailbox-protocols', 'mailbox-rights', 'license', 'app-registration', 'token'];

describe('drift and staleness notices through the outbox to the connector', () => {
  let l: Lab;
  let cfg: QueueConfig;
  let fake: FakeConnector;
  let store: MemoryStore;
  let outbox: Outbox;
  let pipeline: AlertPipeline;
  let n = 0;

  beforeAll(async () => {
    l = await startLab({ scenarios: pickScenarios('healthy', () => undefined) });
    cfg = freshQueue();
    fake = await FakeConnector.start();
    store = new MemoryStore();
    await store.saveConversation('oncall', {
      serviceUrl: fake.url,
      conversation: { id: CONVERSATION },
    });
    await store.subscribe('lab', 'oncall');
    outbox = new Outbox({
      queue: cfg,
      notifier: new ConnectorNotifier({ store, serviceUrls: serviceUrlPolicyFrom({}) }),
    });
    await outbox.start();
    const inv = loadInventory(l.info.inventory);
    pipeline = new AlertPipeline({
      queue: cfg,
      store,
      outbox,
      environment: environmentFactsFrom(() => inv),
    });
  });
  afterAll(async () => {
    await pipeline?.close();
    await outbox?.close();
    await fake?.close();
    await store?.close();
    if (cfg) await cleanup(cfg);
    await l?.stop();
  });

  /** One scheduled run of the Exchange/Entra items against the lab, through the pipeline. */
  async function scheduledRun(): Promise<Run> {
    const inv = loadInventory(l.info.inventory);
    const prepared = prepareRun(pickEnvironment(inv, 'lab', 'lab'), inv, {
      vars: {},
      items: ITEMS,
    });
    prepared.id = `lab-drift-${++n}`;
    const started = new Date();
    const parts = await Promise.all(vantagesOf(prepared).map(v => observeFrom(prepared, v)));
    const observations: Observation[] = parts.flat();
    const run = assemble(prepared, observations, started, new Date());
    await pipeline.afterRun(run, {
      data: { environment: 'lab', reason: 'schedule' } as unknown as RunJobData,
      observations,
    });
    await drained();
    return run;
  }

  /** Wait until the outbox has sent everything queued so far. */
  async function drained(): Promise<void> {
    for (let i = 0; i < 200 && (await outbox.pending()) > 0; i++)
      await new Promise(r => setTimeout(r, 50));
  }

  /**
   * Drift and staleness cards posted to the on-call conversation since `from`, once the outbox
   * has sent them all; the item alerts of src/notify/alerts.ts (failing twice in a row,
   * recovered) go through the same outbox and are left out here.
   */
  async function postedSince(from: number): Promise<Recorded[]> {
    await drained();
    return fake
      .postsTo(CONVERSATION, from)
      .filter(r => !/^lab: (checks failing|still failing|recovered)/.test(textOf(r)));
  }

  const support = () => l.tenant.mailboxes.find(m => m.address.startsWith('support@'))!;
  const textOf = (r: Recorded) => String(r.body.text ?? '');
  const cardText = (r: Recorded) => JSON.stringify(cardOf(r));

  /** ECE's own redemptions as `upn` (not ecebot's, which carry its User-Agent). */
  const isEceAs = (s: LabSignIn, upn: string) =>
    s.userPrincipalName.toLowerCase() === upn.toLowerCase() && s.userAgent !== ECEBOT_USER_AGENT;

  test('IMAP turned off between two runs: one drift card with the window, en and nl', async () => {
    const first = await scheduledRun();
    const from = fake.requests.length;
    expect(await postedSince(from)).toEqual([]);

    support().imapEnabled = false;
    const second = await scheduledRun();
    const posted = await fake.waitFor(
      r => r.method === 'POST' && textOf(r).includes('IMAP'),
      'drift card',
      from,
    );
    const window = `between ${formatTime(first.finishedAt)} and ${formatTime(second.finishedAt)}`;
    expect(textOf(posted)).toBe(`lab: IMAP was turned off for ${support().address} ${window}`);
    const card = cardText(posted);
    expect(card).toContain(`IMAP was turned off for **${support().address}** ${window}`);
    expect(card).toContain(
      `IMAP is uitgezet voor **${support().address}** tussen ${formatTime(first.finishedAt)} en ${formatTime(second.finishedAt)}`,
    );
    // The same facts again: nothing new to tell.
    const quiet = fake.requests.length;
    await scheduledRun();
    expect(await postedSince(quiet)).toEqual([]);
    support().imapEnabled = true;
    await scheduledRun();
  });

  test('a new client secret: named by keyId and display name, never its value', async () => {
    const secrets = l.tenant.eceApp.secrets;
    const added = {
      ...secrets[0]!,
      keyId: 'c0ffee00-0000-4000-8000-0000000000aa',
      displayName: 'ece-rotated',
      hint: 'Zq8',
      value: 'Zq8~this-is-the-new-secret-value',
    };
    secrets.push(added);
    try {
      const from = fake.requests.length;
      await scheduledRun();
      const posted = (await postedSince(from)).filter(r => cardText(r).includes('ece-rotated'));
      expect(posted).toHaveLength(1);
      const card = cardText(posted[0]!);
      expect(card).toContain(added.keyId);
      expect(card).not.toContain(added.value);
      expect(JSON.stringify(await pipeline.notices.driftState('lab'))).not.toContain(added.value);
    } finally {
      secrets.pop();
      await scheduledRun();
    }
  });

  test('muted: the change is kept but not told, and the unmute replays nothing', async () => {
    await store.setMute('lab', new Date(Date.now() + 3_600_000));
    const from = fake.requests.length;
    support().popEnabled = false;
    await scheduledRun();
    expect(await postedSince(from)).toEqual([]);
    await store.setMute('lab', undefined);
    await scheduledRun();
    expect(await postedSince(from)).toEqual([]);
    const kept = (await pipeline.notices.driftState('lab')).facts;
    expect(
      Object.values(kept).find(f => f.field === 'pop' && /^support@/.test(f.subject ?? ''))?.value,
    ).toBe(false);
    support().popEnabled = true;
    await scheduledRun();
  });

  test('ECE stops signing in as support@: one stale card (none without P1), then one resumed card', async () => {
    const address = support().address;
    const removed = l.tenant.signIns.filter(s => isEceAs(s, address));
    for (const s of removed) l.tenant.signIns.splice(l.tenant.signIns.indexOf(s), 1);

    // Without Entra ID P1 the log answers 403: no verdict, however quiet the log would be.
    l.tenant.hasP1 = false;
    let from = fake.requests.length;
    await scheduledRun();
    expect((await postedSince(from)).filter(r => /ECE/.test(textOf(r)))).toEqual([]);
    l.tenant.hasP1 = true;

    from = fake.requests.length;
    await scheduledRun();
    const stale = (await postedSince(from)).filter(r => textOf(r).includes('stopped reading'));
    expect(stale.map(textOf)).toEqual([`lab: ECE has stopped reading ${address}`]);
    expect(cardText(stale[0]!)).toContain(`ECE leest **${address}** niet meer`);

    // Still quiet: told once.
    from = fake.requests.length;
    await scheduledRun();
    expect((await postedSince(from)).filter(r => /ECE/.test(textOf(r)))).toEqual([]);

    // ECE redeems its token again.
    l.tenant.signIns.push({
      createdDateTime: new Date(Date.now() - 60_000).toISOString(),
      userPrincipalName: address,
      appId: l.tenant.eceApp.appId,
      errorCode: 0,
      eventType: 'nonInteractiveUser',
      ipAddress: LAB_ECE_ADDRESS,
      authenticationMethod: 'Previously satisfied',
    });
    from = fake.requests.length;
    await scheduledRun();
    const resumed = (await postedSince(from)).filter(r => /ECE/.test(textOf(r)));
    expect(resumed.map(textOf)).toEqual([`lab: ECE reads ${address} again`]);
  });
});
