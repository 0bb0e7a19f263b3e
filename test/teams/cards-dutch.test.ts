/**
 * A Dutch reader sees a Dutch run card from top to bottom: with three faults in the lab (SMTP
 * AUTH off for a mailbox, the ECE app's secret about to expire, port 993 blocked from the
 * services server), every summary and remediation on the card is the Dutch one, composed from
 * CODE_TABLE's Dutch meanings and src/knowledge/codes-nl.ts, and none of the English sentences
 * the same run holds appears on it. The English card of the same run is unchanged in language.
 * Evidence lines stay as recorded (the servers' and probes' words) and are not compared.
 */
import type { Finding, Run } from '../../src/model';
import { loadInventory, pickEnvironment, suggest } from '../../src/inventory/load';
import { remediationFix } from '../../src/i18n';
import { CODE_TABLE } from '../../src/knowledge/codes';
import { startLab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import { finishedRunCard } from '../../src/teams/cards';
import { cardTexts } from './support/adaptive';

const FAULTS = ['smtp-auth-disabled', 'secret-expiring', 'port-993-blocked-on-services'];

/**
 * The card's text as a reader sees it: outside text is escaped for card markdown
 * (src/render/escape.ts), which this test is not about, so the backslashes and the word joiner
 * in URL schemes go.
 */
const unescape = (s: string) =>
  s.replace(/\\([\\`*_{}[\]()#+\-.!|>~<])/g, '$1').replace(/\u2060/g, '');

/** The start of a sentence: cards clip long texts, so a prefix is what a card must hold. */
const head = (s: string) => s.slice(0, 40);

/**
 * Every summary, remediation sentence and fix of a finding as an (English, Dutch) pair. A fix
 * with no prose is the same in both and is left out.
 */
function pairs(f: Finding): [string, string][] {
  const all: [string, string][] = [[f.summary, f.summaryNl!]];
  for (const r of f.remediation) {
    all.push([r.text, r.textNl!]);
    if (r.fix && r.fixNl) all.push([r.fix, r.fixNl]);
  }
  return all.filter(([a, b]) => a !== b);
}

/**
 * What tells one language's sentence from the other's: its first five words that do not stand
 * together in the other (names such as hosts and mailboxes are in both), so finding them on a
 * card means that language's sentence is there.
 */
function telling(mine: string, other: string): string {
  const words = mine.split(' ');
  for (let i = 0; i < words.length; i++) {
    const window = words.slice(i, i + 5).join(' ');
    if (!other.includes(window)) return window;
  }
  throw new Error(`"${mine}" is contained in "${other}"`);
}

describe('run card in Dutch with three faults', () => {
  let run: Run;
  let nl: string;
  let en: string;

  beforeAll(async () => {
    const lab = await startLab({ scenarios: pickScenarios(FAULTS.join(','), suggest) });
    try {
      const inv = loadInventory(lab.info.inventory);
      run = await runInProcess(prepareRun(pickEnvironment(inv, 'lab', 'lab'), inv, { vars: {} }));
    } finally {
      await lab.stop();
    }
    nl = unescape(cardTexts(finishedRunCard(run, { lang: 'nl' })).join('\n'));
    en = unescape(cardTexts(finishedRunCard(run, { lang: 'en' })).join('\n'));
  });

  test('the run has the three faults, each with its remediation', () => {
    const codes = run.findings.flatMap(f => f.codes);
    expect(codes).toEqual(
      expect.arrayContaining(['SMTP_AUTH_DISABLED', 'ENTRA_SECRET_EXPIRING', 'CONNECT_REFUSED']),
    );
  });

  test('every finding carries a Dutch summary and Dutch remediation, none equal to the English', () => {
    for (const f of run.findings) {
      expect(f.summaryNl).toBeDefined();
      expect([f.item, f.summaryNl]).not.toEqual([f.item, f.summary]);
      for (const r of f.remediation) {
        expect(r.textNl).toBeDefined();
        expect([r.code, r.textNl]).not.toEqual([r.code, r.text]);
      }
    }
  });

  test('a failing summary says what each fault means, from the code table', () => {
    const failing = run.findings.filter(f => f.status === 'fail' || f.status === 'warn');
    expect(failing.length).toBeGreaterThanOrEqual(3);
    for (const f of failing) {
      const meaning = CODE_TABLE[f.code].meaning.nl.replace(/\.$/, '');
      expect(f.summaryNl).toContain(meaning);
    }
  });

  test('the Dutch card shows the Dutch sentences and none of the English ones', () => {
    const shown = run.findings.filter(f => f.status !== 'pass');
    for (const f of run.findings) expect(nl).toContain(head(f.summaryNl!));
    // Each problem's fix is shown once (src/render/card.ts groups by root cause), so a finding
    // shows at least one of its remediations: its Dutch text, or its fix in Dutch.
    for (const f of shown)
      expect([
        f.item,
        f.remediation.some(
          r => nl.includes(head(r.textNl!)) || nl.includes(remediationFix(r, 'nl') ?? '\u0000'),
        ),
      ]).toEqual([f.item, true]);
    for (const f of run.findings)
      for (const [e, d] of pairs(f)) {
        // What the English card shows (a fix is shown once per cause), the Dutch card shows in
        // Dutch; no English sentence is on the Dutch card.
        const onEnglishCard = en.includes(telling(e, d));
        expect([f.item, d, nl.includes(telling(d, e))]).toEqual([f.item, d, onEnglishCard]);
        expect([f.item, e, nl.includes(telling(e, d))]).toEqual([f.item, e, false]);
      }
  });

  test('the English card shows the English sentences and none of the Dutch ones', () => {
    const shown = run.findings.filter(f => f.status !== 'pass');
    for (const f of run.findings) expect(en).toContain(head(f.summary));
    for (const f of shown)
      expect([
        f.item,
        f.remediation.some(r => en.includes(head(r.text)) || en.includes(r.fix ?? '\u0000')),
      ]).toEqual([f.item, true]);
    for (const f of run.findings)
      for (const [e, d] of pairs(f)) {
        const onDutchCard = nl.includes(telling(d, e));
        expect([f.item, e, en.includes(telling(e, d))]).toEqual([f.item, e, onDutchCard]);
        expect([f.item, d, en.includes(telling(d, e))]).toEqual([f.item, d, false]);
      }
  });
});
