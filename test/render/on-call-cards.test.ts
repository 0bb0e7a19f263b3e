/**
 * The on-call cards as a reader sees them, at Teams' width in Chromium with the `adaptivecards`
 * renderer and Teams' host config (./support/chromium-card.ts): an alert with its Acknowledge,
 * Resolve and Add note buttons, the same alert acknowledged with a note, a drift notice, a
 * staleness notice and the support bundle's answer. Each parses without renderer problems, shows
 * what the feature promises (who and when, the window of a change, the mailbox ECE stopped
 * reading) and no secret, and is saved to test-artifacts/ (the README's pictures come from there).
 * The alert is raised from the lab's demo run (cards/examples/demo.run.json).
 */
import { existsSync } from 'node:fs';
import type { ItemId } from '../../src/model';
import { acknowledge, addNote, incidentCard, openIncident } from '../../src/notify/incident';
import { driftMessage, staleMessage } from '../../src/notify/notice-cards';
import { bundleCard } from '../../src/teams/bundle-links';
import { demoRun } from '../../src/teams/card-examples';
import { cardProblems } from '../teams/support/adaptive';
import { CHROMIUM, openCardPage, type CardPage } from './support/chromium-card';

const WIDTH = 450;
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `on-call-cards.test.ts is skipped: ${CHROMIUM} is missing (apt-get install chromium)`,
  );

const run = demoRun();
const failing = run.findings.filter(f => f.status === 'fail');
const opened = new Date(run.finishedAt);
const incident = openIncident(
  run.environment,
  run.id,
  failing.map(f => ({ kind: 'alert' as const, item: f.item as ItemId, finding: f, failures: 2 })),
  opened,
);
const at = new Date(opened.getTime() + 4 * 60_000).toISOString();

(haveChromium ? describe : describe.skip)('on-call cards at Teams width', () => {
  let page: CardPage;

  beforeAll(async () => {
    page = await openCardPage();
  });
  afterAll(async () => {
    await page?.close();
  });

  async function shown(card: Record<string, unknown>, name: string): Promise<string> {
    expect(cardProblems(card)).toEqual([]);
    const height = await page.render(card, WIDTH);
    expect(height).toBeGreaterThan(50);
    await page.screenshot(name);
    return page.text();
  }

  test('an alert carries Acknowledge, Resolve and Add note; acknowledged, it says who and when', async () => {
    expect(failing.length).toBeGreaterThan(0);
    const open = await shown(incidentCard(incident, 'en'), 'on-call-alert-open.png');
    for (const button of ['Acknowledge', 'Resolve', 'Add note']) expect(open).toContain(button);

    const acked = addNote(acknowledge(incident, { id: '29:1', name: 'Alex Wilber', at })!, {
      by: 'Alex Wilber',
      at,
      text: 'Checking the SMTP AUTH switch with the Exchange admin',
    });
    const text = await shown(incidentCard(acked, 'en'), 'on-call-alert-acknowledged.png');
    expect(text).toContain('Alex Wilber');
    expect(text).toContain('Checking the SMTP AUTH switch');
    expect(text).not.toContain('Acknowledge\n');
  });

  test('a drift notice names the setting, the mailbox and the window', async () => {
    const since = new Date(opened.getTime() - 5 * 60_000).toISOString();
    const msg = driftMessage(run.environment, run.id, [
      {
        field: 'imap',
        subject: 'support@example.com',
        before: true,
        after: false,
        added: [],
        removed: [],
        since,
        until: run.finishedAt,
        sinceRunId: `${run.environment}-20261203080100-0a1b`,
      },
    ]);
    const text = await shown(msg.card!, 'on-call-drift.png');
    expect(text).toContain('IMAP');
    expect(text).toContain('support@example.com');
  });

  test('a staleness notice says ECE stopped reading the mailbox', async () => {
    const msg = staleMessage(run.environment, run.id, 'stale', [
      {
        kind: 'stale',
        mailbox: 'support@example.com',
        account: 'support@example.com',
        lastSuccessAt: new Date(opened.getTime() - 4 * 3600_000).toISOString(),
        thresholdMs: 3 * 3600_000,
        lookedBackMs: 24 * 3600_000,
      },
    ]);
    const text = await shown(msg.card!, 'on-call-stale.png');
    expect(text).toContain('ECE has stopped reading support@example.com');
  });

  test('the support bundle answer gives the single-use link and the CLI command', async () => {
    const card = bundleCard(
      'en',
      run.id,
      {
        url: 'https://bot.example.com/bundles/0123456789abcdef0123456789abcdef',
        expiresAt: new Date(opened.getTime() + 10 * 60_000),
      },
      10,
    );
    const text = await shown(card as unknown as Record<string, unknown>, 'on-call-bundle.png');
    expect(text).toContain(`ecebot bundle ${run.id}`);
  });
});
