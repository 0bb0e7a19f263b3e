/**
 * Re-run data comes from the client (Action.Execute data is whatever the card carried, or
 * whatever a crafted invoke sends: Microsoft, "Universal Actions for Adaptive Cards"): the bot
 * takes only the environment and items of the run the card shows (Re-run failed: its failed or
 * errored items).
 */
import { itemIds } from '../../src/checklist/items';
import type { Finding, ItemId, Run, Status } from '../../src/model';
import { rerunProblem } from '../../src/teams/bot';

const [a, b, c] = itemIds() as [ItemId, ItemId, ItemId];
const finding = (item: ItemId, status: Status): Finding => ({
  item,
  title: item,
  status,
  summary: '',
  code: 'OK',
  codes: [],
  evidence: [],
  remediation: [],
  failedOn: [],
  vantages: [],
  durationMs: 1,
});
const run: Run = {
  id: 'prod-20261203000000-abc',
  environment: 'prod',
  startedAt: '2026-12-03T00:00:00Z',
  finishedAt: '2026-12-03T00:00:05Z',
  status: 'fail',
  ece: {},
  findings: [finding(a, 'pass'), finding(b, 'fail')],
};

test('the card’s own data passes', () => {
  expect(rerunProblem(run, 'rerun', 'prod', [a, b])).toBeUndefined();
  expect(rerunProblem(run, 'rerunFailed', 'prod', [b])).toBeUndefined();
});

test('another environment is refused', () => {
  expect(rerunProblem(run, 'rerun', 'other', [a])).toMatch(/environment/);
});

test('items the run did not cover are refused, and "all" for a partial run', () => {
  expect(rerunProblem(run, 'rerun', 'prod', [c])).toMatch(new RegExp(c));
  expect(rerunProblem(run, 'rerun', 'prod', undefined)).toMatch(/every item/);
});

test('Re-run failed takes only failed items', () => {
  expect(rerunProblem(run, 'rerunFailed', 'prod', [a])).toMatch(new RegExp(a));
  expect(rerunProblem(run, 'rerunFailed', 'prod', undefined)).toMatch(/no failed items/);
});
