/**
 * The example data in cards/examples/, built by the code that builds the bot's cards, so the
 * examples are exactly what the bot posts. `npm run cards:examples` writes them;
 * test/render/examples.test.ts fails when a file differs from what this returns. The run cards
 * come from cards/examples/demo.run.json, a run of the lab's demo scenarios (`ecebot demo`
 * writes its run.json); every other input is fixed here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ItemId, Run, Status } from '../model';
import { itemIds } from '../checklist/items';
import { reportOf, type HistoryReport } from '../history/report';
import type { HistoryMark } from '../store/item-history';
import type { RunSummary } from '../store/types';
import {
  environmentsData,
  errorData,
  finishedRunCardData,
  helpData,
  historyData,
  overviewData,
  runningRunCardData,
  sharePickerData,
  signinData,
  type SigninView,
} from './cards';

/** Where the examples are: cards/examples, two folders above src/teams and dist/teams. */
export const EXAMPLES_DIR = join(__dirname, '..', '..', 'cards', 'examples');

/** The run the run-card examples show. */
export function demoRun(): Run {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, 'demo.run.json'), 'utf8')) as Run;
}

const summary = (run: Run): RunSummary => ({
  id: run.id,
  environment: run.environment,
  status: run.status,
  startedAt: run.startedAt,
  finishedAt: run.finishedAt,
  problems: run.findings
    .filter(f => f.status !== 'pass')
    .map(f => ({ item: f.item, status: f.status })),
});

/**
 * A week of runs every 6 hours before the demo run: the last day is the demo run's result, the
 * days before pass but for one network failure, so the chart has a dip and a fall.
 */
function exampleReport(run: Run, item?: ItemId): HistoryReport {
  const until = new Date(run.finishedAt);
  const since = new Date(until.getTime() - 7 * 86_400_000);
  const marks: HistoryMark[] = [];
  const byItem = new Map<ItemId, HistoryMark[]>();
  for (let i = 27; i >= 0; i--) {
    const at = new Date(until.getTime() - i * 6 * 3_600_000).toISOString();
    const runId = `lab-${at.replace(/\D/g, '').slice(0, 14)}-${(i * 37).toString(16).padStart(4, '0')}`;
    const blip = i === 13;
    for (const f of run.findings) {
      const status: Status = i < 4 ? f.status : blip && f.item === 'network' ? 'fail' : 'pass';
      byItem.set(f.item, [...(byItem.get(f.item) ?? []), { runId, at, status }]);
    }
    marks.push({ runId, at, status: i < 4 ? run.status : blip ? 'fail' : 'pass' });
  }
  const q = { environment: run.environment, since, until, allItems: itemIds() };
  return item
    ? reportOf({ ...q, item }, byItem.get(item) ?? [], new Map())
    : reportOf(q, marks, byItem);
}

const signin = (state: SigninView['state']): SigninView => ({
  environment: 'prod',
  mailbox: 'sales@example.com',
  account: 'svc-ece@example.com',
  shared: true,
  state,
});

/** Every example file name (NAME[.variant].data.json) with its data. */
export function cardExamples(): Record<string, unknown> {
  const run = demoRun();
  const view = {
    runId: run.id,
    environment: run.environment,
    ece: run.ece,
    items: run.findings.map(f => f.item),
    findings: run.findings.slice(0, 3),
    started: true,
    startedAt: run.startedAt,
  };
  return {
    'run.data.json': finishedRunCardData(run, { lang: 'en', requestedBy: 'Alex Wilber' }),
    'run.nl.data.json': finishedRunCardData(run, {
      lang: 'nl',
      requestedBy: 'Alex Wilber',
      sharedBy: { name: 'Megan Bowen', at: new Date(run.finishedAt) },
      notice: 'Gedeeld in Mail Ops › Ops.',
    }),
    'run.progress.data.json': runningRunCardData(view, {
      lang: 'en',
      requestedBy: 'Alex Wilber',
    }),
    'run.queued.data.json': runningRunCardData(
      { ...view, started: false, findings: [] },
      { lang: 'en', requestedBy: 'Alex Wilber' },
    ),
    'help.data.json': helpData('en'),
    'environments.data.json': environmentsData('en', [
      {
        name: 'lab',
        description: 'The lab',
        release: '12.6(1) ES1',
        servers: 2,
        mailboxes: 1,
        last: summary(run),
        subscribedHere: true,
        mutedUntil: new Date('2026-12-01T00:00:00Z'),
      },
      { name: 'prod', release: '12.6(1) ES2', servers: 4, mailboxes: 3, subscribedHere: false },
    ]),
    'history.data.json': historyData('en', 'lab', [summary(run)]),
    'overview.data.json': overviewData('en', {
      rows: [
        {
          environment: run.environment,
          description: 'The lab',
          state: 'fail',
          worst: { item: 'connectivity', status: 'fail', code: 'MAIL_TEMPORARY' },
          runId: run.id,
          finishedAt: run.finishedAt,
          ageMs: 12 * 60_000,
        },
        {
          environment: 'staging',
          state: 'warn',
          worst: { item: 'network', status: 'warn', code: 'SLOW_RESPONSE' },
          runId: 'staging-20261203050600-0a1b',
          finishedAt: new Date(Date.parse(run.finishedAt) - 3 * 3600_000).toISOString(),
          ageMs: 3 * 3600_000,
        },
        { environment: 'prod', state: 'never' },
      ],
      incidents: [
        {
          code: 'MAIL_TEMPORARY',
          tenants: 3,
          from: new Date(Date.parse(run.finishedAt) - 9 * 60_000),
          to: new Date(run.finishedAt),
          environments: [run.environment],
        },
      ],
    }),
    'history.chart.data.json': historyData('en', 'lab', [summary(run)], exampleReport(run)),
    'history.item.nl.data.json': historyData('nl', 'lab', [], exampleReport(run, 'network')),
    'error.data.json': errorData('en', 'There is no environment "prd".', [
      'Did you mean **prod**?',
    ]),
    'notice.data.json': { title: 'Muted', text: 'Alerts for lab are muted.', style: 'good' },
    'signin.data.json': signinData(
      'en',
      signin({
        kind: 'waiting',
        url: 'https://microsoft.com/devicelogin',
        code: 'ABCD2345',
        expiresInSeconds: 900,
      }),
    ),
    'signin.nl.data.json': signinData(
      'nl',
      signin({ kind: 'ok', user: 'svc-ece@example.com', shared: true }),
    ),
    'share-picker.data.json': sharePickerData(
      'en',
      run,
      [
        { kind: 'conversation', id: '19:abc@thread.tacv2', title: 'Ops | a:b (subscribed)' },
        { kind: 'channel', id: '19:def@thread.tacv2', title: 'Mail Ops › Escalations' },
      ],
      'run',
    ),
  };
}

/** The file text of an example: two-space JSON and a final newline. */
export function exampleText(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}
