/**
 * The bot end to end over HTTP: Bot Framework activities posted to the real restify +
 * CloudAdapter endpoint, replies recorded by a fake Bot Connector, runs made by the real
 * probes against the lab. `check lab` must answer with the running card before any probe has
 * finished, then update *that* card in place until it shows what an independent run of the
 * checklist against the same lab finds. Buttons (re-run, share), the message extension and
 * the other commands go through the same path.
 */
import type { ItemId, Run, Status } from '../../src/model';
import { itemTitle } from '../../src/i18n';
import { loadInventory, pickEnvironment, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import type { MemoryStore } from '../../src/store/memory';
import { adminCheck } from '../../src/teams/access';
import type { BotServer } from '../../src/teams/server';
import { cardProblems, cardTexts } from './support/adaptive';
import { ALEX, execute, MEGAN, message, post, search, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import type { FakeConnector } from './support/fake-connector';
import { cardOf } from './support/fake-connector';

/** How the card marks each status (the run card's first column). */
const MARK: Record<Status, string> = { pass: '✔', warn: '⚠', fail: '✖', skip: '–', error: '?' };

const TEAM = {
  id: '19:mailops-team@thread.tacv2',
  name: 'Mail Ops',
  channelId: '19:ops@thread.tacv2',
  channelName: 'Ops',
};
const PERSONAL: Where = { conversationId: 'a:1personal-alex' };
const CHANNEL: Where = { conversationId: `${TEAM.channelId};messageid=1700000000001`, team: TEAM };

let lab: Lab;
let inv: Inventory;
let fake: FakeConnector;
let store: MemoryStore;
let bot: BotServer;
let rig: BotRig;
let expected: Run;

beforeAll(async () => {
  // A failing mailbox setting, and a server whose path to Entra is black-holed: that server
  // reports only after its TLS deadline, so the card has time to show partial progress.
  lab = await startLab({
    scenarios: pickScenarios('smtp-auth-disabled,login-blocked-on-app-server', suggest),
  });
  inv = loadInventory(lab.info.inventory);
  rig = await startBotRig(() => inv, {
    channels: {
      [TEAM.id]: [
        { id: TEAM.id },
        { id: TEAM.channelId, name: 'Ops' },
        { id: '19:esc@thread.tacv2', name: 'Escalations' },
      ],
    },
    server: { isAdmin: adminCheck([ALEX.aadObjectId]) },
  });
  ({ fake, store, bot } = rig);
  expected = await runInProcess(prepareRun(pickEnvironment(inv, 'lab', 'lab'), inv, { vars: {} }));
});

afterAll(async () => {
  await rig?.close();
  await lab?.stop();
});

/**
 * The rows of a run card, mark and `**title** — summary` text: each problem's (or, while the
 * run goes, each item's) row, whose click opens its Details, then the passing items the passed
 * line opens.
 */
function rows(card: Record<string, unknown>): { mark: string; text: string }[] {
  const out: { mark: string; text: string }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const target = (o.selectAction as { targetElements?: string[] } | undefined)
      ?.targetElements?.[0];
    if (o.type === 'ColumnSet' && target?.startsWith('details-')) {
      const cols = o.columns as { items: { text: string }[] }[];
      out.push({ mark: cols[0]!.items[0]!.text, text: cols[1]!.items[0]!.text });
      return;
    }
    if (o.id === 'passed') {
      for (const t of o.items as { text: string }[])
        out.push({ mark: '✔', text: t.text.replace(/^✔ /, '') });
      return;
    }
    Object.values(o).forEach(walk);
  };
  walk(card.body);
  return out;
}

/** Every item of the run is on the card by its title: a row, a passed line, or "Also:". */
function expectEveryItem(card: Record<string, unknown>, findings: { item: ItemId }[]) {
  const text = cardTexts(card).join('\n');
  for (const f of findings) expect(text).toContain(itemTitle(f.item, 'en'));
}

function verbs(card: Record<string, unknown> | undefined): string[] {
  return ((card?.actions as { verb?: string }[] | undefined) ?? []).flatMap(a =>
    a.verb ? [a.verb] : [],
  );
}

const isDone = (card: Record<string, unknown> | undefined) => verbs(card).includes('rerun');

function invokeCard(body: unknown): Record<string, unknown> {
  const b = body as { statusCode: number; type: string; value: Record<string, unknown> };
  expect(b.statusCode).toBe(200);
  expect(b.type).toBe('application/vnd.microsoft.card.adaptive');
  expect(cardProblems(b.value)).toEqual([]);
  return b.value;
}

describe('check lab', () => {
  let activityId: string;
  let runId: string;

  test('answers with the running card at once, then updates that card in place to the lab’s result', async () => {
    const from = fake.requests.length;
    const res = await post(bot.url, message(fake.url, PERSONAL, 'check lab'));
    expect(res.status).toBe(200);

    // By the time the HTTP turn returned, the running card was posted and nothing had finished.
    const atReturn = fake.requests.slice(from);
    const replies = fake.postsTo(PERSONAL.conversationId, from);
    expect(replies).toHaveLength(1);
    const running = cardOf(replies[0]!)!;
    expect(cardProblems(running)).toEqual([]);
    expect(verbs(running)).toEqual([]);
    expect(cardTexts(running).join('\n')).toMatch(/Running: \d of 9 items done|Queued/);
    expect(rows(running)).toHaveLength(9);
    // Items that need the black-holed server cannot be done yet.
    const networkRow = rows(running).find(r => r.text.startsWith('**Network'))!;
    expect(['·', '…']).toContain(networkRow.mark);
    expect(atReturn.filter(r => r.method === 'PUT' && isDone(cardOf(r)))).toHaveLength(0);
    activityId = replies[0]!.answer!;
    expect(activityId).toBeTruthy();

    const final = await fake.waitFor(
      r => r.method === 'PUT' && r.activityId === activityId && isDone(cardOf(r)),
      'the finished card',
      from,
    );
    await bot.idle();
    // In place: the same conversation and activity, and no second message.
    expect(final.conversationId).toBe(PERSONAL.conversationId);
    expect(fake.postsTo(PERSONAL.conversationId, from)).toHaveLength(1);

    // Updates before the last one show partial progress: some items done, network still running.
    const puts = fake.requests
      .slice(from)
      .filter(r => r.method === 'PUT' && r.activityId === activityId);
    expect(puts.at(-1)).toBe(final);
    const partial = puts.slice(0, -1).map(r => cardOf(r)!);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every(c => !isDone(c))).toBe(true);
    expect(
      partial.some(c => rows(c).some(r => r.mark === '✔') && rows(c).some(r => r.mark === '…')),
    ).toBe(true);

    // The final card says what an independent run against the same lab says.
    const card = cardOf(final)!;
    expect(cardProblems(card)).toEqual([]);
    expectEveryItem(card, expected.findings);
    // Each problem row carries its item's mark; folded consequences are named under a row.
    for (const r of rows(card)) expect(Object.values(MARK)).toContain(r.mark);
    const text = cardTexts(card).join('\n');
    expect(text).toContain('Problems found');
    for (const f of expected.findings.filter(x => x.status === 'fail')) {
      const fix = f.remediation.find(r => r.fix)?.fix;
      if (fix) expect(text).toContain(fix.slice(0, 40));
      if (f.failedOn.length) expect(text).toContain(`failed on ${f.failedOn.join(', ')}`);
    }
    expect(text).toContain('Alex Wilber');
    const share = (card.actions as { verb?: string; data?: { runId?: string } }[]).find(
      a => a.verb === 'share',
    );
    runId = share!.data!.runId!;
    expect(await store.getRun(runId)).toMatchObject({ id: runId, status: expected.status });
    expect(await store.cards(runId)).toEqual([
      { conversation: PERSONAL.conversationId, activityId },
    ]);
  });

  test('Re-run failed items turns the same card into a new run of just those items', async () => {
    const failed = expected.findings
      .filter(f => f.status === 'fail' || f.status === 'error')
      .map(f => f.item);
    const from = fake.requests.length;
    const res = await post(
      bot.url,
      execute(fake.url, PERSONAL, activityId, 'rerunFailed', {
        runId,
        environment: 'lab',
        items: failed.join(','),
      }),
    );
    expect(res.status).toBe(200);
    const running = invokeCard(res.body);
    expect(verbs(running)).toEqual([]);
    expect(rows(running)).toHaveLength(failed.length);
    const final = await fake.waitFor(
      r => r.method === 'PUT' && r.activityId === activityId && isDone(cardOf(r)),
      'the re-run card',
      from,
    );
    await bot.idle();
    const card = cardOf(final)!;
    expectEveryItem(
      card,
      expected.findings.filter(f => failed.includes(f.item)),
    );
    expect(cardTexts(card)[0]).toMatch(/^✖ lab — Problems found/);
    // A partial run says which items it covers, under the verdict.
    expect(cardTexts(card)[1]).toBe(failed.map(i => itemTitle(i, 'en')).join(', '));
    // Still no new message: the clicked card became the re-run's card.
    expect(fake.postsTo(PERSONAL.conversationId, from)).toHaveLength(0);
  });

  test('Share: subscribed channels are offered, and the snapshot names who shared it', async () => {
    let from = fake.requests.length;
    await post(bot.url, message(fake.url, CHANNEL, 'subscribe lab'));
    const notice = cardOf(fake.postsTo(CHANNEL.conversationId!, from)[0]!)!;
    expect(cardTexts(notice).join('\n')).toContain('now gets a card when a scheduled check of lab');
    // The subscription names the channel, not the thread it was typed in.
    expect(await store.subscribers('lab')).toEqual([TEAM.channelId]);

    const picker = invokeCard(
      (await post(bot.url, execute(fake.url, PERSONAL, activityId, 'share', { runId }))).body,
    );
    const choices = JSON.stringify(picker);
    // The choice carries the target's kind, id and title (src/teams/share-target.ts).
    expect(choices).toContain(`"value":"c:${TEAM.channelId}|Mail Ops › Ops (subscribed to lab)"`);
    expect(cardTexts(picker)).toContain('Mail Ops › Ops (subscribed to lab)');

    from = fake.requests.length;
    const back = invokeCard(
      (
        await post(
          bot.url,
          execute(fake.url, PERSONAL, activityId, 'shareTo', {
            runId,
            back: 'run',
            target: `c:${TEAM.channelId}`,
          }),
        )
      ).body,
    );
    expect(cardTexts(back).join('\n')).toContain('Shared to Mail Ops › Ops.');
    const snapshot = fake.postsTo(TEAM.channelId, from);
    expect(snapshot).toHaveLength(1);
    const snap = cardOf(snapshot[0]!)!;
    expect(cardProblems(snap)).toEqual([]);
    expect(cardTexts(snap).join('\n')).toMatch(
      /Shared by Alex Wilber on \{\{DATE\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, COMPACT\)\}\} \{\{TIME\(/,
    );
  });

  test('Share inside a team offers its channels and starts a new post there', async () => {
    const picker = invokeCard(
      (await post(bot.url, execute(fake.url, CHANNEL, 'act-x', 'share', { runId }))).body,
    );
    const texts = cardTexts(picker);
    expect(texts).toContain('Mail Ops › Escalations');
    expect(texts).toContain('Mail Ops › General');
    // The subscribed channel is listed once, as the subscription.
    expect(texts.filter(t => t.startsWith('Mail Ops › Ops'))).toEqual([
      'Mail Ops › Ops (subscribed to lab)',
    ]);

    const from = fake.requests.length;
    const res = await post(
      bot.url,
      execute(fake.url, CHANNEL, 'act-x', 'shareTo', {
        runId,
        back: 'notice',
        target: 't:19:esc@thread.tacv2|Mail Ops › Escalations',
      }),
    );
    expect(cardTexts(invokeCard(res.body))).toContain('Shared to Mail Ops › Escalations.');
    const created = fake.requests
      .slice(from)
      .filter(r => r.method === 'POST' && r.path === '/v3/conversations');
    expect(created).toHaveLength(1);
    expect(created[0]!.body.channelData).toMatchObject({ channel: { id: '19:esc@thread.tacv2' } });
    const activity = created[0]!.body.activity as {
      attachments: { content: Record<string, unknown> }[];
    };
    expect(cardTexts(activity.attachments[0]!.content).join('\n')).toContain(
      'Shared by Alex Wilber',
    );
  });

  test('share RUN posts the picker; an unknown run gets an error with a suggestion', async () => {
    let from = fake.requests.length;
    await post(bot.url, message(fake.url, PERSONAL, `share ${runId}`));
    const picker = cardOf(fake.postsTo(PERSONAL.conversationId, from)[0]!)!;
    expect(verbs(picker)).toEqual(['shareTo', 'dismiss']);

    from = fake.requests.length;
    await post(bot.url, message(fake.url, PERSONAL, `share ${runId.slice(0, -1)}x`));
    const err = cardTexts(cardOf(fake.postsTo(PERSONAL.conversationId, from)[0]!)!).join('\n');
    expect(err).toContain('There is no run');
    expect(err).toContain(`Did you mean **`);
  });

  test('the message extension finds runs by environment and returns run cards', async () => {
    const res = await post(bot.url, search(fake.url, PERSONAL, 'lab'));
    expect(res.status).toBe(200);
    const r = (
      res.body as {
        composeExtension: {
          type: string;
          attachments: {
            contentType: string;
            content: Record<string, unknown>;
            preview: { contentType: string };
          }[];
        };
      }
    ).composeExtension;
    expect(r.type).toBe('result');
    expect(r.attachments.length).toBeGreaterThanOrEqual(2);
    for (const a of r.attachments) {
      expect(a.contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(a.preview.contentType).toBe('application/vnd.microsoft.card.thumbnail');
      expect(cardProblems(a.content)).toEqual([]);
      expect(isDone(a.content)).toBe(true);
    }
    const none = await post(bot.url, search(fake.url, PERSONAL, 'nothing-like-this'));
    expect(
      (none.body as { composeExtension: { attachments: unknown[] } }).composeExtension.attachments,
    ).toEqual([]);
  });
});

describe('other commands', () => {
  const DUTCH: Where = { conversationId: 'a:1personal-megan', user: MEGAN, locale: 'nl-NL' };

  async function ask(w: Where, text: string): Promise<string> {
    const from = fake.requests.length;
    const res = await post(bot.url, message(fake.url, w, text));
    expect(res.status).toBe(200);
    const sent = fake.postsTo(w.conversationId, from);
    expect(sent).toHaveLength(1);
    const card = cardOf(sent[0]!)!;
    expect(cardProblems(card)).toEqual([]);
    return cardTexts(card).join('\n');
  }

  test('help, in English and in Dutch', async () => {
    expect(await ask(PERSONAL, 'help')).toContain('signin ENV MAILBOX');
    const nl = await ask(DUTCH, 'HELP');
    expect(nl).toContain('ecebot-opdrachten');
    expect(nl).toContain('Voer de checklist uit op een omgeving');
  });

  test('envs, status and history read the inventory and the store', async () => {
    const envs = await ask(PERSONAL, 'envs');
    expect(envs).toContain('**lab**');
    expect(envs).toContain('ECE 12.6(1) ES10 · 2 servers · 2 mailboxes');
    expect(await ask(PERSONAL, 'status lab')).toContain('Problems found');
    const history = await ask(PERSONAL, 'history lab');
    expect(history).toContain('History of lab');
    expect(history.match(/lab-\d{14}-[0-9a-f]{4}/g)?.length).toBeGreaterThanOrEqual(2);
  });

  test('typos get a suggestion; bad input an error card, in the reader’s language', async () => {
    expect(await ask(PERSONAL, 'chek lab')).toContain('Did you mean **check**?');
    expect(await ask(PERSONAL, 'check lba')).toContain('Did you mean **lab**?');
    expect(await ask(DUTCH, 'check lab netwerk')).toContain('Er is geen checklist-item "netwerk"');
    expect(await ask(PERSONAL, `check ${'x'.repeat(600)}`)).toContain('commands are at most 500');
    expect(await ask(PERSONAL, 'envs now')).toContain('Too many arguments: "now"');
  });

  test('mute and unsubscribe change the store; admins only once a list is set', async () => {
    expect(await ask(PERSONAL, 'mute lab 2h')).toContain('Alerts for lab are muted until');
    const until = await store.mutedUntil('lab');
    expect(until).toBeDefined();
    expect(await ask(PERSONAL, 'mute lab off')).toContain('no longer muted');
    expect(await store.mutedUntil('lab')).toBeUndefined();

    // Megan is not in the admin list.
    expect(await ask(DUTCH, 'subscribe lab')).toContain(
      'Alleen ecebot-beheerders mogen subscribe gebruiken.',
    );
    expect(await store.subscriptionsOf(DUTCH.conversationId)).toEqual([]);
    // Reading stays open to everyone.
    expect(await ask(DUTCH, 'envs')).toContain('Omgevingen');

    expect(await ask(CHANNEL, 'unsubscribe lab')).toContain('No more alerts for lab');
    expect(await store.subscribers('lab')).toEqual([]);
    expect(await ask(CHANNEL, 'unsubscribe lab')).toContain('had no alerts for lab');
  });

  test('a check in Dutch writes the card in Dutch', async () => {
    const from = fake.requests.length;
    await post(bot.url, message(fake.url, DUTCH, 'check lab license'));
    const reply = fake.postsTo(DUTCH.conversationId, from)[0]!;
    const final = await fake.waitFor(
      r => r.method === 'PUT' && r.activityId === reply.answer && isDone(cardOf(r)),
      'the Dutch card',
      from,
    );
    await bot.idle();
    const text = cardTexts(cardOf(final)!).join('\n');
    expect(text).toContain('**Exchange Online-licentie**');
    expect(text).toContain('Alle controles in orde');
    expect(verbs(cardOf(final))).toEqual(['rerun', 'share', 'bundle']);
  });
});
