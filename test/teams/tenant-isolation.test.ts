/**
 * An environment belongs to its tenant, end to end over /api/messages with the fake connector
 * and the lab. Three Teams tenants are allowed to use the bot (ECEBOT_TENANTS): A (the lab's
 * tenant, where `alpha` lives), B (where `beta` lives) and an MSP that the inventory names in
 * `managed`'s `tenants`. B's people, admins included, never see or act on A's environment:
 * not in lists, commands, buttons, search or sharing; the answers are those for a name that
 * does not exist. The inventory's `tenants` list is the one way to let another tenant see it.
 * Alerts and digests: test/queue/alert-audience.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { InputError } from '../../src/inventory/errors';
import { loadInventory, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { MemoryStore } from '../../src/store/memory';
import type { BotLog } from '../../src/teams/log';
import type { BotServer } from '../../src/teams/server';
import { cardProblems, cardTexts } from './support/adaptive';
import { execute, message, post, search, type User, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import { cardOf, type FakeConnector } from './support/fake-connector';

/** Keeps warn lines, to see refusals logged with their reason. */
class RecordingLog implements BotLog {
  readonly warns: Record<string, unknown>[] = [];
  info() {}
  warn(obj: object) {
    this.warns.push(obj as Record<string, unknown>);
  }
  error() {}
}

const TENANT_B = randomUUID();
const TENANT_MSP = randomUUID();
const TEAM = { id: '19:mail-ops@thread.tacv2', name: 'Mail Ops', channelId: '19:ops@thread.tacv2' };

let lab: Lab;
let inv: Inventory;
let rig: BotRig;
let fake: FakeConnector;
let store: MemoryStore;
let bot: BotServer;
const log = new RecordingLog();
let TENANT_A: string;
const A_ADMIN: User = { id: '29:a-admin', name: 'Ann (A)', aadObjectId: randomUUID() };
const B_ADMIN: User = { id: '29:b-admin', name: 'Bob (B)', aadObjectId: randomUUID() };
const MSP_USER: User = { id: '29:msp', name: 'Mo (MSP)', aadObjectId: randomUUID() };

/** A place: a personal chat, or a channel of TEAM (the same team id in every tenant). */
interface Place extends Where {
  tenant: string;
}
const personal = (user: User, tenant: string): Place => ({
  conversationId: `a:1personal-${tenant}-${user.id}`,
  user,
  tenant,
});
const channel = (user: User, tenant: string): Place => ({
  conversationId: `${TEAM.channelId};tenant=${tenant}`,
  team: TEAM,
  user,
  tenant,
});

/** An activity as bot-client builds it, from the place's tenant. */
function placed<T extends { channelData: Record<string, unknown>; conversation: object }>(
  a: T,
  w: Place,
): T {
  return {
    ...a,
    channelData: { ...a.channelData, tenant: { id: w.tenant } },
    conversation: { ...a.conversation, tenantId: w.tenant },
  };
}

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  TENANT_A = lab.tenant.tenantId;
  const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: Record<string, Record<string, unknown>>;
  };
  const lab0 = doc.environments.lab!;
  // alpha: tenant A's (its tenant.id is the lab's), no `tenants` list.
  // beta: tenant B's. managed: tenant A's mailboxes, seen from A and from the MSP's tenant.
  doc.environments = {
    alpha: structuredClone(lab0),
    beta: { ...structuredClone(lab0), tenant: { id: TENANT_B } },
    managed: { ...structuredClone(lab0), tenants: [TENANT_A, TENANT_MSP.toUpperCase()] },
  };
  const file = join(lab.dir, 'tenants.yaml');
  writeFileSync(file, stringify(doc));
  inv = loadInventory(file);
  rig = await startBotRig(() => inv, {
    channels: { [TEAM.id]: [{ id: TEAM.id }, { id: TEAM.channelId, name: 'Ops' }] },
    server: {
      vars: {
        ECEBOT_TENANTS: [TENANT_A, TENANT_B, TENANT_MSP].join(','),
        ECEBOT_ADMINS: [A_ADMIN, B_ADMIN, MSP_USER].map(u => u.aadObjectId).join(','),
      },
      log,
    },
  });
  ({ fake, store, bot } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
  await lab?.stop();
});

/** Send a message; the one card the bot answered with, as text. */
async function ask(w: Place, text: string): Promise<string> {
  const from = fake.requests.length;
  const res = await post(bot.url, placed(message(fake.url, w, text), w));
  expect(res.status).toBe(200);
  const sent = fake.postsTo(w.conversationId, from);
  expect(sent).toHaveLength(1);
  const card = cardOf(sent[0]!)!;
  expect(cardProblems(card)).toEqual([]);
  return cardTexts(card).join('\n');
}

/** Press a card button; the card the invoke answered with, as text. */
async function press(w: Place, verb: string, data: Record<string, unknown>): Promise<string> {
  const res = await post(bot.url, placed(execute(fake.url, w, 'act-1', verb, data), w));
  expect(res.status).toBe(200);
  const b = res.body as { statusCode: number; value: Record<string, unknown> };
  expect(b.statusCode).toBe(200);
  return cardTexts(b.value).join('\n');
}

async function searchRuns(w: Place, q: string): Promise<string[]> {
  const res = await post(bot.url, placed(search(fake.url, w, q), w));
  const r = (res.body as { composeExtension: { attachments?: { content: unknown }[] } })
    .composeExtension;
  return (r.attachments ?? []).map(a => cardTexts(a.content).join('\n'));
}

/** Run `check ENV` and wait for its finished card; resolves to the run id. */
async function checkedRun(w: Place, env: string): Promise<string> {
  const from = fake.requests.length;
  await post(bot.url, placed(message(fake.url, w, `check ${env}`), w));
  const reply = fake.postsTo(w.conversationId, from)[0]!;
  const done = await fake.waitFor(
    r =>
      r.method === 'PUT' &&
      r.activityId === reply.answer &&
      ((cardOf(r)?.actions as { verb?: string }[] | undefined) ?? []).some(a => a.verb === 'share'),
    `the finished card of ${env}`,
    from,
  );
  await bot.idle();
  const share = (cardOf(done)!.actions as { verb?: string; data?: { runId?: string } }[]).find(
    a => a.verb === 'share',
  )!;
  return share.data!.runId!;
}

/** The answer to a name, with the name taken out: what it says besides echoing the name. */
const unnamed = (text: string, name: string) => text.split(name).join('NAME');

describe('an environment belongs to its tenant', () => {
  let alphaRun: string;

  test('lists: each tenant sees its own environments only', async () => {
    const a = await ask(personal(A_ADMIN, TENANT_A), 'envs');
    expect(a).toContain('**alpha**');
    expect(a).toContain('**managed**');
    expect(a).not.toContain('beta');
    for (const cmd of ['envs', 'status']) {
      const b = await ask(personal(B_ADMIN, TENANT_B), cmd);
      expect(b).toContain('**beta**');
      expect(b).not.toContain('alpha');
      expect(b).not.toContain('managed');
    }
    // The same team id in tenant B does not make A's environments B's.
    expect(await ask(channel(B_ADMIN, TENANT_B), 'envs')).not.toContain('alpha');
  });

  test('commands naming another tenant’s environment get the answer of an unknown name', async () => {
    const b = personal(B_ADMIN, TENANT_B);
    for (const cmd of ['check', 'status', 'history', 'subscribe', 'unsubscribe']) {
      const logged = log.warns.length;
      const other = await ask(b, `${cmd} alpha`);
      const none = await ask(b, `${cmd} nosuchenv`);
      expect(other).toContain('There is no environment "alpha".');
      expect(unnamed(other, 'alpha')).toBe(unnamed(none, 'nosuchenv'));
      expect(other).not.toContain('managed');
      // Only the log says the name exists elsewhere.
      expect(log.warns.slice(logged)).toContainEqual(
        expect.objectContaining({
          tenant: TENANT_B,
          command: cmd,
          environment: 'alpha',
          reason: 'environment of another tenant',
        }),
      );
    }
    // An admin of tenant B has no power over A's environment either.
    expect(await ask(b, 'mute alpha 1h')).toContain('There is no environment "alpha".');
    expect(await ask(channel(B_ADMIN, TENANT_B), 'subscribe alpha')).toContain(
      'There is no environment "alpha".',
    );
    // A typo is never completed to another tenant's name.
    expect(await ask(b, 'check alph')).not.toContain('alpha');
    expect(await store.mutedUntil('alpha')).toBeUndefined();
    expect(await store.subscribers('alpha')).toEqual([]);
    expect(await store.searchRuns('alpha', 10)).toEqual([]);
  });

  test('buttons of another tenant’s runs are refused as unknown runs; search leaves them out', async () => {
    const a = channel(A_ADMIN, TENANT_A);
    alphaRun = await checkedRun(a, 'alpha');
    expect(alphaRun).toMatch(/^alpha-/);
    const b = personal(B_ADMIN, TENANT_B);
    const runsBefore = (await store.searchRuns('alpha', 50)).length;
    for (const [verb, data] of [
      ['rerun', { runId: alphaRun, environment: 'alpha' }],
      ['rerunFailed', { runId: 'beta-20260101000000-abcd', environment: 'alpha', items: 'token' }],
      ['showRun', { runId: alphaRun }],
      ['share', { runId: alphaRun }],
    ] as const) {
      const logged = log.warns.length;
      const text = await press(b, verb, data);
      expect(text).toContain(`There is no run "${data.runId}"`);
      expect(text).not.toContain('not available in this conversation');
      expect(log.warns.slice(logged)).toContainEqual(
        expect.objectContaining({
          command: verb,
          environment: 'alpha',
          reason: 'environment of another tenant',
        }),
      );
    }
    await bot.idle();
    expect(await store.searchRuns('alpha', 50)).toHaveLength(runsBefore);
    expect(await ask(b, `share ${alphaRun}`)).toContain(`There is no run "${alphaRun}"`);
    expect(await searchRuns(b, 'alpha')).toEqual([]);
    expect((await searchRuns(b, '')).join('\n')).not.toContain('alpha');
    expect((await searchRuns(a, 'alpha')).length).toBeGreaterThan(0);
  });

  test('sharing never offers, nor posts to, a conversation of a tenant that cannot see it', async () => {
    const a = channel(A_ADMIN, TENANT_A);
    const b = personal(B_ADMIN, TENANT_B);
    // Known conversations of both tenants, subscribed to alpha behind the bot's back (as a
    // subscription from an older inventory would be).
    await ask(b, 'help');
    await store.subscribe('alpha', b.conversationId);
    await store.subscribe('alpha', TEAM.channelId);
    const picker = await press(a, 'share', { runId: alphaRun });
    expect(picker).not.toContain('Bob');
    const from = fake.requests.length;
    const logged = log.warns.length;
    const crafted = await press(a, 'shareTo', {
      runId: alphaRun,
      back: 'notice',
      target: `c:${b.conversationId}`,
    });
    expect(crafted).toContain('not offered for this run here');
    expect(fake.requests.slice(from).filter(r => r.method === 'POST')).toEqual([]);
    expect(log.warns.slice(logged).map(w => w.reason)).toEqual(['share target not offered here']);
  });

  test('the inventory’s `tenants` lets a named tenant (an MSP) see an environment', async () => {
    const msp = personal(MSP_USER, TENANT_MSP);
    const envs = await ask(msp, 'envs');
    expect(envs).toContain('**managed**');
    expect(envs).not.toContain('alpha');
    expect(envs).not.toContain('beta');
    expect(await ask(msp, 'history managed')).not.toContain('There is no environment');
    expect(await ask(msp, 'subscribe managed')).toContain('managed');
    expect(await store.subscribers('managed')).toEqual([msp.conversationId]);
    // Tenant B is not named: for B it does not exist.
    expect(await ask(personal(B_ADMIN, TENANT_B), 'history managed')).toContain(
      'There is no environment "managed".',
    );
  });
});

describe('inventory `tenants`', () => {
  function loadWith(tenants: unknown): Inventory {
    const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
      environments: Record<string, Record<string, unknown>>;
    };
    doc.environments.lab!.tenants = tenants;
    const file = join(lab.dir, `tenants-${randomUUID()}.yaml`);
    writeFileSync(file, stringify(doc));
    return loadInventory(file);
  }

  test('a tenant that is not a GUID stops the load with where, what and how to fix', () => {
    let err: unknown;
    try {
      loadWith(['contoso.onmicrosoft.com']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.field).toBe('environments.lab.tenants.0');
    expect(e.line).toBeGreaterThan(0);
    expect(e.describe()).toContain('must be a Teams tenant id, a GUID');
    expect(() => loadWith([])).toThrow(/leave `tenants` out/);
    expect(loadWith([TENANT_B]).environments.get('lab')!.tenants).toEqual([TENANT_B]);
  });
});
