/**
 * The bot in a client we did not write: the Microsoft 365 Agents Playground, a local Teams-like
 * web client with its own mocked Bot Connector, in front of the real bot checking the lab.
 * Two variants (playground-notes.md): through the Playground's own HTTP + WebSocket API (what
 * its web client uses), and in its web UI driven by playwright-core in Debian's Chromium. Both:
 * `check lab`, the card renders and is updated in place to the lab's result, Re-run refreshes
 * it. Everything stays on 127.0.0.1: the Playground runs with the loopback guard preloaded,
 * and Chromium resolves no names and has every non-loopback request aborted.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import WebSocket from 'ws';
import type { Run, Status } from '../../src/model';
import { itemTitle } from '../../src/i18n';
import { loadInventory, pickEnvironment, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import { MemoryStore } from '../../src/store/memory';
import { MemoryItemHistory, recordingRuns } from '../../src/store/item-history';
import type { Store } from '../../src/store/types';
import { EmbeddedRunService } from '../../src/teams/run-service';
import { startBotServer, type BotServer } from '../../src/teams/server';
import { cardProblems, cardTexts } from './support/adaptive';
import { startPlayground, type Playground } from './support/playground';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const MARK: Record<Status, string> = { pass: '✔', warn: '⚠', fail: '✖', skip: '–', error: '?' };
const RUN_ID = /lab-\d{14}-[0-9a-f]{4}/;

let lab: Lab;
let inv: Inventory;
let store: Store;
let itemHistory: MemoryItemHistory;
let runs: EmbeddedRunService;
let bot: BotServer;
let expected: Run;

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('smtp-auth-disabled', suggest) });
  inv = loadInventory(lab.info.inventory);
  // Wired as `ecebot serve` wires it: every saved run also leaves its marks in the history.
  itemHistory = new MemoryItemHistory();
  store = recordingRuns(new MemoryStore(), itemHistory, err => {
    throw err;
  });
  runs = new EmbeddedRunService(() => inv, store, {});
  bot = await startBotServer({ inventory: () => inv, store, itemHistory, runs, vars: {}, port: 0 });
  expected = await runInProcess(prepareRun(pickEnvironment(inv, 'lab', 'lab'), inv, { vars: {} }));
});

afterAll(async () => {
  await bot?.close();
  await runs?.close();
  await lab?.stop();
});

/** Nothing the Playground did was refused by the loopback guard. */
function expectStayedOnLoopback(pg: Playground) {
  expect(`${pg.output()}\n${pg.log()}`).not.toMatch(/loopback guard|ELOOPBACKGUARD/);
}

type Card = Record<string, unknown>;

function verbs(card: Card): string[] {
  return ((card.actions as { verb?: string }[] | undefined) ?? []).flatMap(a =>
    a.verb ? [a.verb] : [],
  );
}

/** The card tells the lab's result: its verdict mark, and every item by its title. */
function expectVerdict(card: Card) {
  const text = cardTexts(card).join('\n');
  expect(text).toContain(`${MARK[expected.status]} lab — `);
  for (const f of expected.findings) expect(text).toContain(`**${itemTitle(f.item, 'en')}**`);
}

const runIdOf = (card: Card) => RUN_ID.exec(cardTexts(card).join('\n'))?.[0];

describe('Agents Playground through its HTTP and WebSocket API', () => {
  interface StreamEvent {
    action: string;
    actionConversationId: string;
    message: { messageId: string; attachments?: { contentType: string; content: Card }[] };
  }
  let pg: Playground;
  let ws: WebSocket;
  const events: StreamEvent[] = [];
  const waiters = new Set<() => void>();

  function waitEvent(
    pred: (e: StreamEvent) => boolean,
    what: string,
    from = 0,
  ): Promise<StreamEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`no Playground event: ${what}; saw ${events.map(e => e.action).join(', ')}`),
        );
      }, 30_000);
      const check = () => {
        const e = events.slice(from).find(pred);
        if (!e) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(e);
      };
      waiters.add(check);
      check();
    });
  }

  const cardIn = (e: StreamEvent) => e.message.attachments?.[0]?.content;

  beforeAll(async () => {
    pg = await startPlayground(bot.url);
    // Open the stream before anything is sent (the Playground may not buffer conversation events).
    ws = new WebSocket(`ws://127.0.0.1:${pg.port}/_ws_conversation/v1/conversations/stream`);
    ws.on('message', data => {
      events.push(JSON.parse(String(data)) as StreamEvent);
      for (const w of [...waiters]) w();
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  });

  afterAll(async () => {
    ws?.close();
    await pg?.stop();
  });

  test('check lab: the card arrives, is updated in place to the lab’s result, and Re-run refreshes it', async () => {
    const api = async (path: string, body: unknown) => {
      const res = await fetch(`${pg.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      return text ? (JSON.parse(text) as unknown) : undefined;
    };
    const { config } = (await fetch(`${pg.base}/_internal/v1/config`).then(r => r.json())) as {
      config: { personalChat: { id: string }; currentUser: { id: string } };
    };
    const chat = config.personalChat.id;
    const user = config.currentUser.id;
    // What the web client does when it connects: install the app into the chat.
    await api(`/_debug/conversation/${encodeURIComponent(chat)}/installation`, {});

    await api(`/_conversation/v1/conversations/${encodeURIComponent(chat)}/messages`, {
      from: { id: user },
      text: 'check lab',
      textFormat: 'plain',
    });
    const created = await waitEvent(
      e => e.action === 'createMessage' && !!cardIn(e),
      'the run card',
    );
    const messageId = created.message.messageId;
    const first = cardIn(created)!;
    expect(cardProblems(first)).toEqual([]);
    expect(verbs(first)).toEqual([]);
    expect(cardTexts(first).join('\n')).toMatch(/Running: \d of 9 items done|Queued/);

    const done = await waitEvent(
      e =>
        e.action === 'updateMessage' &&
        e.message.messageId === messageId &&
        verbs(cardIn(e)!).includes('rerun'),
      'the finished card, in place',
    );
    const card = cardIn(done)!;
    expect(cardProblems(card)).toEqual([]);
    expectVerdict(card);
    expect(verbs(card)).toEqual(['rerun', 'rerunFailed', 'share', 'bundle']);
    const runId = runIdOf(card)!;
    expect(runId).toBeDefined();
    // The bot never posted a second message for this run.
    expect(events.filter(e => e.action === 'createMessage')).toHaveLength(1);

    const from = events.length;
    const answer = (await api('/_conversation/v1/invoke', {
      name: 'adaptiveCard/action',
      value: {
        action: { type: 'Action.Execute', verb: 'rerun', data: { runId, environment: 'lab' } },
        trigger: 'manual',
      },
      from: { id: user },
      conversation: { id: chat },
      replyToId: messageId,
    })) as { type: string; value: Card };
    // The invoke answer is the refreshed card: a new run, running.
    expect(answer.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(verbs(answer.value)).toEqual([]);
    const rerunId = runIdOf(answer.value)!;
    expect(rerunId).not.toBe(runId);

    const again = await waitEvent(
      e =>
        e.action === 'updateMessage' &&
        e.message.messageId === messageId &&
        verbs(cardIn(e)!).includes('rerun') &&
        runIdOf(cardIn(e)!) === rerunId,
      'the re-run card, in place',
      from,
    );
    expectVerdict(cardIn(again)!);
    await bot.idle();
    expect(events.filter(e => e.action === 'createMessage')).toHaveLength(1);
    expectStayedOnLoopback(pg);
  });
});

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `playground.test.ts: the browser test is skipped because ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`,
  );
}

(haveChromium ? describe : describe.skip)('Agents Playground web UI in Chromium', () => {
  let pg: Playground;
  let ctx: BrowserContext;
  const blocked: string[] = [];

  beforeAll(async () => {
    pg = await startPlayground(bot.url);
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ecebot-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      // Tall enough that the screenshots show the whole run card.
      viewport: { width: 1400, height: 2000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // No name resolution at all except for loopback: a request that slips past the route
        // below still cannot leave the machine.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    await ctx.route(
      url => url.protocol.startsWith('http') && url.hostname !== '127.0.0.1',
      route => {
        blocked.push(route.request().url());
        return route.abort();
      },
    );
  });

  afterAll(async () => {
    await ctx?.close();
    await pg?.stop();
  });

  test('type check lab, see the card render, press Re-run', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${pg.base}/`, { waitUntil: 'domcontentloaded' });
    const box = page.getByRole('textbox');
    await box.click({ timeout: 30_000 });
    await page.keyboard.type('check lab');
    await page.getByRole('button', { name: 'Send Message' }).click();

    const cards = page.locator('.ac-adaptiveCard').filter({ hasText: 'lab — ' });
    const rerun = cards.getByRole('button', { name: 'Re-run', exact: true });
    await rerun.waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'playground-check-lab.png') });
    expect(await cards.count()).toBe(1);
    const text = await cards.innerText();
    expect(text).toContain('Problems found');
    expect(text).toContain('Mailbox protocols');
    const runId = RUN_ID.exec(text)?.[0];
    expect(runId).toBeDefined();

    await rerun.click();
    // In place: the same single card now shows a new run, finished again.
    await page
      .locator('.ac-adaptiveCard')
      .filter({ hasText: RUN_ID })
      .filter({ hasNotText: runId! })
      .getByRole('button', { name: 'Re-run', exact: true })
      .waitFor({ state: 'visible', timeout: 30_000 });
    await bot.idle();
    await page.screenshot({ path: join(ARTIFACTS, 'playground-rerun.png') });
    expect(await cards.count()).toBe(1);
    expect(await cards.innerText()).not.toContain(runId!);
    // Only the Office font CDN may have been asked for, and it was refused here.
    for (const url of blocked) expect(new URL(url).hostname).not.toBe('127.0.0.1');
    expectStayedOnLoopback(pg);
  });

  /** Type a command into the Playground's compose box and send it. */
  async function send(text: string) {
    const page = ctx.pages()[0]!;
    await page.getByRole('textbox').click({ timeout: 30_000 });
    await page.keyboard.type(text);
    await page.getByRole('button', { name: 'Send Message' }).click();
    return page;
  }

  test('history lab: the card shows the uptime of the runs above, its charts and the runs', async () => {
    const page = await send('history lab');
    const card = page.locator('.ac-adaptiveCard').filter({ hasText: 'History of lab' });
    await card.waitFor({ state: 'visible', timeout: 30_000 });
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'playground-history.png') });
    await card.screenshot({ path: join(ARTIFACTS, 'playground-history-card.png') });
    const text = await card.innerText();
    // Every check of this file (the API's and the browser's, each with its re-run) is a run of a
    // lab whose scenario fails an item (checklist item 5): all count, none is up.
    const n = (await store.history('lab', 50)).length;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(expected.status).toBe('fail');
    expect(text).toContain(`0 of ${n} counted runs passed or warned`);
    for (const r of await store.history('lab', 50)) expect(text).toContain(r.id);
    // The Playground draws Adaptive Card charts as Teams does (its renderer knows Chart.Line and
    // Chart.VerticalBar), so the charts show with their axis titles rather than their fallback.
    expect(text).toContain('Day (UTC)');
    expect(text).not.toMatch(/Unknown element/);
    expectStayedOnLoopback(pg);
  });

  test('overview: every environment the chat may see, with its worst item', async () => {
    const page = await send('overview');
    const card = page.locator('.ac-adaptiveCard').filter({ hasText: 'All environments (' });
    await card.waitFor({ state: 'visible', timeout: 30_000 });
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'playground-overview.png') });
    await card.screenshot({ path: join(ARTIFACTS, 'playground-overview-card.png') });
    const text = await card.innerText();
    // The lab's inventory is the whole inventory: one environment, last seen failing.
    expect(text).toContain(`All environments (${inv.environments.size})`);
    // Worst first: a failing item, the first in checklist order.
    const worst = expected.findings.find(f => f.status === 'fail')!;
    expect(text).toContain(itemTitle(worst.item, 'en'));
    expect(text).toContain(worst.code!);
    expectStayedOnLoopback(pg);
  });
});
