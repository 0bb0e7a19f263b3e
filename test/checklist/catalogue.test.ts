import { evaluate, overallStatus } from '../../src/checklist/catalogue';
import { allItems } from '../../src/checklist/items';
import { type Finding, type Status } from '../../src/model';
import { itemIds } from '../../src/checklist/items';
import type { Observation } from '../../src/model';
import { edit, facts, NOW } from './fixtures';

describe('catalogue', () => {
  test('lists the nine items in the technote order, each with a title', () => {
    expect(allItems().map(e => e.id)).toEqual(itemIds());
    const titles = allItems().map(e => e.title.en);
    expect(new Set(titles).size).toBe(itemIds().length);
    for (const t of titles) expect(t.length).toBeGreaterThan(3);
  });

  test('a healthy run passes every item, in order, with the catalogue titles', () => {
    const findings = evaluate(edit());
    expect(findings.map(f => [f.item, f.status, f.title])).toEqual(
      allItems().map(e => [e.id, 'pass', e.title.en]),
    );
    expect(overallStatus(findings)).toBe('pass');
    for (const f of findings) {
      expect(f.codes).toEqual([]);
      expect(f.remediation).toEqual([]);
    }
  });

  test('only the requested items run, still in catalogue order', () => {
    expect(evaluate(edit(), ['network', 'version']).map(f => f.item)).toEqual([
      'version',
      'network',
    ]);
    expect(evaluate(edit(), []).map(f => f.item)).toEqual(itemIds());
  });

  test('a rule that throws becomes an error finding and the others still run', () => {
    const broken = [null] as unknown as Observation[];
    const findings = evaluate({ env: facts(), observations: broken, now: NOW });
    expect(findings).toHaveLength(itemIds().length);
    expect(findings.find(f => f.item === 'version')?.status).toBe('pass');
    const crashed = findings.filter(f => f.status === 'error');
    expect(crashed.length).toBeGreaterThan(0);
    for (const f of crashed) {
      expect(f).toMatchObject({ code: 'CHECK_CRASHED', codes: ['CHECK_CRASHED'] });
      expect(f.summary).toContain(`The ${f.item} check crashed (TypeError`);
      expect(f.remediation[0]?.code).toBe('CHECK_CRASHED');
    }
    expect(overallStatus(findings)).toBe('fail');
  });

  const of = (...s: Status[]) => s.map(status => ({ status }) as Finding);
  test.each`
    statuses                    | overall
    ${['pass', 'pass']}         | ${'pass'}
    ${['pass', 'skip']}         | ${'pass'}
    ${['pass', 'warn', 'skip']} | ${'warn'}
    ${['warn', 'fail']}         | ${'fail'}
    ${['pass', 'error']}        | ${'fail'}
    ${[]}                       | ${'pass'}
  `('overallStatus($statuses) is $overall', ({ statuses, overall }) => {
    expect(overallStatus(of(...statuses))).toBe(overall);
  });
});
