/**
 * Card button data: every `Action.Execute` of every card the bot builds has a known verb whose
 * schema accepts what the button sends (with the card's inputs, as Teams merges them); data a
 * crafted or outdated card sends is refused with a card that says which field is wrong, a warn
 * line in the log, and nothing run or posted.
 */
import { join } from 'node:path';
import { itemIds } from '../../src/checklist/items';
import { loadInventory, type Inventory } from '../../src/inventory/load';
import type { AdaptiveCard } from '../../src/render/card-data';
import { adminCheck } from '../../src/teams/access';
import { bundleCard } from '../../src/teams/bundle-links';
import { CARD_ACTION_DATA, parseCardAction } from '../../src/teams/card-actions';
import { finishedRunCard, historyCard, sharePickerCard } from '../../src/teams/cards';
import { CARD_ACTIONS, type CardVerb } from '../../src/teams/commands';
import type { BotLog } from '../../src/teams/log';
import type { ShareTarget } from '../../src/teams/share-target';
import { cardProblems, cardTexts } from './support/adaptive';
import { ALEX, execute, post, type Where } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import { smallRun } from './support/runs';
import { incidentCard, openIncident } from '../../src/notify/incident';
import { findingOf } from '../queue/support';

interface Button {
  verb: string;
  data: Record<string, unknown>;
}

/** Every Action.Execute of a card (card actions and select actions), with its card's inputs. */
function buttons(card: AdaptiveCard): Button[] {
  const inputs: Record<string, unknown> = {};
  const found: { verb: string; data: Record<string, unknown>; inputs: boolean }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'string' && o.type.startsWith('Input.') && typeof o.id === 'string')
      inputs[o.id] = o.value;
    if (o.type === 'Action.Execute')
      found.push({
        verb: String(o.verb),
        data: (o.data ?? {}) as Record<string, unknown>,
        inputs: o.associatedInputs !== 'none',
      });
    Object.values(o).forEach(walk);
  };
  walk(card);
  // Teams adds the values of the card's inputs to the data (Action.Execute, associatedInputs).
  return found.map(b => ({ verb: b.verb, data: b.inputs ? { ...inputs, ...b.data } : b.data }));
}

const targets: ShareTarget[] = [
  { kind: 'conversation', id: '19:ops@thread.tacv2', title: 'Ops | a:b (subscribed to prod)' },
  { kind: 'channel', id: '19:esc@thread.tacv2', title: 'Mail Ops › Escalations' },
];

describe('every button of every card parses', () => {
  const run = smallRun();
  const cards: [string, AdaptiveCard][] = [
    ['run (en)', finishedRunCard(run, { lang: 'en' })],
    ['run (nl)', finishedRunCard({ ...run, findings: run.findings.slice(0, 1) }, { lang: 'nl' })],
    ['share picker (back to run)', sharePickerCard('en', run, targets, 'run')],
    ['share picker (notice)', sharePickerCard('nl', run, targets.slice(1), 'notice')],
    [
      'support bundle answer',
      bundleCard(
        'en',
        run.id,
        { url: 'https://bot.example.com/bundles/x', expiresAt: new Date() },
        10,
      ),
    ],
    [
      'history',
      historyCard('en', 'prod', [
        {
          id: run.id,
          environment: run.environment,
          status: run.status,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          problems: [],
        },
      ]),
    ],
  ];

  test('every verb has a schema and every schema a verb', () => {
    expect(Object.keys(CARD_ACTION_DATA).sort()).toEqual(Object.keys(CARD_ACTIONS).sort());
  });

  test.each(cards)('%s', (_name, card) => {
    const bs = buttons(card);
    expect(bs.length).toBeGreaterThan(0);
    for (const b of bs) {
      expect(Object.keys(CARD_ACTIONS)).toContain(b.verb);
      const parsed = parseCardAction(b.verb as CardVerb, b.data);
      expect(parsed).toMatchObject({ ok: true });
    }
  });

  test('what the buttons carry comes out typed: items, and the chosen share target', () => {
    const run = smallRun();
    const bs = buttons(finishedRunCard(run, { lang: 'en' }));
    const failed = parseCardAction('rerunFailed', bs.find(b => b.verb === 'rerunFailed')!.data);
    expect(failed).toEqual({
      ok: true,
      action: {
        verb: 'rerunFailed',
        data: { runId: run.id, environment: run.environment, items: [run.findings[0]!.item] },
      },
    });
    const all = parseCardAction('rerun', bs.find(b => b.verb === 'rerun')!.data);
    expect(all.ok && all.action.verb === 'rerun' && all.action.data.items).toEqual([
      run.findings[0]!.item,
      run.findings[1]!.item,
    ]);
    const picker = buttons(sharePickerCard('en', run, targets, 'run'));
    const shareTo = parseCardAction('shareTo', picker.find(b => b.verb === 'shareTo')!.data);
    expect(shareTo).toEqual({
      ok: true,
      action: { verb: 'shareTo', data: { runId: run.id, back: 'run', target: targets[0] } },
    });
  });
});

describe('the alert card’s buttons parse (src/notify/incident.ts)', () => {
  const open = openIncident(
    'prod',
    'prod-20261201100000-abcd',
    [{ kind: 'alert', item: 'network', finding: findingOf('network', 'fail'), failures: 2 }],
    new Date('2026-12-01T10:00:00Z'),
  );
  const at = '2026-12-01T10:05:00Z';
  const acked = {
    ...open,
    status: 'acknowledged' as const,
    acknowledged: { id: '29:m', name: 'Megan', at },
  };
  test.each([
    ['open (en)', incidentCard(open, 'en'), ['ackAlert', 'resolveAlert', 'noteAlert']],
    ['acknowledged (nl)', incidentCard(acked, 'nl'), ['resolveAlert', 'noteAlert']],
  ] as const)('%s', (_name, card, verbs) => {
    expect(cardProblems(card)).toEqual([]);
    const bs = buttons(card);
    expect(bs.map(b => b.verb)).toEqual(verbs);
    for (const b of bs) {
      expect(Object.keys(CARD_ACTIONS)).toContain(b.verb);
      // Teams sends the note box's text with the data (associatedInputs: auto).
      const parsed = parseCardAction(b.verb as CardVerb, { ...b.data, note: 'on it' });
      expect(parsed).toMatchObject({ ok: true, action: { data: { incident: open.id } } });
    }
  });
});

describe('schemas refuse what the cards never send', () => {
  test.each([
    ['rerun', { runId: 'r', items: 'version,bogus' }, 'items: "bogus" is not a checklist item'],
    ['rerunFailed', { runId: 'r', items: 7 }, 'items: Invalid input: expected string'],
    ['share', {}, 'runId: Invalid input: expected string, received undefined'],
    ['showRun', { runId: '' }, 'runId: no run named'],
    ['shareTo', { runId: 'r', back: 'run', target: 'x:1' }, 'target: "x:1" is not a place'],
    ['shareTo', { runId: 'r', target: 'c:1' }, 'back: Invalid option'],
    ['shareTo', { runId: 'r', back: 'run' }, 'target: no place chosen'],
    ['showRun', 'lab-20261129042633-73fb', 'data: Invalid input: expected object'],
    ['ackAlert', {}, 'incident: no alert named'],
    ['resolveAlert', { incident: 'inc-../x' }, 'incident: not an alert of ecebot'],
    ['noteAlert', { incident: 'inc-prod-1' }, 'note: the note is empty'],
    ['noteAlert', { incident: 'inc-prod-1', note: 'y'.repeat(501) }, 'at most 500'],
  ] as const)('%s %j', (verb, data, problem) => {
    const parsed = parseCardAction(verb, data);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toContain(problem);
  });

  test('a bad value is shown short', () => {
    const parsed = parseCardAction('rerun', { items: 'x'.repeat(500) });
    expect(!parsed.ok && parsed.problem).toContain(`"${'x'.repeat(60)}…"`);
    expect(!parsed.ok && parsed.problem).not.toContain('x'.repeat(61));
  });

  test('every item id is accepted, in checklist order, and an empty list means all', () => {
    const items = itemIds().reverse().join(', ');
    const parsed = parseCardAction('rerun', { runId: 'r', items });
    expect(parsed.ok && parsed.action.verb === 'rerun' && parsed.action.data.items).toEqual([
      ...itemIds(),
    ]);
    const none = parseCardAction('rerun', { runId: 'r', items: '' });
    expect(none.ok && none.action.verb === 'rerun' && none.action.data.items).toBeUndefined();
  });
});

describe('the bot refuses bad button data and changes nothing', () => {
  const warnings: Record<string, unknown>[] = [];
  const log: BotLog = {
    info: () => undefined,
    warn: obj => void warnings.push(obj as Record<string, unknown>),
    error: () => undefined,
  };
  let inv: Inventory;
  let rig: BotRig;
  const here: Where = { conversationId: 'a:1personal-alex' };

  beforeAll(async () => {
    inv = loadInventory(join(__dirname, '..', '..', 'examples', 'inventory.yaml'));
    rig = await startBotRig(() => inv, {
      server: { isAdmin: adminCheck([ALEX.aadObjectId]), log },
    });
  });
  afterAll(async () => {
    await rig?.close();
  });

  async function press(w: Where, verb: string, data: Record<string, unknown>): Promise<string> {
    const res = await post(rig.bot.url, execute(rig.fake.url, w, 'act-1', verb, data));
    expect(res.status).toBe(200);
    const b = res.body as { statusCode: number; value: Record<string, unknown> };
    expect(b.statusCode).toBe(200);
    expect(cardProblems(b.value)).toEqual([]);
    return cardTexts(b.value).join('\n');
  }

  test.each([
    [
      'rerunFailed',
      { runId: 'prod-20261129101500-ffff', environment: 'prod', items: 'token,nope' },
      'items: "nope" is not a checklist item',
    ],
    ['shareTo', { runId: 'prod-20261129101500-ffff', back: 'run', target: 'z:9' }, 'target:'],
    ['showRun', { runId: 42 }, 'runId:'],
  ])('%s %j', async (verb, data, problem) => {
    const from = rig.fake.requests.length;
    const logged = warnings.length;
    const text = await press(here, verb, data);
    expect(text).toContain(`This card button (${verb}) sent data ecebot does not accept:`);
    expect(text).toContain(problem);
    expect(text).toContain('Nothing was changed.');
    // Nothing run, nothing posted or updated.
    expect(await rig.store.searchRuns('', 10)).toEqual([]);
    expect(rig.fake.requests.slice(from)).toEqual([]);
    expect(warnings.slice(logged)).toEqual([
      expect.objectContaining({
        command: verb,
        reason: expect.stringContaining(`bad card data: ${problem}`),
      }),
    ]);
  });

  test('in Dutch for a Dutch client', async () => {
    const text = await press({ ...here, locale: 'nl-NL' }, 'rerun', {
      runId: 'prod-20261129101500-ffff',
      environment: 'prod',
      items: 'bogus',
    });
    expect(text).toContain('Deze knop (rerun) stuurde gegevens die ecebot niet accepteert');
    expect(await rig.store.searchRuns('', 10)).toEqual([]);
  });
});
