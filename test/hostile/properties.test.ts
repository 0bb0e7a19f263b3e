/**
 * Hostile input, generated: the command parser, the inventory loader and card rendering get
 * 10,000 generated inputs each. None may crash, hang or answer with anything but a clear
 * result or a clear error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Finding, type Run, type Status } from '../../src/model';
import { itemIds } from '../../src/checklist/items';
import type { ItemId } from '../../src/model';
import { InputError } from '../../src/inventory/errors';
import { loadInventory } from '../../src/inventory/load';
import { CODES, type Code } from '../../src/knowledge/codes';
import { CARD_BYTE_LIMIT, cardBytes, renderRunCard } from '../../src/render/card';
import { parseCommand } from '../../src/teams/parser';

const RUNS = 10_000;
// Generous: 10,000 card expansions take a couple of minutes on a 2-core machine.
const TIMEOUT = 600_000;
const knowledge = {
  environments: ['prod', 'test', 'lab'],
  mailboxes: (env: string) => (env === 'prod' ? ['support@example.com', 'sales@example.com'] : []),
};

// Text as it arrives from Teams: any Unicode, mentions, HTML entities, control characters.
const chatText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 600 }),
  fc.string({ unit: 'binary', maxLength: 2000 }),
  fc
    .array(
      fc.constantFrom(
        'check',
        'prod',
        'status',
        'mute',
        '2h',
        '<at>ecebot</at>',
        '&amp;',
        '&nbsp;',
        ' ',
        '\u200b',
        'network',
        'share',
        'signin',
        'support@example.com',
        '…',
        '🔥',
        'CHECK',
      ),
      { maxLength: 40 },
    )
    .map(words => words.join(' ')),
);

test(
  'the command parser answers every input with a command or a typed error',
  () => {
    fc.assert(
      fc.property(chatText, text => {
        const r = parseCommand(text, knowledge);
        if (r.ok) expect(typeof r.command.name).toBe('string');
        else expect(typeof r.error.kind).toBe('string');
      }),
      { numRuns: RUNS },
    );
  },
  TIMEOUT,
);

const example = readFileSync(join(__dirname, '..', '..', 'examples', 'inventory.yaml'), 'utf8');

// Broken inventories: the example with random edits, and arbitrary text.
const inventoryText = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc
    .tuple(fc.nat({ max: example.length }), fc.nat({ max: 40 }), fc.string({ maxLength: 20 }))
    .map(([at, cut, insert]) => example.slice(0, at) + insert + example.slice(at + cut)),
);

test(
  'the inventory loader accepts a file or names what is wrong, never anything else',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecebot-hostile-'));
    const path = join(dir, 'inventory.yaml');
    fc.assert(
      fc.property(inventoryText, text => {
        writeFileSync(path, text);
        try {
          loadInventory(path);
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
          const e = err as InputError;
          expect(e.file).toBe(path);
          expect(e.message.length).toBeGreaterThan(0);
          expect(e.hint?.length ?? 0).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
  },
  TIMEOUT,
);

const codes = Object.keys(CODES) as Code[];
const status = fc.constantFrom<Status>('pass', 'warn', 'fail', 'skip', 'error');
const words = fc.string({ unit: 'grapheme', maxLength: 60 });
const finding = (item: ItemId): fc.Arbitrary<Finding> =>
  fc.record({
    item: fc.constant(item),
    title: words,
    status,
    summary: fc.string({ unit: 'grapheme', maxLength: 400 }),
    code: fc.constantFrom(...codes),
    codes: fc.array(fc.constantFrom(...codes), { maxLength: 5 }),
    evidence: fc.array(
      fc.record({
        vantage: words,
        target: words,
        text: words,
        code: fc.constantFrom(...codes),
        ok: fc.boolean(),
        server: words,
        transcript: fc.array(words, { maxLength: 8 }),
      }),
      { maxLength: 6 },
    ),
    remediation: fc.array(
      fc.record({
        code: fc.constantFrom(...codes),
        text: words,
        fix: words,
        links: fc.array(fc.record({ title: words, url: fc.webUrl() }), { maxLength: 4 }),
      }),
      { maxLength: 6 },
    ),
    failedOn: fc.array(words, { maxLength: 5 }),
    vantages: fc.array(words, { maxLength: 5 }),
    durationMs: fc.double({ min: 0, max: 1e7, noNaN: true }),
  });

const run: fc.Arbitrary<Run> = fc.record({
  id: words,
  environment: words,
  startedAt: fc.constant('2026-11-29T03:00:00.000Z'),
  finishedAt: fc.constant('2026-11-29T03:00:05.000Z'),
  status: fc.constantFrom('pass', 'warn', 'fail'),
  ece: fc.record({ version: words, es: fc.nat() }),
  findings: fc.tuple(...itemIds().map(finding)),
});

test(
  'every run renders to a card under the Teams size limit',
  () => {
    fc.assert(
      fc.property(run, r => {
        const card = renderRunCard(r);
        expect(card.type).toBe('AdaptiveCard');
        expect(cardBytes(card)).toBeLessThanOrEqual(CARD_BYTE_LIMIT);
      }),
      { numRuns: RUNS },
    );
  },
  TIMEOUT,
);
