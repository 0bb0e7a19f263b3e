/**
 * The run card read at Teams' width: the lab's demo run (its four scenarios fail three items
 * and warn one) renders at most 600 px tall at 450 px wide, buttons included, so Re-run and
 * Share are on screen without scrolling; the nine-failure worst case stays under 1,000 px.
 * Measured in Chromium with the `adaptivecards` renderer and a Teams host config
 * (./support/chromium-card.ts); screenshots go to test-artifacts/. Details open one problem at a
 * time, and the passing items open on their own line.
 */
import { existsSync } from 'node:fs';
import type { Run } from '../../src/model';
import { loadInventory, pickEnvironment, suggest } from '../../src/inventory/load';
import { startLab } from '../../src/lab/index';
import { DEMO_SCENARIOS, pickScenarios } from '../../src/lab/scenarios';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import { finishedRunCard } from '../../src/teams/cards';
import { worstCaseRun } from '../teams/support/runs';
import { CHROMIUM, openCardPage, type CardPage } from './support/chromium-card';

const WIDTH = 450;
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`card-height.test.ts is skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

(haveChromium ? describe : describe.skip)('run card height at Teams width', () => {
  let page: CardPage;
  let demo: Run;

  beforeAll(async () => {
    const lab = await startLab({ scenarios: pickScenarios(DEMO_SCENARIOS.join(','), suggest) });
    try {
      const inv = loadInventory(lab.info.inventory);
      demo = await runInProcess(prepareRun(pickEnvironment(inv, 'lab', 'lab'), inv, { vars: {} }));
    } finally {
      await lab.stop();
    }
    page = await openCardPage();
  });

  afterAll(async () => {
    await page?.close();
  });

  test.each(['en', 'nl'] as const)(
    '%s: the demo run fits in 600 px, buttons included',
    async lang => {
      // The demo's premise: three items fail and one warns; a weaker run would not test much.
      expect(demo.findings.filter(f => f.status === 'fail').length).toBeGreaterThanOrEqual(3);
      expect(demo.findings.some(f => f.status === 'warn')).toBe(true);
      const card = finishedRunCard(demo, { lang, requestedBy: 'Alex Wilber' });
      const height = await page.render(card, WIDTH);
      await page.screenshot(`run-card-demo-${lang}.png`);
      expect(height).toBeGreaterThan(100);
      expect(height).toBeLessThanOrEqual(600);
    },
  );

  test('Details opens one problem, not all; the passed line opens the passing items', async () => {
    const card = finishedRunCard(demo, { lang: 'en' });
    const closed = await page.render(card, WIDTH);
    expect(await page.visibleIds('details-')).toEqual([]);
    const opened = await page.click('▾');
    expect(await page.visibleIds('details-')).toHaveLength(1);
    expect(opened).toBeGreaterThan(closed);
    await page.screenshot('run-card-demo-details.png');
    expect(await page.visibleIds('passed')).toEqual([]);
    await page.click('Show ▾');
    expect(await page.visibleIds('passed')).toEqual(['passed']);
  });

  test('nine failing items with huge texts stay under 1,000 px', async () => {
    for (const lang of ['en', 'nl'] as const) {
      const height = await page.render(finishedRunCard(worstCaseRun(), { lang }), WIDTH);
      await page.screenshot(`run-card-worst-${lang}.png`);
      expect(height).toBeLessThan(1000);
    }
  });
});
