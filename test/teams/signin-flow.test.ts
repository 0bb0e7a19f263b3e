/**
 * `signin ENV MAILBOX` end to end: the bot gets a device code from the lab's Entra ID, posts
 * the card with the code and link, the lab's /devicelogin page stands in for the engineer
 * signing in, and the card is updated in place with whose token it was. A token for the right
 * account is kept and feeds the next run (the token item goes from skip to pass); a token for
 * the wrong account is dropped. No token ever appears in what the bot sends.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { MemoryStore } from '../../src/store/memory';
import { refreshTokenKey } from '../../src/store/tokens';
import type { BotServer } from '../../src/teams/server';
import { cardProblems, cardTexts } from './support/adaptive';
import { message, post, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import type { FakeConnector } from './support/fake-connector';
import { cardOf, type Recorded } from './support/fake-connector';
import { approveDeviceCode } from './support/device-code';

const HERE: Where = { conversationId: 'a:1signin-alex' };

let lab: Lab;
let inv: Inventory;
let fake: FakeConnector;
let store: MemoryStore;
let bot: BotServer;
let rig: BotRig;

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  // The same lab, but ecebot holds no refresh token for support@: only a sign-in can give one.
  const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: { lab: { mailboxes: { address: string; refreshToken?: string }[] } };
  };
  for (const m of doc.environments.lab.mailboxes)
    if (m.address.startsWith('support@')) delete m.refreshToken;
  const path = join(lab.dir, 'inventory-without-support-token.yaml');
  writeFileSync(path, stringify(doc));
  inv = loadInventory(path);
  rig = await startBotRig(() => inv);
  ({ fake, store, bot } = rig);
});

afterAll(async () => {
  await rig?.close();
  await lab?.stop();
});

/** The lab's stand-in for a person entering the code at the verification URL. */
function signInAt(url: string, userCode: string, upn: string): Promise<number> {
  return approveDeviceCode(url, userCode, upn, lab.info.ca);
}

/** Post a message; the one card the bot posted back, and its activity id. */
async function ask(
  text: string,
): Promise<{ card: Record<string, unknown>; id: string; from: number }> {
  const from = fake.requests.length;
  const res = await post(bot.url, message(fake.url, HERE, text));
  expect(res.status).toBe(200);
  const sent = fake.postsTo(HERE.conversationId, from);
  expect(sent).toHaveLength(1);
  return { card: cardOf(sent[0]!)!, id: sent[0]!.answer!, from };
}

function waitUpdate(
  id: string,
  from: number,
  pred: (text: string) => boolean,
  what: string,
): Promise<Recorded> {
  return fake.waitFor(
    r => r.method === 'PUT' && r.activityId === id && pred(cardTexts(cardOf(r)).join('\n')),
    what,
    from,
  );
}

/** The token item's mark on the finished card of `check lab token`. */
async function tokenMark(): Promise<{ mark: string; text: string }> {
  const { id, from } = await ask('check lab token');
  const done = await waitUpdate(id, from, t => t.includes('Re-run'), 'the finished token check');
  await bot.idle();
  const texts = cardTexts(cardOf(done));
  // A problem's row has its mark in a column of its own; a passing item is listed as
  // "✔ **Title** — summary" under the passed line.
  const passed = texts.find(t => t.startsWith('✔ **Token generation**'));
  if (passed) return { mark: '✔', text: passed.slice(2) };
  const i = texts.findIndex(t => t.startsWith('**Token generation**'));
  return { mark: texts[i - 1]!, text: texts[i]! };
}

/** The code and link on a waiting sign-in card. */
function codeOf(card: Record<string, unknown>): { code: string; url: string } {
  const code = /\*\*([A-Z0-9]{8})\*\*/.exec(cardTexts(card).join('\n'))?.[1];
  const url = (card.actions as { type: string; url?: string }[]).find(
    a => a.type === 'Action.OpenUrl',
  )?.url;
  expect(code).toBeDefined();
  expect(url).toBeDefined();
  return { code: code!, url: url! };
}

test('without a token for support@ the token item cannot check that mailbox', async () => {
  const t = await tokenMark();
  // The lab's sign-in log shows ECE redeeming support@'s token, which establishes the item on
  // ECE's own evidence; the mailbox ecebot could not test itself is named.
  expect(t.text).toContain('not checked: support@example.com: no token configured');
  expect(t.mark).toBe('✔');
});

test('signing in as the mailbox keeps its token, and the next run uses it', async () => {
  const { card, id, from } = await ask('signin lab support@example.com');
  expect(cardProblems(card)).toEqual([]);
  const text = cardTexts(card).join('\n');
  expect(text).toContain('**private** browser window');
  expect(text).toContain('Sign in as **support@example.com**');
  const { code, url } = codeOf(card);
  expect(new URL(url).hostname).toBe('login.microsoftonline.com');

  expect(await signInAt(url, code, 'support@example.com')).toBe(200);
  const done = await waitUpdate(id, from, t => t.includes('Signed in as'), 'the sign-in outcome');
  await bot.idle();
  const outcome = cardTexts(cardOf(done)).join('\n');
  expect(outcome).toContain('Signed in as support@example.com: the mailbox itself.');
  expect(cardProblems(cardOf(done))).toEqual([]);
  const kept = await store.getSecret(refreshTokenKey('lab', 'support@example.com'));
  expect(kept).toBeTruthy();

  const t = await tokenMark();
  expect(t.mark).toBe('✔');
  expect(t.text).not.toContain('no token configured');
  expect(t.text).toMatch(/Tokens for [^—]*support@example\.com/);
  // The kept token never travelled to Teams.
  for (const r of fake.requests) expect(JSON.stringify(r.body)).not.toContain(kept!);
});

test('the kept token is the sign-in app’s, and each run keeps the refresh token Entra rotated to', async () => {
  const key = refreshTokenKey('lab', 'support@example.com');
  const before = (await store.getSecret(key))!;
  // ecebot's own grant: issued to its public sign-in app, never to ECE's app.
  expect(lab.tenant.refreshTokens[before]).toMatchObject({
    upn: 'support@example.com',
    clientId: lab.tenant.signinApp.appId,
  });
  const t = await tokenMark();
  expect(t.mark).toBe('✔');
  const after = (await store.getSecret(key))!;
  // Entra handed out a successor and the run kept it: the next run redeems the newest.
  expect(after).not.toBe(before);
  expect(lab.tenant.refreshTokens[after]).toMatchObject({
    upn: 'support@example.com',
    clientId: lab.tenant.signinApp.appId,
  });
  expect(lab.issued).toContain(after);
  // Redeemed as a public client: the log shows the sign-in app's non-interactive sign-in.
  expect(
    lab.tenant.signIns.filter(
      s => s.appId === lab.tenant.signinApp.appId && s.eventType === 'nonInteractiveUser',
    ).length,
  ).toBeGreaterThan(0);
});

test('when ecebot’s own token dies, the fix is to sign in again, never to regenerate ECE’s', async () => {
  const key = refreshTokenKey('lab', 'support@example.com');
  const kept = (await store.getSecret(key))!;
  lab.tenant.refreshTokens[kept]!.failWith = 700082;
  try {
    const { id, from } = await ask('check lab token');
    const done = await waitUpdate(id, from, t => t.includes('Re-run'), 'the finished token check');
    await bot.idle();
    const run = (await store.searchRuns('lab', 1))[0]!;
    const finding = (await store.getRun(run.id))!.findings.find(f => f.item === 'token')!;
    expect(finding.status).toBe('fail');
    const fixes = finding.remediation.map(r => `${r.code} ${r.text} ${r.fix ?? ''}`);
    expect(fixes.join('\n')).toContain('SIGNIN_TOKEN_EXPIRED');
    expect(fixes.join('\n')).toContain('signin lab support@example.com');
    expect(fixes.join('\n')).not.toMatch(/Regenerate the token in ECE|stopped refreshing/);
    expect(cardTexts(cardOf(done)).join('\n')).not.toContain(kept);
  } finally {
    delete lab.tenant.refreshTokens[kept]!.failWith;
  }
});

test('an environment without a sign-in app is told what to register, and nothing starts', async () => {
  const saved = inv;
  const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: { lab: { signin?: unknown } };
  };
  delete doc.environments.lab.signin;
  const path = join(lab.dir, 'inventory-without-signin.yaml');
  writeFileSync(path, stringify(doc));
  inv = loadInventory(path);
  try {
    const before = lab.issued.length;
    const { card } = await ask('signin lab support@example.com');
    const text = cardTexts(card).join('\n');
    expect(text).toContain('lab has no sign-in app');
    expect(text).toContain('Allow public client flows');
    // No device code was asked for.
    expect(lab.issued.length).toBe(before);
  } finally {
    inv = saved;
  }
});

test('signing in with the wrong account is refused, and nothing is kept', async () => {
  const { card, id, from } = await ask('signin lab Sales@Example.com');
  const text = cardTexts(card).join('\n');
  // sales@ is served through the shared account: that is whom to sign in as.
  expect(text).toContain(
    'Sign in as **svc-ece@example.com**, the account ECE uses for sales@example.com',
  );
  const { code, url } = codeOf(card);
  expect(await signInAt(url, code, 'support@example.com')).toBe(200);
  const done = await waitUpdate(id, from, t => t.includes('Signed in as'), 'the sign-in outcome');
  await bot.idle();
  expect(cardTexts(cardOf(done)).join('\n')).toContain(
    'Signed in as support@example.com, but this mailbox needs a token for svc-ece@example.com. The token was not kept',
  );
  expect(await store.getSecret(refreshTokenKey('lab', 'sales@example.com'))).toBeUndefined();
});

test('another account that Exchange Online gives Full Access to the mailbox is accepted', async () => {
  const sales = lab.tenant.mailboxes.find(m => m.address === 'sales@example.com')!;
  sales.fullAccess.push('jdoe@example.com');
  try {
    const { card, id, from } = await ask('signin lab sales@example.com');
    const { code, url } = codeOf(card);
    expect(await signInAt(url, code, 'jdoe@example.com')).toBe(200);
    const done = await waitUpdate(id, from, t => t.includes('Signed in as'), 'the sign-in outcome');
    await bot.idle();
    expect(cardTexts(cardOf(done)).join('\n')).toContain(
      'Signed in as jdoe@example.com, which Exchange Online lists with Full Access to sales@example.com.',
    );
    expect(await store.getSecret(refreshTokenKey('lab', 'sales@example.com'))).toBeTruthy();
  } finally {
    sales.fullAccess = sales.fullAccess.filter(u => u !== 'jdoe@example.com');
    await store.putSecret(refreshTokenKey('lab', 'sales@example.com'), '');
  }
});

test('signin for a mailbox the environment does not have is an input error with a suggestion', async () => {
  const { card } = await ask('signin lab suport@example.com');
  const text = cardTexts(card).join('\n');
  expect(text).toContain('lab has no mailbox "suport@example.com"');
  expect(text).toContain('Did you mean **support@example.com**?');
});

test('no access or refresh token appears in anything the bot sent', () => {
  for (const r of fake.requests) {
    const body = JSON.stringify(r.body);
    expect(body).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./);
    for (const t of Object.values(lab.info.tokens)) expect(body).not.toContain(t);
  }
});
