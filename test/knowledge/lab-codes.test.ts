/**
 * The lab and the registry speak the same codes: every AADSTS number the lab's Entra can answer
 * has its own entry in the code table (item, meanings, fix), so a lab scenario never shows a
 * code ecebot would meet in the field only as "unknown".
 */
import { CODE_TABLE } from '../../src/knowledge/codes';
import { AADSTS } from '../../src/lab/entra-errors';

test('every AADSTS number the lab answers is a code the registry knows', () => {
  const numbers = Object.keys(AADSTS);
  expect(numbers.length).toBeGreaterThan(10);
  expect(numbers.filter(n => !(`AADSTS${n}` in CODE_TABLE))).toEqual([]);
});
