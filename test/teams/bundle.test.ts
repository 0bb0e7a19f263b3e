/**
 * The run card's Support bundle button, end to end over /api/messages (the real restify +
 * CloudAdapter server, Action.Execute invokes as Teams sends them) and the bot's download
 * route. Two Teams tenants use the bot (ECEBOT_TENANTS): `prod` is tenant A's, `other` tenant
 * B's. An admin of A gets, in the invoke's answer only (teams-bot-notes.md §3), a link that
 * works once and for a short while; a non-admin, B's admin and hostile run ids get no link,
 * and B's admin gets the answer for a run that never was.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadInventory, type Inventory } from '../../src/inventory/load';
import type { Run } from '../../src/model';
import { cardProblems, cardTexts } from './support/adaptive';
import { execute, post, type User, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import { GUID, inventoryFile, leakyRun, PLANTED, VARS } from '../bundle/fixtures';
import { readZip } from '../bundle/zip-reader';

const TENANT_A = GUID(1);
const TENANT_B = GUID(5);
const A_ADMIN: User = { id: '29:a-admin', name: 'Ann', aadObjectId: randomUUID() };
const A_USER: User = { id: '29:a-user', name: 'Una', aadObjectId: randomUUID() };
const B_ADMIN: User = { id: '29:b-admin', name: 'Bob', aadObjectId: randomUUID() };

let inv: Inventory;
let rig: BotRig;
let base: string;
let clock = Date.UTC(2026, 11, 3, 9, 30);
const run: Run = leakyRun();
const otherRun: Run = { ...leakyRun(), id: 'other-20261203091500-0b0b', environment: 'other' };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise(r => s.close(r));
  return port;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-bundle-bot-'));
  inv = loadInventory(inventoryFile(dir));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  rig = await startBotRig(() => inv, {
    server: {
      port,
      now: () => new Date(clock),
      vars: {
        ...VARS,
        ECEBOT_TENANTS: `${TENANT_A},${TENANT_B}`,
        ECEBOT_ADMINS: `${A_ADMIN.aadObjectId},${B_ADMIN.aadObjectId}`,
        ECEBOT_PUBLIC_URL: base,
      },
    },
  });
  await rig.store.saveRun(run);
  await rig.store.saveRun(otherRun);
});

afterAll(async () => {
  await rig?.close();
});

/** Press the bundle button of a run as `user` in `tenant`; the card the invoke answered with. */
async function press(user: User, tenant: string, runId: string) {
  const w: Where = { conversationId: `a:1chat-${user.id}`, user };
  const a = execute(rig.fake.url, w, 'card-1', 'bundle', { runId });
  const placed = {
    ...a,
    channelData: { ...a.channelData, tenant: { id: tenant } },
    conversation: { ...a.conversation, tenantId: tenant },
  };
  const from = rig.fake.requests.length;
  const res = await post(rig.bot.url, placed);
  expect(res.status).toBe(200);
  const card = (res.body as { value: { actions?: { type: string; url?: string }[] } }).value;
  // The answer is the invoke's alone: nothing was posted to the conversation.
  expect(rig.fake.requests.slice(from)).toEqual([]);
  const link = card.actions?.find(x => x.type === 'Action.OpenUrl')?.url;
  return { card, texts: cardTexts(card).join('\n'), link };
}

test('an admin gets a link that works once: GET shows a page, POST gives the zip, then it is spent', async () => {
  const { card, texts, link } = await press(A_ADMIN, TENANT_A, run.id);
  expect(cardProblems(card)).toEqual([]);
  expect(texts).toContain(`ecebot bundle ${run.id}`);
  expect(link).toMatch(new RegExp(`^${base}/bundles/[A-Za-z0-9_-]{43}$`));
  // A link scanner's GET spends nothing.
  for (let i = 0; i < 2; i++) {
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toMatch(/<form method="post">/);
  }
  const got = await fetch(link!, { method: 'POST' });
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe('application/zip');
  expect(got.headers.get('content-disposition')).toBe(
    `attachment; filename="ecebot-${run.id}.zip"`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-bundle-dl-'));
  const file = join(dir, 'b.zip');
  writeFileSync(file, Buffer.from(await got.arrayBuffer()));
  const entries = readZip(file);
  expect(JSON.parse(entries.find(e => e.name === 'run.json')!.data.toString()).id).toBe(run.id);
  const inventory = JSON.parse(entries.find(e => e.name === 'inventory.json')!.data.toString());
  expect(Object.keys(inventory.environments)).toEqual(['prod']);
  const all = entries.map(e => e.data.toString('utf8')).join('\n');
  for (const s of PLANTED) expect(all).not.toContain(s);
  // Spent: the second POST and any GET get the same 404.
  expect((await fetch(link!, { method: 'POST' })).status).toBe(404);
  expect((await fetch(link!)).status).toBe(404);
});

test('a link not used in time expires', async () => {
  const { link } = await press(A_ADMIN, TENANT_A, run.id);
  clock += 11 * 60_000;
  expect((await fetch(link!)).status).toBe(404);
  expect((await fetch(link!, { method: 'POST' })).status).toBe(404);
});

test('a made-up or malformed token gets the same 404', async () => {
  expect((await fetch(`${base}/bundles/${'A'.repeat(43)}`, { method: 'POST' })).status).toBe(404);
  expect((await fetch(`${base}/bundles/..%2F..%2Fetc`)).status).toBe(404);
});

test('someone who is not an admin is refused, with no link', async () => {
  const { texts, link } = await press(A_USER, TENANT_A, run.id);
  expect(link).toBeUndefined();
  expect(texts).toMatch(/Only ecebot admins may use bundle/);
  expect(texts).not.toContain('/bundles/');
});

test("another tenant's admin gets the answer for a run that never was", async () => {
  const theirs = await press(B_ADMIN, TENANT_B, run.id);
  const never = await press(B_ADMIN, TENANT_B, 'prod-20261203091500-dead');
  expect(theirs.link).toBeUndefined();
  expect(theirs.texts.replace(run.id, 'ID')).toBe(
    never.texts.replace('prod-20261203091500-dead', 'ID'),
  );
  expect(theirs.texts).toMatch(/There is no run/);
  // Their own environment's run works for them.
  expect((await press(B_ADMIN, TENANT_B, otherRun.id)).link).toBeDefined();
});

test('run ids that are not run ids get no link', async () => {
  for (const bad of ['../../etc/passwd', 'prod-20261203091500-0a1b/x', `${'p'.repeat(150)}`]) {
    const { link, texts } = await press(A_ADMIN, TENANT_A, bad);
    expect(link).toBeUndefined();
    expect(texts).toMatch(/There is no run|does not accept/);
  }
});

test('without ECEBOT_PUBLIC_URL the answer names the CLI command and offers no link', async () => {
  const plain = await startBotRig(() => inv, {
    server: {
      vars: {
        ...VARS,
        ECEBOT_TENANTS: TENANT_A,
        ECEBOT_ADMINS: A_ADMIN.aadObjectId,
      },
    },
  });
  try {
    await plain.store.saveRun(run);
    const w: Where = { conversationId: 'a:1chat-plain', user: A_ADMIN };
    const a = execute(plain.fake.url, w, 'card-1', 'bundle', { runId: run.id });
    const res = await post(plain.bot.url, {
      ...a,
      channelData: { tenant: { id: TENANT_A } },
      conversation: { ...a.conversation, tenantId: TENANT_A },
    });
    const card = (res.body as { value: { actions: { type: string }[] } }).value;
    expect(card.actions.map(x => x.type)).toEqual(['Action.Execute']);
    const texts = cardTexts(card).join('\n');
    expect(texts).toMatch(/ECEBOT_PUBLIC_URL is not set/);
    expect(texts).toContain(`ecebot bundle ${run.id}`);
  } finally {
    await plain.close();
  }
});

test('a public URL that is not https is refused at start-up', async () => {
  await expect(
    startBotRig(() => inv, { server: { vars: { ECEBOT_PUBLIC_URL: 'http://bot.example.com' } } }),
  ).rejects.toThrow(/not https/);
});
