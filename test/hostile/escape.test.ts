/**
 * Server and user text is data, not markup. Generated runs whose every outside string mixes
 * ordinary words with what a hostile SMTP/IMAP greeting, Entra error or Teams display name can
 * carry: markdown links and emphasis (Adaptive Card TextBlock markdown: learn.microsoft.com
 * "Text features in Adaptive Cards" — bold, italic, lists, links), `<at>` mentions (Teams
 * "Channel and group chat conversations with a bot": mentions are `<at>name</at>` in text),
 * bare URLs, and control characters (ECMA-48: ESC, BEL, CR; Unicode bidi overrides, UAX #9).
 *
 * Properties, for cards: no control character anywhere; every markdown link in the card is one
 * the knowledge table gave (an https URL from the input's `links`), none made from outside
 * text; no unescaped `<at`; no bare URL scheme outside those links. For the terminal: no
 * control character but line feed, and ESC only in our own colour sequences.
 */
import fc from 'fast-check';
import { itemIds } from '../../src/checklist/items';
import { CODES, type Code } from '../../src/knowledge/codes';
import type { Finding, ItemId, Run, Status } from '../../src/model';
import { renderProgressCard, renderRunCard } from '../../src/render/card';
import { renderRunText } from '../../src/render/text';
import { environmentsCard, errorCard, parseErrorCard, signinCard } from '../../src/teams/cards';
import { hidePaths } from '../../src/teams/handlers';
import { MAX_INPUT_CHARS, parseCommand } from '../../src/teams/parser';

const RUNS = 40;
const TIMEOUT = 300_000;

const HOSTILE = [
  '[Sign in again](https://evil.example/login)',
  '[x]( https://evil.example )',
  '![img](https://evil.example/p.png)',
  '**urgent**',
  '_it_',
  '~~gone~~',
  '`code`',
  '<at>Alex</at>',
  '<AT id="0">x</AT>',
  'https://evil.example/a',
  'mailto://x',
  '\x1b[31m',
  '\x1b]8;;https://evil.example\x07link\x1b]8;;\x07',
  '\x07',
  '\r',
  '\r\n',
  '\u202e',
  '\u2066',
  '\x00',
  '\x9b',
  '\n1. list',
  '\n- item',
  '\n# head',
  '\n> quote',
  '\\',
  '\\[',
  '220 smtp.example ESMTP',
];
const outside = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      { weight: 1, arbitrary: fc.constantFrom(' ', 'ok', 'smtp', '.', '(', ')', ']') },
    ),
    { maxLength: 8 },
  )
  .map(parts => parts.join(''));

const codes = Object.keys(CODES) as Code[];
const status = fc.constantFrom<Status>('pass', 'warn', 'fail', 'skip', 'error');
const KNOWN_URLS = ['https://learn.microsoft.com/a', 'https://www.cisco.com/b'];
const finding = (item: ItemId): fc.Arbitrary<Finding> =>
  fc.record({
    item: fc.constant(item),
    title: outside,
    status,
    summary: outside,
    code: fc.constantFrom(...codes),
    codes: fc.array(fc.constantFrom(...codes), { maxLength: 2 }),
    evidence: fc.array(
      fc.record({
        vantage: outside,
        target: outside,
        text: outside,
        code: fc.constantFrom(...codes),
        ok: fc.boolean(),
        server: outside,
        transcript: fc.array(outside, { maxLength: 3 }),
      }),
      { maxLength: 3 },
    ),
    remediation: fc.array(
      fc.record({
        code: fc.constantFrom(...codes),
        text: outside,
        fix: outside,
        // Knowledge links, and a hostile one that must not become a link.
        links: fc.array(
          fc.record({
            title: outside,
            url: fc.constantFrom(...KNOWN_URLS, 'javascript:alert(1)', 'http://plain.example/x'),
          }),
          { maxLength: 3 },
        ),
      }),
      { maxLength: 2 },
    ),
    failedOn: fc.array(outside, { maxLength: 2 }),
    vantages: fc.array(outside, { maxLength: 2 }),
    durationMs: fc.nat({ max: 100_000 }),
  });
const run: fc.Arbitrary<Run> = fc.record({
  id: outside,
  environment: outside,
  startedAt: fc.constant('2026-11-29T03:00:00.000Z'),
  finishedAt: fc.constant('2026-11-29T03:00:05.000Z'),
  status: fc.constantFrom('pass', 'warn', 'fail'),
  ece: fc.record({ version: outside, es: fc.nat({ max: 20 }) }),
  findings: fc.tuple(...itemIds().map(finding)),
});

/** Every string a card shows (not its schema URL or a button's own target). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) if (k !== '$schema' && k !== 'url') strings(x, out);
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** The text with every backslash-escaped character replaced, so only live markup is left. */
const live = (s: string) => s.replace(/\\[\s\S]/g, '\u0001');

function expectInert(card: unknown): void {
  for (const s of strings(card)) {
    expect(s).not.toMatch(CONTROL);
    const l = live(s);
    expect(l).not.toMatch(/<at/i);
    for (const m of l.matchAll(/\]\(([^)]*)\)/g)) expect(KNOWN_URLS).toContain(m[1]);
    // A URL scheme outside our links is defused (a word joiner after the colon).
    const withoutLinks = l.replace(/\]\(([^)]*)\)/g, '');
    expect(withoutLinks).not.toMatch(/[A-Za-z][A-Za-z0-9+.-]*:\/\//);
  }
}

test(
  'run cards, finished and running: outside text never becomes markup or control',
  () => {
    fc.assert(
      fc.property(run, outside, (r, who) => {
        expectInert(renderRunCard(r, { requestedBy: who, sharedBy: { name: who, at: 'now' } }));
        expectInert(
          renderProgressCard({
            runId: r.id,
            environment: r.environment,
            ece: r.ece,
            items: r.findings.map(f => f.item),
            findings: r.findings.slice(0, 4),
            started: true,
          }),
        );
      }),
      { numRuns: RUNS },
    );
  },
  TIMEOUT,
);

test('other cards: names, descriptions, parse errors and sign-in outcomes are inert', () => {
  fc.assert(
    fc.property(outside, outside, (a, b) => {
      expectInert(
        environmentsCard('en', [
          {
            name: a,
            description: b,
            release: '12.6',
            servers: 1,
            mailboxes: 1,
            subscribedHere: false,
          },
        ]),
      );
      expectInert(parseErrorCard('en', { kind: 'unknown-command', word: a }));
      expectInert(
        parseErrorCard('en', {
          kind: 'unknown-environment',
          command: 'check',
          value: a,
          known: [b],
        }),
      );
      expectInert(
        signinCard('en', {
          environment: 'prod',
          mailbox: a,
          account: b,
          shared: false,
          state: { kind: 'failed', code: 'AADSTS50076', server: a },
        }),
      );
      expectInert(errorCard('en', hidePaths(a)));
    }),
    { numRuns: RUNS },
  );
});

test('the greeting of the report shows as text: its words stay, escaped', () => {
  const greeting = '220 [Sign in again](https://evil.example/login) ready';
  const card = renderRunCard({
    id: 'r1',
    environment: 'prod',
    startedAt: '2026-11-29T03:00:00.000Z',
    finishedAt: '2026-11-29T03:00:05.000Z',
    status: 'fail',
    ece: { version: '12.6' },
    findings: itemIds().map(item => ({
      item,
      title: item,
      status: 'fail' as const,
      summary: greeting,
      code: codes[0]!,
      codes: [],
      evidence: [],
      remediation: [],
      failedOn: [],
      vantages: [],
      durationMs: 1,
    })),
  });
  const texts = strings(card).join('\n');
  expect(texts).toContain('\\[Sign in again\\]');
  expectInert(card);
});

test(
  'terminal output: no control character from outside, colours only our own',
  () => {
    fc.assert(
      fc.property(run, fc.boolean(), (r, color) => {
        const out = renderRunText(r, { color, details: true });
        // Our colour sequences are SGR `ESC [ n m` (ECMA-48 §8.3.117); nothing else may control.
        // eslint-disable-next-line no-control-regex
        const rest = out.replace(/\x1b\[\d+m/g, '');
        expect(rest).not.toMatch(CONTROL);
      }),
      { numRuns: RUNS },
    );
  },
  TIMEOUT,
);

test('errors in chat show file names, never the folders secrets are kept in', () => {
  const card = errorCard(
    'en',
    hidePaths('cannot read /etc/ecebot/secrets/app.pem (EACCES); also C:\\ecebot\\keys\\ca.pem'),
  );
  const text = strings(card).join('\n');
  expect(text).toContain('app.pem');
  expect(text).not.toMatch(/etc|secrets|keys|ecebot\\\\/);
  // A relative documentation path is not a secret's folder and stays.
  expect(hidePaths('see docs/deployment.md')).toContain('docs/deployment');
});

describe('the parser looks at the length before any pattern', () => {
  test('a 100 KB message of unclosed tags is refused as too long', () => {
    const r = parseCommand('<a'.repeat(50_000), { environments: [], mailboxes: () => [] });
    expect(r).toEqual({
      ok: false,
      error: { kind: 'too-long', length: 100_000, max: MAX_INPUT_CHARS },
    });
  });
  test('a huge message whose markup would strip to nothing is still too long, not empty', () => {
    const r = parseCommand(`<at>${'x'.repeat(100_000)}</at>`, {
      environments: [],
      mailboxes: () => [],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe('too-long');
  });
});
