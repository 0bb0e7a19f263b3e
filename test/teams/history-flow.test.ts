/**
 * `history ENV [ITEM]` end to end: messages posted to the real bot (restify + CloudAdapter),
 * a real run of the checklist against the lab made through chat, and the history card the fake
 * connector records: the uptime line, a `Chart.Line` of uptime per day and a `Chart.VerticalBar`
 * per item, each with its text fallback ("Charts in Adaptive Cards",
 * learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/charts-in-adaptive-cards),
 * in English and Dutch. Another tenant asking about the environment gets exactly the answer
 * `status` gives for a name that does not exist.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { Run, Status } from '../../src/model';
import { cardProblems, cardTexts } from './support/adaptive';
import { message, post, type User, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import { cardOf } from './support/fake-connector';

const TENANT_B = randomUUID();
const ANN: User = { id: '29:ann', name: 'Ann', aadObjectId: randomUUID() };
const BOB: User = { id: '29:bob', name: 'Bob', aadObjectId: randomUUID() };

let lab: Lab;
let inv: Inventory;
let rig: BotRig;
let tenantA: string;
let run: Run;

interface Place extends Where {
  tenant: string;
}
const personal = (user: User, tenant: string, locale?: string): Place => ({
  conversationId: `a:1personal-${tenant}-${user.id}-${locale ?? 'en'}`,
  user,
  tenant,
  ...(locale ? { locale } : {}),
});

/** Post a message from a place; the one card the bot answered with. */
async function askCard(w: Place, text: string): Promise<Record<string, unknown>> {
  const { fake, bot } = rig;
  const from = fake.requests.length;
  const a = message(fake.url, w, text);
  const res = await post(bot.url, {
    ...a,
    channelData: { ...a.channelData, tenant: { id: w.tenant } },
    conversation: { ...a.conversation, tenantId: w.tenant },
  });
  expect(res.status).toBe(200);
  const sent = fake.postsTo(w.conversationId, from);
  expect(sent).toHaveLength(1);
  const card = cardOf(sent[0]!)!;
  // The adaptivecards parser takes the card without a complaint (a Chart.* element with a
  // fallback is not one: ./support/adaptive.ts).
  expect(cardProblems(card)).toEqual([]);
  return card;
}
const text = (card: unknown) => cardTexts(card).join('\n');

/** Elements of a card of a type, wherever they are. */
function elements(card: unknown, type: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === type) out.push(o);
    Object.values(o).forEach(walk);
  };
  walk(card);
  return out;
}

/** Up, down or not counted, as docs/history.md defines uptime. */
const up = (s: Status) => s === 'pass' || s === 'warn';
const down = (s: Status) => s === 'fail';

beforeAll(async () => {
  // One item fails (SMTP AUTH off for a mailbox), so the figures are not all 100 %.
  lab = await startLab({ scenarios: pickScenarios('smtp-auth-disabled', suggest) });
  tenantA = lab.tenant.tenantId;
  const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: Record<string, Record<string, unknown>>;
  };
  const lab0 = doc.environments.lab!;
  doc.environments = {
    alpha: structuredClone(lab0),
    beta: { ...structuredClone(lab0), tenant: { id: TENANT_B } },
  };
  const file = join(lab.dir, 'history.yaml');
  writeFileSync(file, stringify(doc));
  inv = loadInventory(file);
  rig = await startBotRig(() => inv, {
    server: { vars: { ECEBOT_TENANTS: [tenantA, TENANT_B].join(',') } },
  });
  // A real run, asked for in chat; the card follows it until it is saved.
  await askCard(personal(ANN, tenantA), 'check alpha');
  const deadline = Date.now() + 60_000;
  while (!(await rig.store.history('alpha', 1)).length) {
    if (Date.now() > deadline) throw new Error('the run of alpha did not finish in 60 s');
    await new Promise(r => setTimeout(r, 200));
  }
  await rig.bot.idle();
  run = (await rig.store.getRun((await rig.store.history('alpha', 1))[0]!.id))!;
}, 90_000);

afterAll(async () => {
  await rig?.close();
  await lab?.stop();
});

test('history ENV: the uptime of the run the chat made, a line chart and a bar per item, each with a fallback', async () => {
  const card = await askCard(personal(ANN, tenantA), 'history alpha');
  const t = text(card);
  expect(t).toContain('History of alpha');
  // One run, whose status is its worst finding's: the lab's scenario makes it fail.
  expect(run.status).toBe('fail');
  expect(t).toContain(
    'Uptime over the last 7 days: **0.0%** (0 of 1 counted runs passed or warned)',
  );
  expect(t).toContain(run.id);

  const [line] = elements(card, 'Chart.Line');
  expect(line).toMatchObject({
    title: 'Uptime per day (%)',
    data: [{ legend: 'alpha', values: [{ x: run.finishedAt.slice(0, 10), y: 0 }] }],
  });
  // The fallback says the same in text: the run's mark and the day's figure.
  expect(line!.fallback).toMatchObject({ type: 'Container', id: 'history-fallback' });
  expect(text(line!.fallback)).toContain('✖');
  expect(text(line!.fallback)).toContain('0.0% of 1 run');

  const [bars] = elements(card, 'Chart.VerticalBar');
  // One bar per item the run judged and counted: 100 when it passed or warned, 0 when it failed.
  const expected = run.findings
    .filter(f => up(f.status) || down(f.status))
    .map(f => ({ x: f.item, y: up(f.status) ? 100 : 0 }));
  expect(expected.some(b => b.y === 0)).toBe(true);
  expect(bars!.data).toEqual(expected);
  expect(bars!.fallback).toMatchObject({ type: 'Container', id: 'history-items-fallback' });
});

test('history ENV ITEM: the item alone, its runs with its status', async () => {
  const failing = run.findings.find(f => f.status === 'fail')!;
  const card = await askCard(personal(ANN, tenantA), `history alpha ${failing.item}`);
  const t = text(card);
  expect(t).toMatch(new RegExp(`History of alpha: ${failing.title.replace(/[()]/g, '.')}`));
  expect(t).toContain('**0.0%** (0 of 1 counted runs');
  expect(t).toContain(`${failing.title}: fail`);
  expect(elements(card, 'Chart.VerticalBar')).toEqual([]);
  const passing = run.findings.find(f => f.status === 'pass')!;
  expect(text(await askCard(personal(ANN, tenantA), `history alpha ${passing.item}`))).toContain(
    '**100.0%** (1 of 1 counted runs',
  );
});

test('in Dutch: the labels and the decimal comma', async () => {
  const t = text(await askCard(personal(ANN, tenantA, 'nl-NL'), 'history alpha'));
  expect(t).toContain('Geschiedenis van alpha');
  expect(t).toContain('Beschikbaarheid over de laatste 7 dagen: **0,0%**');
  expect(t).toContain('Beschikbaarheid per dag (%)');
  expect(t).toContain('Laatste 1 runs, oudste eerst:');
});

test('another tenant gets exactly what status says for an environment it cannot see', async () => {
  const b = personal(BOB, TENANT_B);
  const status = text(await askCard(b, 'status alpha'));
  expect(status).toContain('There is no environment "alpha".');
  expect(text(await askCard(b, 'history alpha'))).toBe(status);
  expect(text(await askCard(b, 'history alpha network'))).toBe(status);
  // And its own environment's history is empty, never alpha's runs.
  const own = text(await askCard(b, 'history beta'));
  expect(own).not.toContain(run.id);
  expect(own).toContain('No counted run in the last 7 days');
});
