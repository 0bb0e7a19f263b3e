/**
 * On call end to end: the real bot (restify + CloudAdapter), the alert pipeline, the durable
 * outbox and the escalation timers on real Redis (random prefix), and the fake Bot Connector
 * recording every post and in-place update (PUT …/activities/{id}, Bot Framework Connector
 * REST API). What must hold (docs/on-call.md):
 *
 * - Acknowledge, Resolve and Add note answer the presser with the changed card (Universal
 *   Actions: the invoke response replaces the card for that user) and update the card in place
 *   in every conversation the alert went to (teams-bot-notes.md §2: "to change the base card for
 *   everyone, still call updateActivity"); who and when are on the card; a note is user input
 *   (control characters stripped, markdown escaped, length-limited).
 * - An acknowledged alert gets no reminders and is not escalated; an open one is escalated once,
 *   to the inventory's `alerts.escalateTo`, by a BullMQ delayed job.
 * - A maintenance window typed in chat mutes alerts while open and ends by itself.
 * - A crafted invoke for another tenant's alert changes nothing and tells nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../src/model';
import { loadInventory, type Inventory } from '../../src/inventory/load';
import { Escalations } from '../../src/notify/escalation';
import { openIncident, publishIncident, recordIncidentPosts } from '../../src/notify/incident';
import { RedisIncidentState, type Incident } from '../../src/notify/incident-state';
import { onCallConfigOf } from '../../src/notify/oncall-config';
import { Outbox } from '../../src/notify/outbox';
import { AlertPipeline } from '../../src/notify/pipeline';
import type { QueueConfig } from '../../src/redis/connection';
import type { RunJobData } from '../../src/queue/jobs';
import { cleanup, findingOf, freshQueue } from '../queue/support';
import { cardProblems, cardTexts } from './support/adaptive';
import { MEGAN, TENANT, execute, message, post, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import { cardOf, type Recorded } from './support/fake-connector';

const OTHER_TENANT = '0b0b0b0b-0000-4000-8000-00000000000b';
const TEAM = { id: '19:mailops@thread.tacv2', name: 'Mail Ops', channelId: '19:ops@thread.tacv2' };
const OPS: Where = { conversationId: TEAM.channelId, team: { ...TEAM, channelName: 'Ops' } };
const MEGAN_CHAT: Where = { conversationId: 'a:megan-personal', user: MEGAN };
const ESC: Where = {
  conversationId: '19:escalation@thread.tacv2',
  team: { ...TEAM, channelId: '19:escalation@thread.tacv2', channelName: 'Escalation' },
};

function inventoryFile(stageAlerts: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-oncall-'));
  const path = join(dir, 'inv.yaml');
  const env = (name: string, tenant: string, alerts: string[]) =>
    [
      `  ${name}:`,
      `    ece: { version: "12.6(1)", es: 1, externalUrl: https://ece.example.com }`,
      `    servers: [{ name: services-1, role: services }]`,
      `    tenant: { id: ${tenant} }`,
      `    app: { clientId: 11111111-1111-1111-1111-111111111111, secret: env:ECE_APP_SECRET }`,
      `    mailboxes: [{ address: support@example.com, access: mailbox, retrieve: imap }]`,
      ...(alerts.length ? ['    alerts:', ...alerts.map(a => `      ${a}`)] : []),
    ].join('\n');
  writeFileSync(
    path,
    [
      'environments:',
      // Escalation far away: acknowledged long before it.
      env('prod', TENANT, [`escalateTo: "${ESC.conversationId}"`, 'escalateAfter: 1h']),
      // Escalation in a second: nobody acknowledges it.
      env('lab', TENANT, [`escalateTo: "${ESC.conversationId}"`, 'escalateAfter: 1s']),
      env('stage', TENANT, stageAlerts),
      // Another tenant's environment: this tenant's conversations never see it.
      env('foreign', OTHER_TENANT, []),
    ].join('\n') + '\n',
  );
  return path;
}

const H = 3600_000;

function failingRun(environment: string, at: number): Run {
  const iso = new Date(at).toISOString();
  return {
    id: `${environment}-${at}`,
    environment,
    startedAt: iso,
    finishedAt: iso,
    status: 'fail',
    ece: {},
    findings: [findingOf('network', 'fail')],
  };
}

const scheduled = (environment: string) => ({
  data: { environment, reason: 'schedule' } as unknown as RunJobData,
  observations: [],
});

/** Wait (not a timing assert: a deadline for something that must happen) until `pred` holds. */
async function until(pred: () => Promise<boolean> | boolean, what: string, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`not reached within ${ms} ms: ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

const texts = (r: Recorded) => cardTexts(cardOf(r) ?? {}).join('\n');

let inv: Inventory;
let rig: BotRig;
let cfg: QueueConfig;
let state: RedisIncidentState;
let outbox: Outbox;
let pipeline: AlertPipeline;
let escalations: Escalations;

beforeAll(async () => {
  inv = loadInventory(inventoryFile());
  cfg = freshQueue();
  state = new RedisIncidentState(cfg);
  rig = await startBotRig(() => inv, {
    server: {
      vars: { ECEBOT_TENANTS: [TENANT, OTHER_TENANT].join(',') },
      oncall: { state, publish: async (i: Incident) => void (await publishIncident(outbox, i)) },
    },
  });
  const ob: Outbox = new Outbox({
    queue: cfg,
    notifier: rig.bot.notifier,
    onSent: recordIncidentPosts({ state, outbox: (): Outbox => ob }),
  });
  outbox = ob;
  await outbox.start();
  const configOf = onCallConfigOf(() => inv);
  escalations = new Escalations({
    queue: cfg,
    state,
    outbox,
    configOf: env => configOf(env)?.escalation,
    windowsOf: env => pipeline.windowsOf(env),
  });
  pipeline = new AlertPipeline({
    queue: cfg,
    store: rig.store,
    outbox,
    oncall: { state, configOf, escalations },
  });
  await escalations.start();
  // The conversations talk to the bot once (it keeps their references) and subscribe.
  for (const [w, text] of [
    [OPS, 'subscribe prod'],
    [OPS, 'subscribe lab'],
    [OPS, 'subscribe stage'],
    [MEGAN_CHAT, 'subscribe prod'],
    [ESC, 'help'],
  ] as const)
    expect((await post(rig.bot.url, message(rig.fake.url, w, text))).status).toBe(200);
});

afterAll(async () => {
  await escalations?.close();
  await outbox?.close();
  await pipeline?.close();
  await state?.close();
  await rig?.close();
  if (cfg) await cleanup(cfg);
});

/** Two failing scheduled runs in a row: the second raises the alert (threshold 2). */
async function raise(environment: string, t0: number): Promise<Incident> {
  const second = failingRun(environment, t0 + H);
  await pipeline.afterRun(failingRun(environment, t0), scheduled(environment));
  await pipeline.afterRun(second, scheduled(environment));
  const id = `inc-${second.id}`;
  const incident = await state.get(id);
  expect(incident?.status).toBe('open');
  return incident!;
}

/** The posts (new messages) of an incident's card in a conversation. */
const posted = (conversation: string, environment: string, from = 0) =>
  rig.fake
    .postsTo(conversation, from)
    .filter(r => texts(r).includes(`${environment}: checks failing`));

/** The in-place updates of one activity. */
const updates = (conversation: string, activityId: string) =>
  rig.fake.requests.filter(
    r => r.method === 'PUT' && r.conversationId === conversation && r.activityId === activityId,
  );

/** Press a button of an alert card; resolves with the answer's card texts. */
async function press(w: Where, activityId: string, verb: string, data: object) {
  const res = await post(
    rig.bot.url,
    execute(rig.fake.url, w, activityId, verb, data as Record<string, unknown>),
  );
  expect(res.status).toBe(200);
  const body = res.body as { statusCode: number; type: string; value: unknown };
  // Universal Actions invoke response: a card replaces the presser's view.
  expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
  return cardTexts(body.value).join('\n');
}

describe('acknowledge, note, resolve: the card changes in place for everyone', () => {
  let incident: Incident;
  let opsPost: Recorded;
  let meganPost: Recorded;

  beforeAll(async () => {
    incident = await raise('prod', Date.UTC(2026, 11, 1));
    await until(
      async () => (await state.get(incident.id))?.posts.length === 2,
      'the alert posted to both subscribers and recorded',
    );
    opsPost = posted(OPS.conversationId, 'prod')[0]!;
    meganPost = posted(MEGAN_CHAT.conversationId, 'prod')[0]!;
  });

  test('the alert card carries Acknowledge, Resolve and Add note and renders clean', () => {
    const card = cardOf(opsPost)!;
    expect(cardProblems(card)).toEqual([]);
    expect(texts(opsPost)).toContain('Open: not acknowledged yet');
    const verbs = JSON.stringify(card).match(/"verb":"(\w+)"/g);
    expect(verbs).toEqual(['"verb":"ackAlert"', '"verb":"resolveAlert"', '"verb":"noteAlert"']);
  });

  test('Megan acknowledges in her chat: her card and the channel’s card say so', async () => {
    const answer = await press(MEGAN_CHAT, meganPost.answer!, 'ackAlert', {
      incident: incident.id,
    });
    expect(answer).toContain('Acknowledged by Megan Bowen at ');
    for (const [conv, post] of [
      [OPS.conversationId, opsPost],
      [MEGAN_CHAT.conversationId, meganPost],
    ] as const) {
      const put = await rig.fake.waitFor(
        r =>
          r.method === 'PUT' &&
          r.conversationId === conv &&
          r.activityId === post.answer &&
          texts(r).includes('Acknowledged by Megan Bowen'),
        `the card in ${conv} updated in place`,
      );
      // Acknowledged: no Acknowledge button any more; Resolve and Add note stay.
      expect(JSON.stringify(cardOf(put))).not.toContain('ackAlert');
      expect(JSON.stringify(cardOf(put))).toContain('resolveAlert');
    }
  });

  test('acknowledging again keeps the first acknowledgement and updates nothing', async () => {
    const before = rig.fake.requests.length;
    const answer = await press(OPS, opsPost.answer!, 'ackAlert', { incident: incident.id });
    expect(answer).toContain('Acknowledged by Megan Bowen');
    expect((await state.get(incident.id))?.acknowledged?.name).toBe('Megan Bowen');
    await until(async () => (await outbox.pending()) === 0, 'outbox idle');
    expect(rig.fake.requests.slice(before).filter(r => r.method === 'PUT')).toEqual([]);
  });

  test('a note is stripped of control characters, escaped, and shown with who and when', async () => {
    const answer = await press(OPS, opsPost.answer!, 'noteAlert', {
      incident: incident.id,
      note: '  restarting\u0007 the *IMAP* \u202eservice  ',
    });
    expect(answer).toContain('**Alex Wilber** (');
    expect(answer).toContain('restarting the \\*IMAP\\* service');
    expect(answer).not.toContain('\u0007');
    expect(answer).not.toContain('\u202e');
    await rig.fake.waitFor(
      r =>
        r.method === 'PUT' &&
        r.activityId === meganPost.answer &&
        texts(r).includes('restarting the \\*IMAP\\* service'),
      'the note reaches the other conversation',
    );
  });

  test('a note too long or empty is refused and changes nothing', async () => {
    for (const note of ['x'.repeat(501), ' \u0007 ']) {
      const answer = await press(OPS, opsPost.answer!, 'noteAlert', {
        incident: incident.id,
        note,
      });
      expect(answer).toContain('sent data ecebot does not accept');
    }
    expect((await state.get(incident.id))?.notes).toHaveLength(1);
  });

  test('an acknowledged alert gets no reminder and is not escalated', async () => {
    const before = rig.fake.requests.length;
    // Five hours later, still failing: past the default 4 h reminder interval.
    await pipeline.afterRun(failingRun('prod', Date.UTC(2026, 11, 1) + 6 * H), scheduled('prod'));
    await until(async () => (await outbox.pending()) === 0, 'outbox idle');
    expect(
      rig.fake.requests.slice(before).filter(r => texts(r).includes('prod: still failing')),
    ).toEqual([]);
    expect(await escalations.fire(incident.id)).toBe('acknowledged');
    expect(rig.fake.postsTo(ESC.conversationId).filter(r => texts(r).includes('prod:'))).toEqual(
      [],
    );
  });

  test('Resolve by Alex: every card says resolved, with no Resolve button', async () => {
    const answer = await press(OPS, opsPost.answer!, 'resolveAlert', { incident: incident.id });
    expect(answer).toContain('prod: resolved');
    expect(answer).toContain('Resolved by Alex Wilber at ');
    for (const post of [opsPost, meganPost])
      await rig.fake.waitFor(
        r =>
          r.method === 'PUT' &&
          r.activityId === post.answer &&
          texts(r).includes('Resolved by Alex Wilber') &&
          !JSON.stringify(cardOf(r)).includes('resolveAlert'),
        'resolved everywhere',
      );
    expect(updates(OPS.conversationId, opsPost.answer!).length).toBeGreaterThanOrEqual(3);
  });
});

describe('escalation', () => {
  test('an alert nobody acknowledges is escalated once, by the delayed job', async () => {
    const incident = await raise('lab', Date.UTC(2026, 11, 2));
    const esc = await rig.fake.waitFor(
      r =>
        r.method === 'POST' &&
        r.conversationId === ESC.conversationId &&
        texts(r).includes('lab: checks failing'),
      'the escalation post',
    );
    expect(texts(esc)).toContain('Escalated at ');
    expect(cardProblems(cardOf(esc))).toEqual([]);
    await until(
      async () =>
        (await state.get(incident.id))?.posts.some(p => p.conversation === ESC.conversationId) ===
        true,
      'the escalation post recorded',
    );
    // The timer again (a retried pipeline) and the worker again: nothing new.
    await escalations.schedule(incident.id, 0);
    expect(await escalations.fire(incident.id)).toBe('already escalated');
    await until(async () => (await outbox.pending()) === 0, 'outbox idle');
    expect(
      rig.fake.postsTo(ESC.conversationId).filter(r => texts(r).includes('lab: checks failing')),
    ).toHaveLength(1);
    // The subscriber's card says it was escalated too.
    const opsPost = posted(OPS.conversationId, 'lab')[0]!;
    await rig.fake.waitFor(
      r =>
        r.method === 'PUT' && r.activityId === opsPost.answer && texts(r).includes('Escalated at'),
      'the first card shows the escalation',
    );
    // Acknowledged from the escalation channel: the original card follows.
    const answer = await press(ESC, esc.answer!, 'ackAlert', { incident: incident.id });
    expect(answer).toContain('Acknowledged by Alex Wilber');
    await rig.fake.waitFor(
      r =>
        r.method === 'PUT' &&
        r.activityId === opsPost.answer &&
        texts(r).includes('Acknowledged by Alex Wilber'),
      'the subscriber’s card acknowledged from the escalation channel',
    );
  });
});

describe('maintenance windows', () => {
  test('a window typed in chat mutes alerts while open and ends by itself', async () => {
    const now = Date.now();
    const iso = (t: number) => new Date(t).toISOString().slice(0, 16);
    const from = Math.floor(now / 60_000) * 60_000 - H;
    const to = from + 3 * H;
    const res = await post(
      rig.bot.url,
      message(rig.fake.url, OPS, `mute stage from ${iso(from)} to ${iso(to)}`),
    );
    expect(res.status).toBe(200);
    const reply = await rig.fake.waitFor(
      r => r.method === 'POST' && texts(r).includes('Alerts for stage are muted from'),
      'the mute confirmation',
    );
    expect(texts(reply)).toContain('the window ends by itself');
    const before = rig.fake.requests.length;
    // Failing inside the window: the alert is held back.
    await pipeline.afterRun(failingRun('stage', from + 10 * 60_000), scheduled('stage'));
    await pipeline.afterRun(failingRun('stage', from + 70 * 60_000), scheduled('stage'));
    await until(async () => (await outbox.pending()) === 0, 'outbox idle');
    expect(rig.fake.requests.slice(before).filter(r => texts(r).includes('stage:'))).toEqual([]);
    // The first scheduled run after the window tells, with the alert card to acknowledge.
    await pipeline.afterRun(failingRun('stage', to + 5 * 60_000), scheduled('stage'));
    const alert = await rig.fake.waitFor(
      r => r.method === 'POST' && texts(r).includes('stage: checks failing'),
      'the alert after the window',
      before,
    );
    expect(JSON.stringify(cardOf(alert))).toContain('ackAlert');
  });

  test('a window in the past or malformed is refused, saying the time rule', async () => {
    for (const [text, want] of [
      ['mute stage from 2020-01-01T00:00 to 2020-01-01T02:00', 'already over'],
      ['mute stage from 2026-12-05T22:00 to 2026-12-05T21:00', 'the end is not after the start'],
      ['mute stage from 2026-12-05 to 2026-12-06', 'UTC unless it ends with an offset'],
      ['mute stage from 2026-12-05T22:00 until 2026-12-06T02:00', '"to" must follow'],
    ]) {
      const from = rig.fake.requests.length;
      await post(rig.bot.url, message(rig.fake.url, OPS, text!));
      const r = await rig.fake.waitFor(r => r.method === 'POST', text!, from);
      expect(texts(r)).toContain(want);
    }
  });

  test('weekly windows from the inventory count, read through the same check', async () => {
    const weekly = loadInventory(
      inventoryFile([
        'maintenance:',
        '  - { days: [sat], from: "22:00", to: "02:00", tz: Europe/Amsterdam }',
      ]),
    );
    const p = new AlertPipeline({
      queue: cfg,
      store: rig.store,
      outbox,
      oncall: { state, configOf: onCallConfigOf(() => weekly) },
    });
    try {
      // Saturday 5 December 2026, 23:00 in Amsterdam (UTC+1), and the Friday before.
      expect(await p.muted('stage', new Date('2026-12-05T22:00:00Z'))).toBe(true);
      expect(await p.muted('stage', new Date('2026-12-04T22:00:00Z'))).toBe(false);
    } finally {
      await p.close();
    }
  });
});

describe('who may press', () => {
  test('a crafted invoke for another tenant’s alert is refused and changes nothing', async () => {
    const foreign = openIncident(
      'foreign',
      'foreign-1',
      [{ kind: 'alert', item: 'network', finding: findingOf('network', 'fail'), failures: 2 }],
      new Date(),
    );
    await state.create({ ...foreign, posts: [{ conversation: '19:theirs', activityId: 'act-x' }] });
    const before = rig.fake.requests.length;
    for (const verb of ['ackAlert', 'resolveAlert'])
      expect(await press(OPS, 'act-1', verb, { incident: foreign.id })).toContain(
        'This alert is not known here',
      );
    // The same answer as for an alert that never was: nothing tells it exists.
    expect(await press(OPS, 'act-1', 'ackAlert', { incident: 'inc-never-1' })).toContain(
      'This alert is not known here',
    );
    expect((await state.get(foreign.id))?.status).toBe('open');
    await until(async () => (await outbox.pending()) === 0, 'outbox idle');
    expect(rig.fake.requests.slice(before).filter(r => r.method === 'PUT')).toEqual([]);
  });

  test('data that is not an incident id is refused by the schema', async () => {
    expect(await press(OPS, 'act-1', 'ackAlert', { incident: '../../etc' })).toContain(
      'not an alert of ecebot',
    );
  });
});
