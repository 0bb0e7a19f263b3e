/**
 * Cards: every template in cards/ expands with its example data and parses in the
 * `adaptivecards` renderer without a problem; the run card (done, running, queued, shared, in
 * English and Dutch) stays under Teams' 28 KB with the lab's demo run and with a synthetic worst
 * case, and still says what to do for every failing item.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Run } from '../../src/model';
import { itemIds } from '../../src/checklist/items';
import { loadInventory, pickEnvironment, suggest } from '../../src/inventory/load';
import { startLab } from '../../src/lab/index';
import { DEMO_SCENARIOS, pickScenarios } from '../../src/lab/scenarios';
import {
  CARD_BUDGET_BYTES,
  CARD_BYTE_LIMIT,
  cardBytes,
  expandCard,
  renderRunCard,
  runCardData,
} from '../../src/render/card';
import type { CardTemplates, TemplateName } from '../../src/render/card-data';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import {
  finishedRunCard,
  helpData,
  runCardOptions,
  runningRunCard,
  signinCard,
} from '../../src/teams/cards';
import { itemTitle, remediationFix } from '../../src/i18n';
import { cardProblems, cardTexts } from './support/adaptive';
import { worstCaseRun } from './support/runs';

const CARDS = join(__dirname, '..', '..', 'cards');
const templates = readdirSync(CARDS)
  .filter(f => f.endsWith('.json'))
  .map(f => f.replace(/\.json$/, ''));
const examples = readdirSync(join(CARDS, 'examples')).filter(f => f.endsWith('.data.json'));

/** The actions of a card by verb (or type for non-Execute ones). */
function actions(card: Record<string, unknown>): string[] {
  return ((card.actions as { type: string; verb?: string }[]) ?? []).map(a => a.verb ?? a.type);
}

function expectClean(card: Record<string, unknown>) {
  expect(cardProblems(card)).toEqual([]);
  expect(card.version).toBe('1.5');
  // An unresolved template expression would be shown to the reader as is.
  expect(JSON.stringify(card)).not.toContain('${');
  expect(cardBytes(card)).toBeLessThan(CARD_BYTE_LIMIT);
}

describe('templates and example data', () => {
  test('every template has example data, and every example a template', () => {
    expect(templates.sort()).toEqual(
      [
        'environments',
        'error',
        'help',
        'history',
        'notice',
        'overview',
        'run',
        'share-picker',
        'signin',
      ].sort(),
    );
    for (const t of templates) expect(examples).toContain(`${t}.data.json`);
    for (const e of examples) expect(templates).toContain(e.split('.')[0]);
  });

  test.each(examples)('%s expands, parses without problems and fits', example => {
    const name = example.split('.')[0] as TemplateName;
    const data = JSON.parse(
      readFileSync(join(CARDS, 'examples', example), 'utf8'),
    ) as CardTemplates[typeof name];
    const card = expandCard(name, data);
    expectClean(card);
    expect(cardTexts(card).length).toBeGreaterThan(0);
  });

  test('example data has the shape the code produces', () => {
    const read = (n: string) =>
      JSON.parse(readFileSync(join(CARDS, 'examples', `${n}.data.json`), 'utf8')) as object;
    const keys = (o: object) => Object.keys(o).sort();
    expect(keys(read('run'))).toEqual(keys(runCardData(worstCaseRun())));
    expect(keys(read('help'))).toEqual(keys(helpData('en')));
  });
});

describe('run card with the lab’s demo run', () => {
  let run: Run;

  beforeAll(async () => {
    const lab = await startLab({ scenarios: pickScenarios(DEMO_SCENARIOS.join(','), suggest) });
    try {
      const inv = loadInventory(lab.info.inventory);
      run = await runInProcess(prepareRun(pickEnvironment(inv, 'lab', 'lab'), inv, { vars: {} }));
    } finally {
      await lab.stop();
    }
  });

  test.each(['en', 'nl'] as const)(
    '%s: fits, parses, and says what to do for each failure',
    lang => {
      const card = finishedRunCard(run, { lang, requestedBy: 'Alex Wilber' });
      expectClean(card);
      expect(cardBytes(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
      const text = cardTexts(card).join('\n');
      // Every item is on the card in the reader's language: problems with their title, the
      // passing ones in the list the passed line opens.
      for (const f of run.findings) expect(text).toContain(`**${itemTitle(f.item, lang)}**`);
      const failing = run.findings.filter(f => f.status === 'fail' || f.status === 'warn');
      expect(failing.length).toBeGreaterThanOrEqual(3);
      for (const f of failing) {
        const r = f.remediation[0]!;
        // The exact fix, whole, in the reader's language, and the remediation link for this
        // release (in Details).
        const fix = remediationFix(r, lang);
        if (fix) expect(text).toContain(fix);
        expect(text).toContain(`(${r.links[0]!.url})`);
        if (f.failedOn.length)
          expect(text).toMatch(new RegExp(`(failed on|fout op) ${f.failedOn[0]}`));
      }
      // Each fix once: the demo's connectivity failure is the network's and the mailbox's.
      for (const f of failing)
        for (const r of f.remediation.filter(x => x.fix))
          expect(text.split(remediationFix(r, lang)!).length - 1).toBe(1);
      // Toggles are on the rows (one per problem, one for the passed line), not one for all.
      expect(actions(card)).toEqual(['rerun', 'rerunFailed', 'share', 'bundle']);
      // The support bundle (admins) sits in the card's overflow menu, not in the button row.
      const bundle = (card.actions as { verb?: string; mode?: string }[]).find(
        a => a.verb === 'bundle',
      );
      expect(bundle?.mode).toBe('secondary');
      const toggles = JSON.stringify(card).match(/"Action\.ToggleVisibility"/g) ?? [];
      expect(toggles.length).toBeGreaterThanOrEqual(3);
      expect(text).toContain(lang === 'nl' ? 'Problemen gevonden' : 'Problems found');
      expect(text).toContain(
        lang === 'nl' ? 'aangevraagd door Alex Wilber' : 'requested by Alex Wilber',
      );
      // No command line on a Teams card.
      expect(text).not.toMatch(/ecebot check|--details|\bENV\b/);
    },
  );

  test('the Re-run failed button carries exactly the failed items', () => {
    const card = renderRunCard(run);
    const a = (card.actions as { verb?: string; data?: { items?: string } }[]).find(
      x => x.verb === 'rerunFailed',
    );
    expect(a?.data?.items?.split(',')).toEqual(
      run.findings.filter(f => f.status === 'fail' || f.status === 'error').map(f => f.item),
    );
  });

  test('progress state: pending, then running with the ready items done, no buttons', () => {
    const view = {
      runId: run.id,
      environment: run.environment,
      ece: run.ece,
      items: itemIds(),
      findings: [] as Run['findings'],
      started: false,
    };
    const queued = runningRunCard(view, { lang: 'en' });
    expectClean(queued);
    expect(cardTexts(queued).join('\n')).toContain('Queued: waiting for a worker');
    expect(cardTexts(queued).filter(t => t === '·')).toHaveLength(9);
    expect(actions(queued)).toEqual([]);

    const ready = run.findings.filter(f => f.item === 'version' || f.item === 'license');
    const running = runningRunCard({ ...view, started: true, findings: ready }, { lang: 'nl' });
    expectClean(running);
    const text = cardTexts(running);
    expect(text.join('\n')).toContain('Bezig: 2 van 9 items klaar');
    expect(text.filter(t => t === '…')).toHaveLength(7);
    expect(text).toContain('✔');
    expect(actions(running)).toEqual([]);
  });

  test('a shared snapshot names who shared it', () => {
    const card = finishedRunCard(run, {
      lang: 'en',
      sharedBy: { name: 'Megan Bowen', at: new Date('2026-11-29T10:20:00Z') },
    });
    expectClean(card);
    // The time in Adaptive Cards' DATE/TIME functions: Teams shows it in the reader's locale.
    expect(cardTexts(card)).toContain(
      'Shared by Megan Bowen on {{DATE(2026-11-29T10:20:00Z, COMPACT)}} {{TIME(2026-11-29T10:20:00Z)}}',
    );
  });
});

describe('synthetic worst case', () => {
  test('every item failing with huge evidence still fits, parses and shows every item', () => {
    const run = worstCaseRun();
    // Unbounded, this run would be far over the limit: the budget is what keeps it small.
    expect(cardBytes(run)).toBeGreaterThan(10 * CARD_BYTE_LIMIT);
    for (const lang of ['en', 'nl'] as const) {
      const card = finishedRunCard(run, { lang });
      expectClean(card);
      const text = cardTexts(card).join('\n');
      for (const f of run.findings) expect(text).toContain(itemTitle(f.item, lang));
      expect(text).toContain('Set-CASMailbox -Identity mailbox0@example.com');
      expect(text).toContain(lang === 'en' ? 'details shortened' : 'details ingekort');
    }
  });

  test('a tighter budget gives a smaller card of the same run', () => {
    const run = worstCaseRun();
    const opts = runCardOptions({ lang: 'en' });
    const normal = cardBytes(renderRunCard(run, opts));
    const small = cardBytes(renderRunCard(run, { ...opts, budgetBytes: 16 * 1024 }));
    expect(small).toBeLessThan(normal);
    expect(small).toBeLessThanOrEqual(16 * 1024);
  });
});

describe('sign-in card', () => {
  test('waiting: code, link, private window, and whom to sign in as; then the outcome', () => {
    const waiting = signinCard('en', {
      environment: 'prod',
      mailbox: 'sales@example.com',
      account: 'svc-ece@example.com',
      shared: true,
      state: {
        kind: 'waiting',
        url: 'https://microsoft.com/devicelogin',
        code: 'ABCD2345',
        expiresInSeconds: 900,
      },
    });
    expectClean(waiting);
    const text = cardTexts(waiting).join('\n');
    expect(text).toContain('ABCD2345');
    expect(text).toContain('**private** browser window');
    expect(text).toContain('Sign in as **svc-ece@example.com**');
    expect(text).toContain('checklist item 4');
    expect(JSON.stringify(waiting)).toContain('"url":"https://microsoft.com/devicelogin"');

    const wrong = signinCard('nl', {
      environment: 'prod',
      mailbox: 'support@example.com',
      account: 'support@example.com',
      shared: false,
      state: { kind: 'wrong-user', user: 'engineer@example.com' },
    });
    expectClean(wrong);
    expect(cardTexts(wrong).join('\n')).toContain(
      'Aangemeld als engineer@example.com, maar deze mailbox heeft een token voor support@example.com nodig',
    );
    expect(actions(wrong)).toEqual([]);
  });
});
