/**
 * Every lab scenario, end to end: the lab starts, the real probes run against it from every
 * vantage point, the real rules judge. The scenario's own item must report its status and code
 * with a remediation; every other item must pass, unless its finding names (directly or through
 * another such item) the broken item as its root cause.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding, ItemId, Run } from '../../src/model';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { SCENARIOS } from '../../src/lab/scenarios';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';

async function checkLab(lab: Lab): Promise<Run> {
  const inv = loadInventory(lab.info.inventory);
  const env = pickEnvironment(inv, 'lab', lab.info.inventory);
  return runInProcess(prepareRun(env, inv, { vars: {} }));
}

/** Items allowed not to pass: the broken one and those whose root cause leads to it. */
function allowed(findings: Finding[], broken: ItemId): Set<ItemId> {
  const ok = new Set<ItemId>([broken]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const f of findings) {
      if (!ok.has(f.item) && f.rootCause && ok.has(f.rootCause)) {
        ok.add(f.item);
        grew = true;
      }
    }
  }
  return ok;
}

describe.each(SCENARIOS.map(s => [s.name, s] as const))('lab scenario %s', (_name, scenario) => {
  let lab: Lab;
  let run: Run;

  beforeAll(async () => {
    lab = await startLab({ scenarios: [scenario] });
    run = await checkLab(lab);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  test('no secret of the lab appears anywhere in the run', () => {
    const dir = join(lab.dir, 'secrets');
    const secrets = readdirSync(dir).map(f => readFileSync(join(dir, f), 'utf8').trim());
    const json = JSON.stringify(run);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const s of [...secrets, ...Object.values(lab.info.tokens)]) expect(json).not.toContain(s);
    expect(json).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./);
  });

  test('reports all nine items', () => {
    expect(run.findings.map(f => f.item)).toEqual([
      'version',
      'external-url',
      'app-registration',
      'token',
      'mailbox-protocols',
      'license',
      'mailbox-rights',
      'network',
      'connectivity',
    ]);
  });

  if (!scenario.expect) {
    test('every item passes', () => {
      expect(
        run.findings
          .filter(f => f.status !== 'pass')
          .map(f => `${f.item}: ${f.status} ${f.code} — ${f.summary}`),
      ).toEqual([]);
      expect(run.status).toBe('pass');
    });
    return;
  }

  const { item, status, code } = scenario.expect;
  test(`${item} is ${status} with ${code} and says what to do`, () => {
    const f = run.findings.find(x => x.item === item)!;
    expect({ item: f.item, status: f.status, hasCode: f.codes.includes(code) }).toEqual({
      item,
      status,
      hasCode: true,
    });
    const r = f.remediation.find(x => x.code === code) ?? f.remediation[0];
    expect(r?.text).toBeTruthy();
    expect(r?.links.length ?? 0).toBeGreaterThan(0);
    if (scenario.expect?.remediation) {
      expect(f.remediation.find(x => x.code === code)).toBeDefined();
      expect(`${r?.text ?? ''}\n${r?.fix ?? ''}`).toMatch(scenario.expect.remediation);
    }
  });

  if (scenario.notEstablished?.length) {
    test(`${scenario.notEstablished.join(', ')} cannot be established and say why, never pass`, () => {
      for (const id of scenario.notEstablished!) {
        const f = run.findings.find(x => x.item === id)!;
        expect({ item: id, status: f.status }).toEqual({ item: id, status: 'skip' });
        expect(f.remediation.length).toBeGreaterThan(0);
      }
    });
  }

  test('every other item passes or names the broken item as its root cause', () => {
    const ok = allowed(run.findings, item);
    for (const id of scenario.notEstablished ?? []) ok.add(id);
    const wrong = run.findings.filter(f => f.status !== 'pass' && !ok.has(f.item));
    expect(wrong.map(f => `${f.item}: ${f.status} ${f.code} — ${f.summary}`)).toEqual([]);
  });
});
