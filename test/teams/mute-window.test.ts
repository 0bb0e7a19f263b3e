/**
 * `mute ENV from START to END`: the parser reads the four words as one window (ISO 8601 date
 * and time, UTC unless an offset is given), refuses what is not one with an error that says
 * the time rule, and `mute ENV DURATION` keeps working.
 */
import { parseErrorCard } from '../../src/teams/cards';
import { parseCommand, type ParseResult } from '../../src/teams/parser';
import { cardTexts } from './support/adaptive';

const K = { environments: ['prod', 'lab'], mailboxes: () => [] };

function ok(text: string) {
  const r = parseCommand(text, K);
  if (!r.ok) throw new Error(`expected ${text} to parse: ${JSON.stringify(r.error)}`);
  return r;
}
const fail = (text: string): Extract<ParseResult, { ok: false }>['error'] => {
  const r = parseCommand(text, K);
  if (r.ok) throw new Error(`expected ${text} to be refused`);
  return r.error;
};

describe('mute ENV from … to …', () => {
  test('a window in UTC, and one with an offset', () => {
    const a = ok('mute prod from 2026-12-05T22:00 to 2026-12-06T02:00').args;
    expect(a.environment).toBe('prod');
    expect(a.duration).toBeUndefined();
    expect(a.window?.from.toISOString()).toBe('2026-12-05T22:00:00.000Z');
    expect(a.window?.to.toISOString()).toBe('2026-12-06T02:00:00.000Z');
    const b = ok('MUTE lab FROM 2026-12-05T22:00+01:00 TO 2026-12-06T02:00+01:00').args;
    expect(b.window?.from.toISOString()).toBe('2026-12-05T21:00:00.000Z');
    // Dutch words too.
    expect(ok('mute lab van 2026-12-05T22:00 tot 2026-12-05T23:00').args.window).toBeDefined();
  });

  test('mute ENV DURATION still works', () => {
    expect(ok('mute prod 4h').args.duration).toEqual({ ms: 4 * 3_600_000, text: '4h' });
    expect(ok('mute prod off').args.window).toBeUndefined();
  });

  test.each([
    ['mute prod from 2026-12-05T22:00', 'give both times', 'geef beide tijden'],
    [
      'mute prod from 2026-12-05T22:00 until 2026-12-06T02:00',
      '"to" must follow the start time, not "until"',
      'na de begintijd hoort "to", niet "until"',
    ],
    [
      'mute prod from 2026-12-05 to 2026-12-06',
      '"2026-12-05" is not a date and time',
      '"2026-12-05" is geen datum en tijd',
    ],
    [
      'mute prod from 2026-12-05T22:00 to 2026-12-05T21:00',
      'the end is not after the start',
      'het einde ligt niet na het begin',
    ],
    [
      'mute prod from 2026-12-01T00:00 to 2027-01-05T00:00',
      'longer than 30 days',
      'langer dan 30 dagen',
    ],
  ])('%s is refused: %s', (text, en, nl) => {
    const e = fail(text);
    expect(e.kind).toBe('bad-window');
    // The card says what is wrong and the rule (ISO, UTC unless an offset), in Dutch too.
    const english = cardTexts(parseErrorCard('en', e)).join('\n');
    expect(english).toContain(en);
    expect(english).toContain('UTC unless it ends with an offset');
    const dutch = cardTexts(parseErrorCard('nl', e)).join('\n');
    expect(dutch).toContain(nl);
    expect(dutch).toContain('UTC tenzij');
  });

  test('words after the window are extra', () => {
    expect(fail('mute prod from 2026-12-05T22:00 to 2026-12-06T02:00 please').kind).toBe(
      'extra-args',
    );
  });

  test('typed input in the error is escaped for the card', () => {
    const e = fail('mute prod from *bold*_x to 2026-12-06T02:00');
    const text = cardTexts(parseErrorCard('en', e)).join('\n');
    expect(text).toContain('\\*bold\\*\\_x');
  });
});
