/**
 * The share target codec: what the picker's choice carries decodes to the target it was made
 * from, whatever its id and title hold (`|` and `:` included), values of cards posted before
 * the codec still decode, and anything else is refused instead of guessed.
 */
import {
  decodeShareTarget,
  encodeShareTarget,
  sameShareTarget,
  type ShareTarget,
} from '../../src/teams/share-target';

const HOSTILE_TITLES = [
  'Mail Ops › General',
  'a|b|c',
  '|',
  't:19:evil@thread.tacv2|Sales › Deals',
  'c:other-key',
  ':::',
  '%7C%25',
  'Ünïcödé 中文 ✔\nsecond line',
  '',
];
const IDS = [
  '19:ops@thread.tacv2',
  '19:ops@thread.tacv2;messageid=1700000000001',
  'a:1personal-alex',
  'odd|id:with%7Cstuff%25',
  '%',
  '|',
];

describe('round trip', () => {
  const cases: ShareTarget[] = [];
  for (const kind of ['conversation', 'channel'] as const)
    for (const id of IDS) for (const title of HOSTILE_TITLES) cases.push({ kind, id, title });

  test.each(cases)('%o', t => {
    const value = encodeShareTarget(t);
    expect(decodeShareTarget(value)).toEqual(t);
  });

  test('the kind and id are fixed by the first `|`, so a title cannot change them', () => {
    const t: ShareTarget = { kind: 'channel', id: '19:a@thread.tacv2', title: 'x|c:other|y' };
    expect(decodeShareTarget(encodeShareTarget(t))).toMatchObject({
      kind: 'channel',
      id: '19:a@thread.tacv2',
    });
  });
});

describe('values of cards posted before the codec', () => {
  test('a conversation without a title, and a channel with one', () => {
    expect(decodeShareTarget('c:19:ops@thread.tacv2')).toEqual({
      kind: 'conversation',
      id: '19:ops@thread.tacv2',
      title: '',
    });
    expect(decodeShareTarget('t:19:esc@thread.tacv2|Mail Ops › Escalations')).toEqual({
      kind: 'channel',
      id: '19:esc@thread.tacv2',
      title: 'Mail Ops › Escalations',
    });
  });
});

describe('refused', () => {
  test.each([
    '',
    'c:',
    't:|title',
    'x:19:ops@thread.tacv2',
    'C:19:ops@thread.tacv2',
    '19:ops@thread.tacv2',
    'c:bad%escape',
    'c:%7c',
  ])('%j', value => {
    expect(decodeShareTarget(value)).toBeUndefined();
  });
});

test('the same place is the same kind and id, whatever the titles', () => {
  const a: ShareTarget = { kind: 'channel', id: '19:a@thread.tacv2', title: 'A' };
  expect(sameShareTarget(a, { ...a, title: 'forged' })).toBe(true);
  expect(sameShareTarget(a, { ...a, kind: 'conversation' })).toBe(false);
  expect(sameShareTarget(a, { ...a, id: '19:b@thread.tacv2' })).toBe(false);
});
