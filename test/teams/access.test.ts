/**
 * Who may do what, end to end over /api/messages with the fake connector and the lab: the
 * tenant allowlist refuses strangers before anything is kept or run, admin commands and card
 * actions need an admin (by object id or, through the lab's Graph checkMemberGroups, by
 * nested group, cached five minutes), and an environment restricted to a team does not exist
 * anywhere else (commands, suggestions, buttons, search, sharing). Every refusal is a card and
 * a warn log line. The secure defaults of a deployed bot (MicrosoftAppId set) are checked on
 * the policy functions themselves.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { groupNamed } from '../../src/lab/tenant';
import { decodeClaims } from '../../src/probes/jwt-claims';
import type { MemoryStore } from '../../src/store/memory';
import {
  adminAccess,
  graphGroupCheck,
  tenantGate,
  type GroupAnswer,
  type GroupCheck,
} from '../../src/teams/access';
import { notAdminCard, type BotServices } from '../../src/teams/handlers';
import type { BotLog } from '../../src/teams/log';
import type { BotServer } from '../../src/teams/server';
import { cardProblems, cardTexts } from './support/adaptive';
import { execute, message, post, search, type User, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import type { FakeConnector } from './support/fake-connector';
import { cardOf } from './support/fake-connector';

/** A logger that keeps what it is told, to check refusals are logged (and without tokens). */
class RecordingLog implements BotLog {
  readonly lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  info(obj: object, msg?: string) {
    this.lines.push({
      level: 'info',
      obj: obj as Record<string, unknown>,
      ...(msg ? { msg } : {}),
    });
  }
  warn(obj: object, msg?: string) {
    this.lines.push({
      level: 'warn',
      obj: obj as Record<string, unknown>,
      ...(msg ? { msg } : {}),
    });
  }
  error(obj: object, msg?: string) {
    this.lines.push({
      level: 'error',
      obj: obj as Record<string, unknown>,
      ...(msg ? { msg } : {}),
    });
  }
  warnings(from = 0) {
    return this.lines.slice(from).filter(l => l.level === 'warn');
  }
}

const OPS_TEAM = {
  id: '19:mail-ops@thread.tacv2',
  name: 'Mail Ops',
  channelId: '19:ops@thread.tacv2',
};
const OTHER_TEAM = {
  id: '19:sales@thread.tacv2',
  name: 'Sales',
  channelId: '19:deals@thread.tacv2',
};
/** A team the inventory names only by its Entra group id. */
const GROUP_TEAM_AAD = randomUUID();
const GROUP_TEAM = {
  id: '19:support-desk@thread.tacv2',
  name: 'Desk',
  channelId: '19:desk@thread.tacv2',
};

/** Where a Teams activity comes from, with its tenant and the team's Entra group id. */
interface Place extends Where {
  tenant?: string | null;
  aadGroupId?: string;
}

/** An activity as bot-client builds it, re-tenanted and with the team's aadGroupId. */
function placed<T extends { channelData: Record<string, unknown>; conversation: object }>(
  a: T,
  w: Place,
): T {
  const channelData = { ...a.channelData } as Record<string, unknown>;
  const conversation = { ...a.conversation } as Record<string, unknown>;
  if (w.tenant === null) {
    delete channelData.tenant;
    delete conversation.tenantId;
  } else {
    // The lab's tenant unless told otherwise.
    channelData.tenant = { id: w.tenant ?? TENANT };
    conversation.tenantId = w.tenant ?? TENANT;
  }
  if (w.aadGroupId && channelData.team)
    channelData.team = { ...(channelData.team as object), aadGroupId: w.aadGroupId };
  return { ...a, channelData, conversation };
}

let lab: Lab;
let inv: Inventory;
/** The inventory file `inv` is loaded from. */
let inventoryFile: string;
let fake: FakeConnector;
let store: MemoryStore;
let bot: BotServer;
let rig: BotRig;
const log = new RecordingLog();
let clock = Date.now();
let TENANT: string;
/** A second allowed tenant that no inventory environment is in. */
const BARE_TENANT = randomUUID();
const FOREIGN_TENANT = randomUUID();
let JDOE: User;
let SUPPORT: User;
let OWNER: User;
let admins: string;

const personal = (user: User, tenant?: string | null): Place => ({
  conversationId: `a:1personal-${user.id}`,
  user,
  ...(tenant !== undefined ? { tenant } : {}),
});
const channel = (team: typeof OPS_TEAM, user: User, extra: Partial<Place> = {}): Place => ({
  conversationId: `${team.channelId};messageid=${Date.now()}`,
  team,
  user,
  ...extra,
});

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  TENANT = lab.tenant.tenantId;
  const user = (upn: string, name: string): User => ({
    id: `29:${upn}`,
    name,
    aadObjectId: lab.tenant.users.find(u => u.userPrincipalName === upn)!.id,
  });
  JDOE = user('jdoe@example.com', 'Jan Doe');
  SUPPORT = user('support@example.com', 'Support desk');
  OWNER = { id: '29:owner', name: 'Owner', aadObjectId: randomUUID() };
  admins = groupNamed(lab.tenant, 'ecebot admins')!.id;

  // The lab's inventory plus `vault`: the same tenant, restricted to two teams.
  const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: Record<string, Record<string, unknown>>;
  };
  doc.environments.vault = {
    ...structuredClone(doc.environments.lab!),
    description: 'restricted',
    teams: [OPS_TEAM.id, GROUP_TEAM_AAD],
  };
  inventoryFile = join(lab.dir, 'access.yaml');
  writeFileSync(inventoryFile, stringify(doc));
  inv = loadInventory(inventoryFile);

  rig = await startBotRig(() => inv, {
    channels: {
      [OPS_TEAM.id]: [{ id: OPS_TEAM.id }, { id: OPS_TEAM.channelId, name: 'Ops' }],
      [OTHER_TEAM.id]: [{ id: OTHER_TEAM.id }, { id: OTHER_TEAM.channelId, name: 'Deals' }],
    },
    server: {
      vars: {
        ECEBOT_TENANTS: `${TENANT}, ${BARE_TENANT.toUpperCase()}`,
        ECEBOT_ADMINS: OWNER.aadObjectId,
        ECEBOT_ADMIN_GROUPS: admins,
      },
      log,
      now: () => new Date(clock),
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
  expect(cardProblems(b.value)).toEqual([]);
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

const JWT = /eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/;

describe('tenant allowlist (ECEBOT_TENANTS)', () => {
  test('a message from another tenant gets only the refusal card: nothing kept, nothing run', async () => {
    const w = personal(JDOE, FOREIGN_TENANT);
    const logged = log.lines.length;
    const text = await ask(w, 'check lab');
    expect(text).toContain(
      `This tenant is not allowed; ask the operator to add ${FOREIGN_TENANT} to ECEBOT_TENANTS.`,
    );
    expect(await store.getConversation(w.conversationId)).toBeUndefined();
    expect(await store.searchRuns('lab', 10)).toEqual([]);
    const warn = log.warnings(logged);
    expect(warn).toHaveLength(1);
    expect(warn[0]!.obj).toMatchObject({
      tenant: FOREIGN_TENANT,
      userObjectId: JDOE.aadObjectId,
      activityType: 'message',
      reason: 'tenant not allowed',
    });
  });

  test('the refusal is in Dutch for a Dutch client, and an activity with no tenant is refused', async () => {
    const nl = await ask({ ...personal(JDOE, FOREIGN_TENANT), locale: 'nl-NL' }, 'envs');
    expect(nl).toContain(`Deze tenant is niet toegestaan`);
    expect(nl).toContain(FOREIGN_TENANT);
    const none = personal(SUPPORT, null);
    expect(await ask(none, 'envs')).toContain('This tenant is not allowed');
    expect(await store.getConversation(none.conversationId)).toBeUndefined();
  });

  test('invokes from another tenant get the refusal as their answer', async () => {
    const w = personal(OWNER, FOREIGN_TENANT);
    const from = fake.requests.length;
    const text = await press(w, 'rerun', { environment: 'lab', runId: 'lab-20260101000000-abcd' });
    expect(text).toContain('This tenant is not allowed');
    const res = await post(bot.url, placed(search(fake.url, w, 'lab'), w));
    expect(res.body).toEqual({
      composeExtension: {
        type: 'message',
        text: `This tenant is not allowed; ask the operator to add ${FOREIGN_TENANT} to ECEBOT_TENANTS.`,
      },
    });
    // No run started, nothing posted anywhere.
    expect(fake.requests.slice(from)).toEqual([]);
    expect(await store.searchRuns('lab', 10)).toEqual([]);
  });

  test('listed tenants are served, whatever the case of the GUID', async () => {
    expect(await ask(personal(SUPPORT), 'envs')).toContain('**lab**');
    expect(await ask(personal(SUPPORT, BARE_TENANT), 'help')).toContain('ecebot commands');
  });
});

describe('admins (ECEBOT_ADMINS, ECEBOT_ADMIN_GROUPS)', () => {
  test('read commands are open; admin commands refuse a non-admin with a card and a log line', async () => {
    const w = personal(SUPPORT);
    expect(await ask(w, 'status')).toContain('**lab**');
    expect(await ask(w, 'help mute')).toContain('admins');
    const logged = log.lines.length;
    const text = await ask(w, 'mute lab 1h');
    expect(text).toContain('Only ecebot admins may use mute.');
    expect(text).not.toContain('ECEBOT_ADMINS');
    expect(await store.mutedUntil('lab')).toBeUndefined();
    expect(log.warnings(logged).map(l => l.obj)).toContainEqual({
      userObjectId: SUPPORT.aadObjectId,
      tenant: TENANT,
      command: 'mute',
      environment: 'lab',
      reason: 'not an admin',
    });
    expect(await ask({ ...w, locale: 'nl-NL' }, 'subscribe lab')).toContain(
      'Alleen ecebot-beheerders mogen subscribe gebruiken.',
    );
    expect(await store.subscriptionsOf(w.conversationId)).toEqual([]);
  });

  test('an admin by object id, and one by nested group through the lab’s Graph', async () => {
    expect(await ask(personal(OWNER), 'mute lab 1h')).toContain('Alerts for lab are muted until');
    // Jan Doe is in "Mail operators", which is in "ecebot admins".
    expect(await ask(personal(JDOE), 'mute lab off')).toContain('no longer muted');
    expect(await store.mutedUntil('lab')).toBeUndefined();
  });

  test('group answers are kept five minutes, then asked again', async () => {
    const operators = groupNamed(lab.tenant, 'Mail operators')!;
    const before = [...operators.members];
    operators.members = [];
    try {
      // Still cached from the previous test.
      expect(await ask(personal(JDOE), 'mute lab 30m')).toContain('muted until');
      clock += 5 * 60_000 + 1;
      expect(await ask(personal(JDOE), 'mute lab off')).toContain(
        'Only ecebot admins may use mute.',
      );
    } finally {
      operators.members = before;
    }
    // "Not a member" was Graph's answer too, so it is kept as long: wait it out.
    clock += 5 * 60_000 + 1;
    expect(await ask(personal(JDOE), 'mute lab off')).toContain('no longer muted');
  });

  test('when the check cannot be made the user is no admin, and the log says why without a token', async () => {
    // No inventory environment is in this tenant: nobody to ask. (A command naming `lab` would
    // not get that far: lab is not this tenant's, so it is unknown here; an admin button is
    // checked first.)
    const bare = { ...JDOE, aadObjectId: randomUUID() };
    let logged = log.lines.length;
    expect(
      await press(personal(bare, BARE_TENANT), 'share', { runId: 'lab-20260101000000-abcd' }),
    ).toContain('Only ecebot admins may use share.');
    expect(log.warnings(logged).map(l => String(l.obj.reason))).toContainEqual(
      `no inventory environment with a probe app is in tenant ${BARE_TENANT.toLowerCase()}`,
    );

    // Graph refuses: the probe app lost Directory.Read.All. An app-only token carries the
    // `roles` it was issued with (o365-facts.md §2.4), and the bot keeps its Graph token until
    // shortly before it expires; a reloaded inventory starts a new tenant session, which asks
    // Entra for a token again.
    clock += 5 * 60_000 + 1;
    const roles = lab.tenant.probeApp.roles;
    lab.tenant.probeApp.roles = roles.filter(r => r !== 'Directory.Read.All');
    inv = loadInventory(inventoryFile);
    logged = log.lines.length;
    try {
      expect(await ask(personal(JDOE), 'mute lab 1h')).toContain(
        'Only ecebot admins may use mute.',
      );
    } finally {
      lab.tenant.probeApp.roles = roles;
      inv = loadInventory(inventoryFile);
    }
    const reasons = log.warnings(logged).map(l => String(l.obj.reason));
    expect(reasons.some(r => r.includes('403 Authorization_RequestDenied'))).toBe(true);
    expect(JSON.stringify(log.lines)).not.toMatch(JWT);
    expect(JSON.stringify(log.lines)).not.toContain(lab.tenant.probeApp.secret);
    // Not cached: the next question reaches Graph again.
    expect(await ask(personal(JDOE), 'mute lab off')).toContain('no longer muted');
  });

  test('share is for admins, as command and as buttons; re-run and show stay open', async () => {
    const runId = await checkedRun(personal(SUPPORT), 'lab');
    expect(await ask(personal(SUPPORT), `share ${runId}`)).toContain(
      'Only ecebot admins may use share.',
    );
    const logged = log.lines.length;
    expect(await press(personal(SUPPORT), 'share', { runId })).toContain(
      'Only ecebot admins may use share.',
    );
    const from = fake.requests.length;
    expect(
      await press(channel(OPS_TEAM, SUPPORT), 'shareTo', {
        runId,
        back: 'notice',
        target: `t:${OPS_TEAM.channelId}|Mail Ops › Ops`,
      }),
    ).toContain('Only ecebot admins may use share.');
    expect(fake.requests.slice(from).filter(r => r.method === 'POST')).toEqual([]);
    expect(log.warnings(logged).map(l => l.obj)).toEqual([
      expect.objectContaining({ command: 'share', reason: 'not an admin' }),
      expect.objectContaining({ command: 'shareTo', reason: 'not an admin' }),
    ]);

    expect(await press(personal(SUPPORT), 'showRun', { runId })).toContain(runId);
    // A crafted run id is text on the refusal, not a link (card data is hostile input).
    const crafted = await press(personal(SUPPORT), 'showRun', {
      runId: '[Sign in again](https://evil.example/)',
    });
    expect(crafted).toContain('There is no run');
    expect(crafted).not.toContain('[Sign in again](https://evil.example/)');
    expect(await press(personal(OWNER), 'share', { runId })).toContain('Share this result');
    const rerun = await post(
      bot.url,
      placed(
        execute(fake.url, personal(SUPPORT), 'act-9', 'rerun', { runId, environment: 'lab' }),
        personal(SUPPORT),
      ),
    );
    expect(cardTexts((rerun.body as { value: unknown }).value).join('\n')).toMatch(
      /Running|Queued/,
    );
    await bot.idle();
  });
});

describe('environments restricted to teams (inventory teams)', () => {
  let vaultRun: string;

  test('outside its teams the environment does not exist, and the log says why', async () => {
    const w = personal(OWNER);
    const envs = await ask(w, 'envs');
    expect(envs).toContain('**lab**');
    expect(envs).not.toContain('vault');
    expect(await ask(w, 'status')).not.toContain('vault');
    const logged = log.lines.length;
    const check = await ask(w, 'check vault');
    expect(check).toContain('There is no environment "vault".');
    expect(check).toContain('Environments: lab.');
    expect(log.warnings(logged).map(l => l.obj)).toEqual([
      {
        userObjectId: OWNER.aadObjectId,
        tenant: TENANT,
        command: 'check',
        environment: 'vault',
        reason: 'environment restricted to other teams',
      },
    ]);
    // A typo is never completed to the hidden name.
    expect(await ask(w, 'history vaul')).not.toContain('vault');
    expect(await ask(channel(OTHER_TEAM, OWNER), 'subscribe vault')).toContain(
      'There is no environment "vault".',
    );
    expect(await store.subscribers('vault')).toEqual([]);
  });

  test('inside its team (by team id or by Entra group id) it is there', async () => {
    expect(await ask(channel(OPS_TEAM, SUPPORT), 'envs')).toContain('**vault**');
    expect(
      await ask(channel(GROUP_TEAM, SUPPORT, { aadGroupId: GROUP_TEAM_AAD }), 'envs'),
    ).toContain('**vault**');
    expect(await ask(channel(GROUP_TEAM, SUPPORT), 'envs')).not.toContain('vault');
    vaultRun = await checkedRun(channel(OPS_TEAM, SUPPORT), 'vault');
    expect(vaultRun).toMatch(/^vault-/);
  });

  test('its runs’ buttons are refused elsewhere; search leaves them out', async () => {
    const out = personal(OWNER);
    for (const [verb, data] of [
      ['showRun', { runId: vaultRun }],
      ['rerun', { runId: vaultRun, environment: 'vault' }],
      ['rerunFailed', { runId: 'lab-20260101000000-abcd', environment: 'vault', items: 'token' }],
      ['share', { runId: vaultRun }],
    ] as const) {
      const logged = log.lines.length;
      const text = await press(out, verb, data);
      expect(text).toContain('not available in this conversation');
      expect(log.warnings(logged)[0]!.obj).toMatchObject({
        command: verb,
        environment: 'vault',
        reason: 'environment restricted to other teams',
      });
    }
    expect(await ask(out, `share ${vaultRun}`)).toContain(`There is no run "${vaultRun}"`);
    expect(await searchRuns(out, 'vault')).toEqual([]);
    expect((await searchRuns(out, '')).join('\n')).not.toContain('vault');
    expect((await searchRuns(channel(OPS_TEAM, SUPPORT), 'vault')).length).toBeGreaterThan(0);
    expect(await press(channel(OPS_TEAM, SUPPORT), 'showRun', { runId: vaultRun })).toContain(
      vaultRun,
    );
  });

  test('sharing never offers, nor posts to, a place outside its teams', async () => {
    // A subscription from before the restriction: a personal chat the bot knows.
    const outside = personal(OWNER);
    await store.subscribe('vault', outside.conversationId);
    await store.subscribe('vault', OPS_TEAM.channelId);
    await ask(channel(OPS_TEAM, OWNER), 'help');
    const picker = await press(channel(OPS_TEAM, OWNER), 'share', { runId: vaultRun });
    expect(picker).toContain('Mail Ops (subscribed to vault)');
    expect(picker).not.toContain('Owner');

    const from = fake.requests.length;
    const logged = log.lines.length;
    const crafted = await press(channel(OPS_TEAM, OWNER), 'shareTo', {
      runId: vaultRun,
      back: 'notice',
      target: `c:${outside.conversationId}`,
    });
    expect(crafted).toContain('not offered for this run here');
    const otherTeam = await press(channel(OPS_TEAM, OWNER), 'shareTo', {
      runId: vaultRun,
      back: 'notice',
      target: `t:${OTHER_TEAM.channelId}|Sales › Deals`,
    });
    expect(otherTeam).toContain('not offered for this run here');
    expect(fake.requests.slice(from).filter(r => r.method === 'POST')).toEqual([]);
    expect(log.warnings(logged).map(l => l.obj.reason)).toEqual([
      'share target not offered here',
      'share target not offered here',
    ]);

    const ok = await press(channel(OPS_TEAM, OWNER), 'shareTo', {
      runId: vaultRun,
      back: 'notice',
      target: `c:${OPS_TEAM.channelId}`,
    });
    expect(ok).toContain('Shared to Mail Ops.');
  });
});

describe('the defaults of a deployed bot (MicrosoftAppId set)', () => {
  const appVars = { MicrosoftAppId: randomUUID(), MicrosoftAppTenantId: randomUUID() };

  test('without ECEBOT_TENANTS: the inventory’s tenants and the bot’s own; in local mode: all', () => {
    const gate = tenantGate(appVars, () => inv);
    expect(gate.mode).toBe('inventory');
    expect(gate.allows(TENANT)).toBe(true);
    expect(gate.allows(TENANT.toUpperCase())).toBe(true);
    expect(gate.allows(appVars.MicrosoftAppTenantId)).toBe(true);
    expect(gate.allows(FOREIGN_TENANT)).toBe(false);
    expect(gate.allows(undefined)).toBe(false);
    const local = tenantGate({}, () => inv);
    expect(local.allows(FOREIGN_TENANT)).toBe(true);
    const listed = tenantGate({ ...appVars, ECEBOT_TENANTS: FOREIGN_TENANT }, () => inv);
    expect(listed.allows(FOREIGN_TENANT)).toBe(true);
    expect(listed.allows(TENANT)).toBe(false);
    expect(() => tenantGate({ ECEBOT_TENANTS: 'contoso.onmicrosoft.com' }, () => inv)).toThrow(
      /ECEBOT_TENANTS has "contoso.onmicrosoft.com", which is not a GUID/,
    );
  });

  test('without admin variables nobody is an admin, and the card says what to set', async () => {
    const never: GroupCheck = () => Promise.resolve<GroupAnswer>({ ok: false, reason: 'unused' });
    const deployed = adminAccess({ vars: appVars, localMode: false, groupCheck: never, log });
    expect(deployed.unset).toBe(true);
    expect(
      await deployed.isAdmin({ id: OWNER.id, name: 'x', aadObjectId: OWNER.aadObjectId }),
    ).toBe(false);
    const local = adminAccess({ vars: {}, localMode: true, groupCheck: never, log });
    expect(await local.isAdmin({ id: 'u', name: 'u' })).toBe(true);
    const card = cardTexts(
      notAdminCard('en', 'mute', { adminsUnset: deployed.unset } as BotServices),
    ).join('\n');
    expect(card).toContain('Only ecebot admins may use mute.');
    expect(card).toContain('ECEBOT_ADMINS (Entra object ids) or ECEBOT_ADMIN_GROUPS');
  });
});

describe('the lab’s Graph checkMemberGroups', () => {
  test('answers the listed groups the user is in, transitively; refuses bad requests', async () => {
    const check = graphGroupCheck({ inventory: () => inv, vars: {} });
    const g = (name: string) => groupNamed(lab.tenant, name)!.id;
    const all = [g('ecebot admins'), g('Mail operators'), g('Helpdesk')];
    expect(await check(TENANT, JDOE.aadObjectId, all)).toEqual({
      ok: true,
      member: [g('ecebot admins'), g('Mail operators')],
    });
    expect(await check(TENANT, SUPPORT.aadObjectId, all)).toEqual({
      ok: true,
      member: [g('Helpdesk')],
    });
    // More than 20 ids go in several requests.
    const many = [...Array.from({ length: 25 }, () => randomUUID()), g('ecebot admins')];
    expect(await check(TENANT, JDOE.aadObjectId, many)).toEqual({
      ok: true,
      member: [g('ecebot admins')],
    });
    const unknown = await check(TENANT, randomUUID(), all);
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.reason).toMatch(/404 Request_ResourceNotFound/);
    const bad = await check(TENANT, JDOE.aadObjectId, ['not-a-guid']);
    expect(!bad.ok && bad.reason).toMatch(/400 BadRequest: Invalid GUID/);
  });

  test('checks for several people, at once and later, share one Graph token of the probe app', async () => {
    const graphTokens = () =>
      lab.issued.filter(t => {
        const c = decodeClaims(t);
        return c?.appid === lab.tenant.probeApp.appId && !!c.aud?.includes('graph.microsoft.com');
      }).length;
    const check = graphGroupCheck({ inventory: () => inv, vars: {} });
    const before = graphTokens();
    expect(
      await Promise.all([
        check(TENANT, JDOE.aadObjectId, [admins]),
        check(TENANT, SUPPORT.aadObjectId, [admins]),
      ]),
    ).toEqual([
      { ok: true, member: [admins] },
      { ok: true, member: [] },
    ]);
    expect(await check(TENANT, JDOE.aadObjectId, [admins])).toEqual({ ok: true, member: [admins] });
    expect(graphTokens() - before).toBe(1);
  });
});
