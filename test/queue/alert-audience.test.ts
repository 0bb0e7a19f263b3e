/**
 * Alerts follow today's access rules, not the ones a subscription was made under: an
 * environment later restricted to other teams (`environments[].teams`), or a tenant taken off
 * `ECEBOT_TENANTS`, stops getting that environment's alerts and digests; a conversation of a
 * tenant that may not see the environment (inventory `tenants`, else its own `tenant.id`)
 * never gets them. The pipeline runs on
 * real Redis (random prefix); the outbox it queues into is a recording fixture of its one-method
 * interface, so the test sees exactly which conversations were chosen.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Activity } from 'botbuilder';
import type { Observation, Run } from '../../src/model';
import { loadInventory, type Inventory } from '../../src/inventory/load';
import { AlertPipeline } from '../../src/notify/pipeline';
import type { QueueConfig } from '../../src/redis/connection';
import type { RunJobData } from '../../src/queue/jobs';
import { MemoryStore } from '../../src/store/memory';
import { alertAudience, tenantGate } from '../../src/teams/access';
import { saveConversation } from '../../src/teams/conversations';
import { cleanup, findingOf, freshQueue } from './support';

const TENANT_A = '0a0a0a0a-0000-4000-8000-00000000000a';
const TENANT_B = '0b0b0b0b-0000-4000-8000-00000000000b';
const TEAM_OPS = '19:ops0000000000000000000000000000@thread.tacv2';
const TEAM_SALES = '19:sales000000000000000000000000000@thread.tacv2';
const OPS_GROUP = '0c0c0c0c-0000-4000-8000-00000000000c';

function inventoryFile(teams: string[] | undefined, tenants?: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-audience-'));
  const path = join(dir, 'inv.yaml');
  const env = (name: string, t?: string[]) =>
    [
      `  ${name}:`,
      `    ece: { version: "12.6(1)", es: 1, externalUrl: https://ece.example.com }`,
      `    servers: [{ name: services-1, role: services }]`,
      `    tenant: { id: ${TENANT_A} }`,
      `    app: { clientId: 11111111-1111-1111-1111-111111111111, secret: env:ECE_APP_SECRET }`,
      `    mailboxes: [{ address: support@example.com, access: mailbox, retrieve: imap }]`,
      ...(t ? [`    teams: [${t.map(x => JSON.stringify(x)).join(', ')}]`] : []),
      ...(tenants ? [`    tenants: [${tenants.join(', ')}]`] : []),
    ].join('\n');
  writeFileSync(path, ['environments:', env('prod', teams), env('open')].join('\n') + '\n');
  return path;
}

/** A message activity as Teams sends it from a place. */
function activity(
  conversationId: string,
  tenant: string,
  team?: { id: string; aadGroupId?: string },
): Activity {
  return {
    type: 'message',
    id: 'a1',
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: '29:alex', name: 'Alex' },
    recipient: { id: '28:ecebot', name: 'ecebot' },
    conversation: {
      id: conversationId,
      tenantId: tenant,
      ...(team ? { conversationType: 'channel' } : { conversationType: 'personal' }),
    },
    channelData: {
      tenant: { id: tenant },
      ...(team ? { team: { ...team, name: 'Team' }, channel: { id: conversationId } } : {}),
    },
    text: 'hello',
  } as unknown as Activity;
}

function failingRun(n: number, environment: string): Run {
  const at = new Date(Date.UTC(2026, 10, 1, n)).toISOString();
  return {
    id: `${environment}-${n}`,
    environment,
    startedAt: at,
    finishedAt: at,
    status: 'fail',
    ece: {},
    findings: [findingOf('network', 'fail')],
  };
}

const scheduled = (environment: string): { data: RunJobData; observations: [] } => ({
  data: { environment, reason: 'schedule' } as unknown as RunJobData,
  observations: [],
});

describe('who still hears about an environment', () => {
  let store: MemoryStore;
  const used: QueueConfig[] = [];

  beforeEach(async () => {
    store = new MemoryStore();
    // Subscribed places: the ops team's channel (tenant A), the sales team's channel (tenant A),
    // a personal chat (tenant A), and a channel of the ops team as seen from tenant B.
    await saveConversation(store, activity('19:ops-general', TENANT_A, { id: TEAM_OPS }));
    await saveConversation(store, activity('19:sales-general', TENANT_A, { id: TEAM_SALES }));
    await saveConversation(store, activity('a:personal', TENANT_A));
    await saveConversation(store, activity('19:stranger', TENANT_B, { id: TEAM_OPS }));
    await saveConversation(
      store,
      activity('19:ops-by-group', TENANT_A, { id: '19:other@thread.tacv2', aadGroupId: OPS_GROUP }),
    );
    for (const env of ['prod', 'open'])
      for (const c of [
        '19:ops-general',
        '19:sales-general',
        'a:personal',
        '19:stranger',
        '19:ops-by-group',
        'never-seen',
      ])
        await store.subscribe(env, c);
  });
  afterEach(async () => {
    for (const cfg of used.splice(0)) await cleanup(cfg);
  });

  /** The conversations one new alert is queued for (a fresh prefix: a fresh alert state). */
  async function alertsFor(inv: Inventory, vars: NodeJS.ProcessEnv, environment: string) {
    const cfg = freshQueue();
    used.push(cfg);
    const queued: string[] = [];
    const pipeline = new AlertPipeline({
      queue: cfg,
      store,
      outbox: {
        enqueue: (item: { conversation: string }) => {
          queued.push(item.conversation);
          return Promise.resolve(true);
        },
      } as unknown as ConstructorParameters<typeof AlertPipeline>[0]['outbox'],
      audience: alertAudience({
        store,
        inventory: () => inv,
        tenants: tenantGate(vars, () => inv),
      }),
    });
    try {
      // Two failing scheduled runs in a row: the second raises the alert (threshold 2).
      await pipeline.afterRun(failingRun(1, environment), scheduled(environment));
      await pipeline.afterRun(failingRun(2, environment), scheduled(environment));
    } finally {
      await pipeline.close();
    }
    return queued.sort();
  }

  /**
   * The conversations the daily digest is queued for, after a run that saw a server
   * certificate expiring in ten days (within the 30-day forecast window, src/notify/forecast.ts).
   */
  async function digestFor(inv: Inventory, vars: NodeJS.ProcessEnv, environment: string) {
    const cfg = freshQueue();
    used.push(cfg);
    const queued: string[] = [];
    const pipeline = new AlertPipeline({
      queue: cfg,
      store,
      outbox: {
        enqueue: (item: { conversation: string }) => {
          queued.push(item.conversation);
          return Promise.resolve(true);
        },
      } as unknown as ConstructorParameters<typeof AlertPipeline>[0]['outbox'],
      audience: alertAudience({
        store,
        inventory: () => inv,
        tenants: tenantGate(vars, () => inv),
      }),
    });
    const run = failingRun(1, environment);
    const expiring = {
      kind: 'tls',
      target: 'outlook.office365.com:993',
      cert: { validTo: new Date(Date.parse(run.finishedAt) + 10 * 86_400_000).toUTCString() },
    } as unknown as Observation;
    try {
      await pipeline.afterRun(run, {
        data: { environment, reason: 'chat' } as unknown as RunJobData,
        observations: [expiring],
      });
      await pipeline.digest([environment], new Date(run.finishedAt));
    } finally {
      await pipeline.close();
    }
    return queued.sort();
  }

  test('an environment restricted to a team alerts only that team, by team id or group id', async () => {
    const inv = loadInventory(inventoryFile([TEAM_OPS, OPS_GROUP]));
    const vars = { ECEBOT_TENANTS: TENANT_A };
    expect(await alertsFor(inv, vars, 'prod')).toEqual(['19:ops-by-group', '19:ops-general']);
    // The unrestricted environment still reaches every known place in an allowed tenant.
    expect(await alertsFor(inv, vars, 'open')).toEqual([
      '19:ops-by-group',
      '19:ops-general',
      '19:sales-general',
      'a:personal',
    ]);
  });

  test('a tenant off the allowlist gets nothing, even in the right team', async () => {
    const inv = loadInventory(inventoryFile([TEAM_OPS]));
    const allowA = await alertsFor(inv, { ECEBOT_TENANTS: TENANT_A }, 'prod');
    expect(allowA).not.toContain('19:stranger');
  });

  test('an allowed tenant hears only of environments it may see (inventory tenants)', async () => {
    // prod and open are tenant A's (tenant.id) and name no `tenants`: allowing tenant B to use
    // the bot does not make A's environments B's, whatever team B's conversation names.
    const both = { ECEBOT_TENANTS: `${TENANT_A},${TENANT_B}` };
    const own = loadInventory(inventoryFile([TEAM_OPS]));
    expect(await alertsFor(own, both, 'prod')).toEqual(['19:ops-general']);
    expect(await alertsFor(own, both, 'open')).not.toContain('19:stranger');
    // The inventory lets tenant B (an MSP, say) see both; then its conversation hears too.
    const shared = loadInventory(inventoryFile([TEAM_OPS], [TENANT_A, TENANT_B]));
    expect(await alertsFor(shared, both, 'prod')).toEqual(['19:ops-general', '19:stranger']);
    // Listing only B takes the environments away from A's own conversations.
    const msp = loadInventory(inventoryFile(undefined, [TENANT_B]));
    expect(await alertsFor(msp, both, 'open')).toEqual(['19:stranger']);
  });

  test('the daily digest follows the same rule', async () => {
    const both = { ECEBOT_TENANTS: `${TENANT_A},${TENANT_B}` };
    const own = loadInventory(inventoryFile([TEAM_OPS]));
    expect(await digestFor(own, both, 'prod')).toEqual(['19:ops-general']);
    const shared = loadInventory(inventoryFile([TEAM_OPS], [TENANT_A, TENANT_B]));
    expect(await digestFor(shared, both, 'prod')).toEqual(['19:ops-general', '19:stranger']);
  });

  test('local mode without ECEBOT_TENANTS (no tenant authenticated): every stored conversation subscribed hears; unknown ones do not', async () => {
    const inv = loadInventory(inventoryFile(undefined));
    expect(await alertsFor(inv, {}, 'prod')).toEqual([
      '19:ops-by-group',
      '19:ops-general',
      '19:sales-general',
      '19:stranger',
      'a:personal',
    ]);
  });
});
