/**
 * `ecebot history` end to end: the real binary against the real Redis, reading what the bot and
 * the assembler record (src/store/item-history.ts, seeded here through the same class under a
 * random key prefix). Expected figures are worked out by hand from the definition of uptime
 * (docs/history.md): pass and warn up, fail down, skip and error not counted.
 */
import type { ItemId, Run, Status } from '../../src/model';
import type { QueueConfig } from '../../src/redis/connection';
import { RedisItemHistory } from '../../src/store/item-history';
import { ecebot } from '../cli/support';
import { cleanup, findingOf, freshQueue } from '../queue/support';

const HOUR = 3_600_000;
let cfg: QueueConfig;

/** A run `hoursAgo` hours ago: `token` warns, `network` as given; the run fails with network. */
function run(n: number, hoursAgo: number, network: Status): Run {
  const at = new Date(Date.now() - hoursAgo * HOUR).toISOString();
  const findings = [findingOf('token', 'warn'), findingOf('network', network)];
  return {
    id: `lab-${at.replace(/\D/g, '').slice(0, 14)}-${n.toString(16).padStart(4, '0')}`,
    environment: 'lab',
    startedAt: at,
    finishedAt: at,
    status: network === 'fail' || network === 'error' ? 'fail' : 'warn',
    ece: { version: '12.6(1)', es: 10 },
    findings,
  };
}

// Within the last 7 days: network passes 6 times, fails twice, is skipped once and errors once.
const RECENT: Status[] = [
  'pass',
  'pass',
  'fail',
  'pass',
  'skip',
  'pass',
  'error',
  'fail',
  'pass',
  'pass',
];

beforeAll(async () => {
  cfg = freshQueue();
  const h = new RedisItemHistory(cfg);
  try {
    for (const [i, s] of RECENT.entries()) await h.record(run(i + 1, 12 * (i + 1), s));
    // Ten days ago: outside the default 7 days, inside 30.
    await h.record(run(99, 240, 'pass'));
  } finally {
    await h.close();
  }
});
afterAll(async () => {
  await cleanup(cfg);
});

const env = () => ({ REDIS_URL: cfg.url, ECEBOT_QUEUE_PREFIX: cfg.prefix });

test('text: the uptime of an item over the default week, with how many runs were counted', async () => {
  const r = await ecebot(['history', 'lab', '--item', 'network'], { env: env() });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  // 6 up (pass) of 8 counted (6 pass + 2 fail); skip and error left out.
  expect(r.stdout).toContain(
    'Uptime: 75.0% — 6 of 8 counted runs passed or warned; 2 skipped or errored, not counted',
  );
  expect(r.stdout).toContain('Runs, newest first (10):');
});

test('--json: the environment and each item, every run of the window', async () => {
  const r = await ecebot(['history', 'lab', '--json'], { env: env() });
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout) as {
    uptime: { up: number; down: number; counted: number; notCounted: number; percent: number };
    items: { item: ItemId; percent: number | null; counted: number }[];
    runs: { runId: string; status: string }[];
    definition: string;
  };
  // The run's status is warn (token) unless network failed or errored: 7 up, 3 down.
  expect(doc.uptime).toEqual({ up: 7, down: 3, counted: 10, notCounted: 0, percent: 70 });
  expect(doc.items).toEqual([
    { item: 'token', up: 10, down: 0, counted: 10, notCounted: 0, percent: 100 },
    { item: 'network', up: 6, down: 2, counted: 8, notCounted: 2, percent: 75 },
  ]);
  expect(doc.runs).toHaveLength(10);
  expect(doc.definition).toMatch(/skipped and errored runs are not counted/);
});

test('--since 30d reaches the older run: 7 of 9 is 77.7 %, rounded down', async () => {
  const r = await ecebot(['history', 'lab', '--item', 'network', '--since', '30d', '--json'], {
    env: env(),
  });
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout) as { uptime: { percent: number }; runs: unknown[] };
  expect(doc.runs).toHaveLength(11);
  expect(doc.uptime.percent).toBe(77.7);
});

test('--csv: RFC 4180, a header and one CRLF-ended record per run, oldest first', async () => {
  const r = await ecebot(['history', 'lab', '--csv'], { env: env() });
  expect(r.code).toBe(0);
  expect(r.stdout.endsWith('\r\n')).toBe(true);
  // No line break other than CRLF.
  expect(r.stdout.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  const lines = r.stdout.split('\r\n').slice(0, -1);
  expect(lines[0]).toBe('run_id,finished_at,status,token,network');
  expect(lines).toHaveLength(11);
  const statuses = lines.slice(1).map(l => l.split(',')[4]);
  // Oldest first: RECENT was recorded newest first.
  expect(statuses).toEqual([...RECENT].reverse());
});

test('bad input: a clear error (what, where, how to fix), exit 2, nothing on stdout', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      ['--since', '7x'],
      env(),
      /--since must be a span such as 24h, 7d or 30d, got "7x".*--since 30d/s,
    ],
    [['--since', '0d'], env(), /--since must be a span/],
    [
      ['--item', 'netwrk'],
      env(),
      /--item "netwrk" is not a checklist item.*did you mean --item network\?/s,
    ],
    [['--json', '--csv'], env(), /--json and --csv cannot go together/],
    [[], { REDIS_URL: '' }, /history needs REDIS_URL.*set REDIS_URL=redis:\/\/HOST:6379/s],
  ];
  for (const [args, vars, message] of cases) {
    const r = await ecebot(['history', 'lab', ...args], { env: vars });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  }
  const opt = await ecebot(['history', 'lab', '--sinse', '7d'], { env: env() });
  expect(opt.code).toBe(2);
  expect(opt.stderr).toContain('unknown option --sinse (did you mean --since?)');
});

test('an environment with nothing recorded says so, and how to look further', async () => {
  const r = await ecebot(['history', 'nope'], { env: env() });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('No runs of nope recorded in this window.');
});
