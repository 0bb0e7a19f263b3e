/**
 * The history card as a host without charts shows it: the `adaptivecards` JS renderer (Agents
 * Playground, Designer; ./support/chromium-card.ts) in Chromium does not know `Chart.Line` or
 * `Chart.VerticalBar`, so it must render each chart's `fallback` ("Charts in Adaptive Cards",
 * learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/charts-in-adaptive-cards:
 * "An alternate element to render if this element is unsupported"): the runs' marks and the
 * uptime per day and per item as text. Screenshots go to test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { demoRun } from '../../src/teams/card-examples';
import { historyCard } from '../../src/teams/cards';
import { itemTitle } from '../../src/i18n';
import { reportOf } from '../../src/history/report';
import type { ItemId, Status } from '../../src/model';
import type { HistoryMark } from '../../src/store/item-history';
import { CHROMIUM, openCardPage, type CardPage } from './support/chromium-card';

const WIDTH = 450;
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `history-chart.test.ts is skipped: ${CHROMIUM} is missing (apt-get install chromium)`,
  );

/** Four days of runs every 12 hours: network fails on the third day, token is skipped once. */
function report(item?: ItemId) {
  const until = new Date('2026-12-04T00:00:00Z');
  const marks: HistoryMark[] = [];
  const byItem = new Map<ItemId, HistoryMark[]>([
    ['network', []],
    ['token', []],
  ]);
  for (let i = 0; i < 8; i++) {
    const at = new Date(Date.UTC(2026, 11, 0, 6 + 12 * i)).toISOString();
    const runId = `lab-run-${i}`;
    const network: Status = i === 4 || i === 5 ? 'fail' : 'pass';
    const token: Status = i === 2 ? 'skip' : 'pass';
    byItem.get('network')!.push({ runId, at, status: network });
    byItem.get('token')!.push({ runId, at, status: token });
    marks.push({ runId, at, status: network === 'fail' ? 'fail' : 'pass' });
  }
  const q = {
    environment: 'lab',
    since: new Date(until.getTime() - 7 * 86_400_000),
    until,
    allItems: ['token', 'network'] as ItemId[],
  };
  return item ? reportOf({ ...q, item }, byItem.get(item)!, new Map()) : reportOf(q, marks, byItem);
}

(haveChromium ? describe : describe.skip)('history card without chart support', () => {
  let page: CardPage;
  beforeAll(async () => {
    page = await openCardPage();
  });
  afterAll(async () => {
    await page?.close();
  });

  test.each(['en', 'nl'] as const)(
    '%s: each chart’s fallback is rendered in its place, with the figures',
    async lang => {
      const run = demoRun();
      const summary = {
        id: run.id,
        environment: 'lab',
        status: run.status,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
        problems: [],
      };
      const card = historyCard(lang, 'lab', [summary], report());
      const height = await page.render(card, WIDTH);
      await page.screenshot(`history-card-fallback-${lang}.png`);
      expect(height).toBeGreaterThan(100);
      // The fallbacks are on the card, the charts (unknown here) are not.
      expect(await page.visibleIds('history-')).toEqual([
        'history-fallback',
        'history-items-fallback',
      ]);
      const shown = await page.text();
      // 8 runs, network failed twice: ✖ for runs 4 and 5, oldest first.
      expect(shown).toContain('✔ ✔ ✔ ✔ ✖ ✖ ✔ ✔');
      // Day 3 (2026-12-02) had both failures: 0 of 2; the other days 2 of 2.
      expect(shown).toMatch(
        lang === 'nl' ? /2026-12-02\s*0,0% van 2 runs/ : /2026-12-02\s*0.0% of 2 runs/,
      );
      expect(shown).toMatch(
        lang === 'nl' ? /2026-12-01\s*100,0% van 2 runs/ : /2026-12-01\s*100.0% of 2 runs/,
      );
      // Per item: token was skipped once, so 7 counted, all up.
      expect(shown).toMatch(lang === 'nl' ? /100,0% van 7 runs/ : /100.0% of 7 runs/);
      expect(shown).toMatch(lang === 'nl' ? /75,0% van 8 runs/ : /75.0% of 8 runs/);
    },
  );

  test('history ENV ITEM: the line chart’s fallback, and no per-item chart', async () => {
    await page.render(historyCard('en', 'lab', [], report('network')), WIDTH);
    await page.screenshot('history-card-item-fallback-en.png');
    expect(await page.visibleIds('history-')).toEqual(['history-fallback']);
    expect(await page.text()).toContain(`${itemTitle('network', 'en')}: fail`);
  });
});
