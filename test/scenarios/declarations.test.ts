/**
 * The declarations against the real probes and the lab: every rule's verdict rests only on the
 * reads its item declares (given every observation of a full run, it judges the same as given
 * only its own), and `check --item X` gathers exactly the evidence a full run judges X on.
 */
import { observationsFor } from '../../src/checklist/catalogue';
import { allItems } from '../../src/checklist/items';
import type { Finding } from '../../src/model';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { SCENARIOS } from '../../src/lab/scenarios';
import type { ItemId } from '../../src/model/items';
import type { Observation } from '../../src/model';
import { factsOf } from '../../src/runner/facts';
import { observeFrom } from '../../src/runner/observe';
import { prepareRun, vantagesOf } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';

/** What a finding establishes, without timings (which differ between two runs). */
function established(f: Finding) {
  return {
    status: f.status,
    code: f.code,
    codes: f.codes,
    failedOn: f.failedOn,
    vantages: f.vantages,
    evidence: f.evidence.map(e => `${e.vantage} ${e.target} ${e.code} ${e.ok}`).sort(),
  };
}

const PICKED = [
  'healthy',
  'no-license',
  'missing-full-access',
  'smtp-auth-disabled',
  'wrong-user-token',
  // Exchange's rules per protocol: Send As and the directory read join mailbox-rights' reads.
  'shared-account-no-sendas',
  'upn-differs-from-smtp',
];

describe.each(PICKED)('declarations in lab scenario %s', name => {
  let lab: Lab;
  const prepare = (items?: ItemId[]) => {
    const inv = loadInventory(lab.info.inventory);
    const env = pickEnvironment(inv, 'lab', lab.info.inventory);
    return prepareRun(env, inv, { vars: {}, ...(items ? { items } : {}) });
  };

  beforeAll(async () => {
    const scenario = SCENARIOS.find(s => s.name === name);
    if (!scenario) throw new Error(`no lab scenario ${name}`);
    lab = await startLab({ scenarios: [scenario] });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  test('every rule judges the same given every observation as given only its declared reads', async () => {
    const run = prepare();
    const observations: Observation[] = (
      await Promise.all(vantagesOf(run).map(v => observeFrom(run, v)))
    ).flat();
    expect(observations.length).toBeGreaterThan(10);
    // Every observation says which read made it.
    for (const o of observations) expect(o.read).toBeDefined();
    // The application server logs in to SMTP too (checklist items 8 and 9).
    expect(
      observations.filter(o => o.read === 'mailbox-send' && o.kind === 'smtp').map(o => o.vantage),
    ).toContain('app-1');
    const env = factsOf(run.env, run.secrets);
    const now = new Date();
    for (const decl of allItems()) {
      // Every observation but those of the item's own reads made from kinds of server it did not
      // ask them from (the connectivity item redeems tokens on application servers too; the
      // token item judges the services servers' redemptions): a rule that looked at any read it
      // did not declare would judge differently here.
      const mine = new Set<string>(decl.reads.map(r => r.read));
      const everyOther = observations.filter(
        o => !mine.has(o.read ?? '') || observationsFor(decl, env, [o]).length > 0,
      );
      expect(everyOther.length).toBeGreaterThan(observationsFor(decl, env, observations).length);
      const all = decl.rule({ env, observations: everyOther, now });
      const own = decl.rule({ env, observations: observationsFor(decl, env, observations), now });
      expect({ checked: decl.id, ...own }).toEqual({ checked: decl.id, ...all });
    }
  });

  test.each(['license', 'mailbox-rights', 'mailbox-protocols'] as const)(
    'check --item %s gathers the evidence a full run judges it on',
    async item => {
      const full = await runInProcess(prepare());
      const one = await runInProcess(prepare([item]));
      expect(one.findings.map(f => f.item)).toEqual([item]);
      const fromFull = full.findings.find(f => f.item === item)!;
      expect(established(one.findings[0]!)).toEqual(established(fromFull));
    },
  );
});
