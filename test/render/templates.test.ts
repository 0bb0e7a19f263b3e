/**
 * Every field a card template reads is one its data provides. For each template in cards/,
 * the `${…}` fields (with `$data` scopes, `$when` and `$root.…`) are checked against its
 * example data (cards/examples/NAME*.data.json) and against data the code builds, typed as the
 * template's interface (src/render/card-data.ts). How the check works and what it cannot see:
 * ./support/template-fields.ts. A field read by a template that no data has, a field of the
 * data that no template reads, and a part of a template no sample reaches all fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { progressCardData, runCardData } from '../../src/render/card';
import { TEMPLATE_NAMES, type CardTemplates, type TemplateName } from '../../src/render/card-data';
import type { ItemId } from '../../src/model';
import { reportOf, type HistoryReport } from '../../src/history/report';
import type { HistoryMark } from '../../src/store/item-history';
import type { RunSummary } from '../../src/store/types';
import {
  environmentsData,
  errorData,
  helpData,
  historyData,
  overviewData,
  sharePickerData,
  signinData,
  type SigninView,
} from '../../src/teams/cards';
import { smallRun, worstCaseRun } from '../teams/support/runs';
import {
  checkTemplate,
  dataPaths,
  isRead,
  referencesOf,
  type SampleReport,
} from './support/template-fields';

const CARDS = join(__dirname, '..', '..', 'cards');
const readJson = (...p: string[]) => JSON.parse(readFileSync(join(CARDS, ...p), 'utf8')) as unknown;

const summary: RunSummary = {
  id: 'lab-20261129042633-73fb',
  environment: 'lab',
  status: 'fail',
  startedAt: '2026-11-29T04:26:00Z',
  finishedAt: '2026-11-29T04:26:33Z',
  problems: [{ item: 'network', status: 'fail' }],
};

/** Three days of history: a pass, a fail and a skip (not counted) each day, per item too. */
function weekReport(item?: ItemId): HistoryReport {
  const marks: HistoryMark[] = [];
  for (let d = 1; d <= 3; d++)
    (['pass', 'fail', 'skip'] as const).forEach((status, i) =>
      marks.push({ runId: `lab-${d}-${i}`, at: `2026-11-0${d}T0${i}:00:00.000Z`, status }),
    );
  const q = {
    environment: 'lab',
    since: new Date('2026-11-01T00:00:00Z'),
    until: new Date('2026-11-08T00:00:00Z'),
    allItems: ['network', 'token'] as ItemId[],
  };
  return item
    ? reportOf({ ...q, item }, marks, new Map())
    : reportOf(q, marks, new Map([['network', marks]]));
}

const signin = (state: SigninView['state']): SigninView => ({
  environment: 'prod',
  mailbox: 'sales@example.com',
  account: 'svc-ece@example.com',
  shared: true,
  state,
});

/** Data the code builds for each template, in both languages and every state it has. */
function generated(): { [N in TemplateName]: CardTemplates[N][] } {
  const run = smallRun();
  const view = {
    runId: run.id,
    environment: run.environment,
    ece: run.ece,
    items: run.findings.map(f => f.item),
    findings: run.findings.slice(0, 1),
    started: true,
    startedAt: run.startedAt,
  };
  return {
    overview: [
      overviewData('en', {
        rows: [
          {
            environment: 'prod',
            description: 'Production',
            state: 'fail',
            worst: { item: 'connectivity', status: 'fail', code: 'MAIL_TEMPORARY' },
            runId: 'prod-20261129042633-73fb',
            finishedAt: '2026-11-29T04:26:33Z',
            ageMs: 12 * 60_000,
          },
          { environment: 'lab', state: 'never' },
        ],
        incidents: [
          {
            code: 'MAIL_TEMPORARY',
            tenants: 3,
            from: new Date('2026-11-29T04:20:00Z'),
            to: new Date('2026-11-29T04:26:33Z'),
            environments: ['prod'],
          },
        ],
      }),
      overviewData('nl', { rows: [], incidents: [] }),
    ],
    run: [
      runCardData(run),
      runCardData(worstCaseRun(), {
        lang: 'nl',
        requestedBy: 'Alex Wilber',
        sharedBy: { name: 'Megan Bowen', at: '2026-11-29 10:20 UTC' },
        notice: 'Shared to Mail Ops › Ops.',
      }),
      progressCardData(view),
      progressCardData({ ...view, started: false, findings: [] }, { lang: 'nl' }),
    ],
    help: [helpData('en'), helpData('nl', 'share')],
    environments: [
      environmentsData('en', [
        {
          name: 'lab',
          description: 'The lab',
          release: '12.6(1) ES1',
          servers: 2,
          mailboxes: 1,
          last: summary,
          subscribedHere: true,
          mutedUntil: new Date('2026-12-01T00:00:00Z'),
        },
        { name: 'prod', release: '12.6(1) ES2', servers: 4, mailboxes: 3, subscribedHere: false },
      ]),
      environmentsData('nl', [], 'Status'),
    ],
    history: [
      historyData('en', 'lab', [summary]),
      historyData('nl', 'lab', []),
      historyData('en', 'lab', [summary], weekReport()),
      historyData('nl', 'lab', [], weekReport('network')),
    ],
    error: [errorData('en', 'There is no environment "prd".', ['Did you mean **prod**?'])],
    notice: [{ title: 'Muted', text: 'Alerts for lab are muted.', style: 'good' }],
    signin: [
      signinData(
        'en',
        signin({
          kind: 'waiting',
          url: 'https://microsoft.com/devicelogin',
          code: 'ABCD2345',
          expiresInSeconds: 900,
        }),
      ),
      signinData('nl', signin({ kind: 'ok', user: 'svc-ece@example.com', shared: true })),
      signinData('en', signin({ kind: 'wrong-user', user: 'me@example.com' })),
      signinData('en', signin({ kind: 'failed', code: 'expired_token', server: 'AADSTS70020' })),
    ],
    'share-picker': [
      sharePickerData(
        'en',
        run,
        [
          { kind: 'conversation', id: '19:abc@thread.tacv2', title: 'Ops | a:b (subscribed)' },
          { kind: 'channel', id: '19:def@thread.tacv2', title: 'Mail Ops › Escalations' },
        ],
        'run',
      ),
      sharePickerData('nl', run, [], 'notice'),
    ],
  };
}

/** Every `${…}` use of a template, as `pointer ref`, found without any data. */
function usesOf(node: unknown, at = ''): string[] {
  if (typeof node === 'string') return referencesOf(node).map(r => `${at} ${r}`);
  if (Array.isArray(node)) return node.flatMap((x, i) => usesOf(x, `${at}/${i}`));
  if (typeof node === 'object' && node !== null)
    return Object.entries(node).flatMap(([k, v]) => usesOf(v, `${at}/${k}`));
  return [];
}

const templateFiles = readdirSync(CARDS)
  .filter(f => f.endsWith('.json'))
  .map(f => f.replace(/\.json$/, ''));
const examples = readdirSync(join(CARDS, 'examples')).filter(f => f.endsWith('.data.json'));
const samples = generated();

test('the template names in the code are the files in cards/', () => {
  expect([...TEMPLATE_NAMES].sort()).toEqual([...templateFiles].sort());
});

describe.each([...TEMPLATE_NAMES])('cards/%s.json', name => {
  const template = readJson(`${name}.json`);
  const named: [string, unknown][] = [
    ...examples
      .filter(e => e.split('.')[0] === name)
      .map((e): [string, unknown] => [`examples/${e}`, readJson('examples', e)]),
    ...samples[name].map((d, i): [string, unknown] => [`generated #${i}`, d]),
  ];
  const reports = named.map(([label, data]): [string, unknown, SampleReport] => [
    label,
    data,
    checkTemplate(template, data),
  ]);

  test('has an example and generated data', () => {
    expect(named.filter(([l]) => l.startsWith('examples/')).length).toBeGreaterThan(0);
    expect(samples[name].length).toBeGreaterThan(0);
  });

  test('every field it reads is in every sample', () => {
    const missing = reports.flatMap(([label, , r]) =>
      r.missing.map(m => `${label}: ${m.at} reads ${m.ref}`),
    );
    expect(missing).toEqual([]);
  });

  test('every part of it is reached by some sample', () => {
    const reached = new Set(
      reports.flatMap(([, , r]) => [...r.found, ...r.missing].map(u => `${u.at} ${u.ref}`)),
    );
    expect(usesOf(template).filter(u => !reached.has(u))).toEqual([]);
  });

  test('every field of every sample is read by it', () => {
    const unread = reports.flatMap(([label, data, r]) =>
      [...new Set(dataPaths(data))].filter(p => !isRead(p, r.read)).map(p => `${label}: ${p}`),
    );
    expect(unread).toEqual([]);
  });
});

describe('the field check itself', () => {
  const template = {
    body: [
      { type: 'TextBlock', text: '${title} ${$root.note}' },
      {
        $data: '${rows}',
        $when: "${shown != ''}",
        items: [{ $data: '${lines}', text: '${$data} of ${$root.title} at ${$index}' }],
      },
    ],
  };

  test('finds a field the data lacks, at its place and in its scope', () => {
    const r = checkTemplate(template, { title: 't', note: 'n', rows: [{ lines: ['a'] }] });
    expect(r.missing).toEqual([{ at: '/body/1/$when', ref: 'shown', path: 'shown' }]);
    expect(r.found.map(f => f.path)).toContain('rows[].lines[]');
  });

  test('a row field is not found at the root, nor a root field in a row', () => {
    const r = checkTemplate(template, {
      title: 't',
      note: 'n',
      shown: 'x',
      rows: [{ lines: [], shown: 'y' }],
    });
    expect(r.missing).toEqual([]);
    expect(r.empty).toEqual(['/body/1/items/0/$data']);
    const r2 = checkTemplate(template, { title: 't', note: 'n', shown: 'x', rows: [{}] });
    expect(r2.missing.map(m => m.ref)).toEqual(['shown', 'lines']);
  });

  test('unread data is reported', () => {
    const r = checkTemplate(template, { title: 't', note: 'n', rows: [], extra: { a: 1 } });
    expect(dataPaths({ extra: { a: 1 } }).filter(p => !isRead(p, r.read))).toEqual([
      'extra',
      'extra.a',
    ]);
  });

  test('an inline $data is refused rather than guessed', () => {
    expect(() => checkTemplate({ $data: [{ a: 1 }], text: '${a}' }, {})).toThrow(/\$data/);
  });
});
