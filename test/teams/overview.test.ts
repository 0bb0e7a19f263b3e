/**
 * `overview` end to end over /api/messages with the fake connector: an admin sees every
 * environment their place may see (src/teams/access.ts visibleAt) with its state, worst item
 * and age, worst first then newest; environments never run are shown as such; and a code failing
 * in three tenants within 15 minutes is flagged as a likely Microsoft-side incident that names
 * the code and the tenant count, never another customer's environment or tenant.
 *
 * Four Teams tenants: A owns a-fail, a-warn, a-early and a-new (never run); B owns b-fail, C owns
 * c-fail, D owns d-pass. Runs are stored directly (the overview reads the store, it runs
 * nothing); the bot's clock is fixed so ages are exact.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory, type Inventory } from '../../src/inventory/load';
import type { Code, Finding, ItemId, Run, Status } from '../../src/model';
import { cardProblems, cardTexts } from './support/adaptive';
import { message, post, type User, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import { cardOf } from './support/fake-connector';

const NOW = new Date('2026-12-03T09:30:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

const TENANT = {
  A: randomUUID(),
  B: randomUUID(),
  C: randomUUID(),
  D: randomUUID(),
} as const;
type TenantKey = keyof typeof TENANT;

const admin = (t: TenantKey): User => ({
  id: `29:admin-${t}`,
  name: `Admin ${t}`,
  aadObjectId: randomUUID(),
});
const ADMINS = { A: admin('A'), B: admin('B'), C: admin('C'), D: admin('D') };
const READER_A: User = { id: '29:reader-a', name: 'Reader A', aadObjectId: randomUUID() };

function finding(item: ItemId, status: Status, code: Code): Finding {
  return {
    item,
    title: item,
    status,
    summary: `${item}: ${code}`,
    code,
    codes: status === 'pass' ? [] : [code],
    evidence: [],
    remediation: [],
    failedOn: [],
    vantages: ['central'],
    durationMs: 10,
  };
}

let seq = 0;
function run(environment: string, finishedMinutesAgo: number, findings: Finding[]): Run {
  const hex = (seq++).toString(16).padStart(4, '0');
  const worst = findings.some(f => f.status === 'fail' || f.status === 'error')
    ? 'fail'
    : findings.some(f => f.status === 'warn')
      ? 'warn'
      : 'pass';
  return {
    id: `${environment}-2026120309${String(seq).padStart(4, '0')}-${hex}`,
    environment,
    startedAt: minutesAgo(finishedMinutesAgo + 1),
    finishedAt: minutesAgo(finishedMinutesAgo),
    status: worst,
    ece: { version: '12.6(1)', es: 10 },
    findings,
  };
}

let dir: string;
let inv: Inventory;
let rig: BotRig;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ecebot-overview-'));
  const doc = parse(readFileSync(join(__dirname, '../../examples/inventory.yaml'), 'utf8')) as {
    environments: Record<string, Record<string, unknown>>;
  };
  const base = doc.environments.prod!;
  const env = (t: TenantKey, description?: string) => ({
    ...structuredClone(base),
    tenant: { id: TENANT[t] },
    ...(description ? { description } : { description: undefined }),
  });
  doc.environments = {
    'a-fail': env('A', 'Contact centre A'),
    'a-warn': env('A'),
    'a-early': env('A'),
    'a-new': env('A'),
    'b-fail': env('B', 'Secret customer B'),
    'c-fail': env('C'),
    'd-pass': env('D'),
  };
  for (const e of Object.values(doc.environments)) if (!e.description) delete e.description;
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, stringify(doc));
  inv = loadInventory(file);
  rig = await startBotRig(() => inv, {
    server: {
      vars: {
        ECEBOT_TENANTS: Object.values(TENANT).join(','),
        ECEBOT_ADMINS: Object.values(ADMINS)
          .map(u => u.aadObjectId)
          .join(','),
      },
      now: () => NOW,
    },
  });
  const s = rig.store;
  // a-early failed long ago (an older failing run sorts after a newer one).
  await s.saveRun(run('a-early', 300, [finding('connectivity', 'fail', 'CONNECT_TIMEOUT')]));
  // a-fail: an old failure, then the latest run 5 minutes ago with a temporary mail failure.
  await s.saveRun(run('a-fail', 120, [finding('token', 'fail', 'AUTH_FAILED')]));
  await s.saveRun(
    run('a-fail', 5, [
      finding('token', 'pass', 'OK'),
      finding('network', 'warn', 'SLOW_RESPONSE'),
      finding('connectivity', 'fail', 'MAIL_TEMPORARY'),
    ]),
  );
  await s.saveRun(run('a-warn', 2, [finding('network', 'warn', 'SLOW_RESPONSE')]));
  // The same code in B (9 minutes ago) and C (18 minutes ago): three tenants within 13 minutes.
  await s.saveRun(run('b-fail', 9, [finding('connectivity', 'fail', 'MAIL_TEMPORARY')]));
  await s.saveRun(run('c-fail', 18, [finding('connectivity', 'error', 'MAIL_TEMPORARY')]));
  await s.saveRun(run('d-pass', 1, [finding('connectivity', 'pass', 'OK')]));
}, 60_000);

afterAll(async () => {
  await rig?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function where(t: TenantKey, user: User, locale = 'en-US'): Where & { tenant: string } {
  return { conversationId: `a:personal-${t}-${user.id}`, user, locale, tenant: TENANT[t] };
}

/** Ask in a personal chat of tenant `t`; the one card answered, as its lines. */
async function ask(w: Where & { tenant: string }, text: string): Promise<string[]> {
  const from = rig.fake.requests.length;
  const a = message(rig.fake.url, w, text);
  const res = await post(rig.bot.url, {
    ...a,
    channelData: { ...a.channelData, tenant: { id: w.tenant } },
    conversation: { ...a.conversation, tenantId: w.tenant },
  });
  expect(res.status).toBe(200);
  const sent = rig.fake.postsTo(w.conversationId, from);
  expect(sent).toHaveLength(1);
  const card = cardOf(sent[0]!)!;
  expect(cardProblems(card)).toEqual([]);
  return cardTexts(card);
}

/** The environment names in the order the card lists them (bold names in the rows). */
const namesIn = (lines: string[]) =>
  lines.flatMap(l => /^\*\*([a-z0-9_\\-]+)\*\*/.exec(l)?.[1]?.replace(/\\/g, '') ?? []);

describe('overview', () => {
  test('an admin of A sees A’s environments only, worst first then newest, never-run last', async () => {
    const lines = await ask(where('A', ADMINS.A), 'overview');
    const text = lines.join('\n');
    // fail (a-fail 5 min ago, then a-early 300 min ago), warn (a-warn), never run (a-new).
    expect(namesIn(lines)).toEqual(['a-fail', 'a-early', 'a-warn', 'a-new']);
    for (const other of ['b-fail', 'c-fail', 'd-pass', 'Secret customer B'])
      expect(text).not.toContain(other);
    // State, worst item (not the warning of the same run) with its code, and the age.
    const aFail = lines[lines.findIndex(l => l.startsWith('**a-fail**')) + 1]!;
    expect(aFail).toMatch(/^fail — .*\(MAIL_TEMPORARY\) · 5 min ago \(2026-12-03 09:25 UTC\)$/);
    const aNew = lines[lines.findIndex(l => l.startsWith('**a-new**')) + 1]!;
    expect(aNew).toBe('no run yet');
  });

  test('three tenants failing with one code within 15 minutes: a likely incident, by count only', async () => {
    const lines = await ask(where('A', ADMINS.A), 'overview');
    const text = lines.join('\n');
    expect(text).toContain('Likely Microsoft-side incident: MAIL_TEMPORARY');
    expect(text).toMatch(/failed in 3 tenants within 15 minutes/);
    expect(text).toContain('here in **a-fail**');
    expect(text).toContain('Microsoft 365 service health');
    // Other customers are a number: no tenant id, no environment name.
    for (const t of [TENANT.B, TENANT.C, TENANT.D]) expect(text).not.toContain(t);
    // The older failure of a-early (CONNECT_TIMEOUT, one tenant) is no incident.
    expect(text).not.toContain('incident: CONNECT_TIMEOUT');
  });

  test('an admin of B sees B’s environment and the incident, nothing of A or C', async () => {
    const lines = await ask(where('B', ADMINS.B), 'overview');
    const text = lines.join('\n');
    expect(namesIn(lines)).toEqual(['b-fail']);
    expect(text).toContain('here in **b-fail**');
    expect(text).toMatch(/3 tenants/);
    for (const hidden of [
      'a-fail',
      'a-warn',
      'a-early',
      'a-new',
      'c-fail',
      'Contact centre A',
      TENANT.A,
      TENANT.C,
    ])
      expect(text).not.toContain(hidden);
  });

  test('an admin of D, whose environment passes, hears of no incident', async () => {
    const lines = await ask(where('D', ADMINS.D), 'overview');
    expect(namesIn(lines)).toEqual(['d-pass']);
    expect(lines.join('\n')).not.toContain('incident');
  });

  test('in Dutch', async () => {
    const lines = await ask(where('C', ADMINS.C, 'nl-NL'), 'overview');
    const text = lines.join('\n');
    expect(text).toContain('Alle omgevingen (1)');
    expect(text).toContain('Waarschijnlijk een storing bij Microsoft: MAIL_TEMPORARY');
    expect(text).toMatch(/mislukt — .*\(MAIL_TEMPORARY\) · 18 min geleden/);
  });

  test('someone who is not an admin is refused', async () => {
    const lines = await ask(where('A', READER_A), 'overview');
    const text = lines.join('\n');
    expect(text).toMatch(/admin/i);
    expect(text).not.toContain('a-fail');
  });
});
