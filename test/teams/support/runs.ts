/**
 * Runs for card tests: a worst case no real run reaches (every item failing, long evidence,
 * transcripts and remediation in several scripts), built from the checklist's own ids.
 */
import { type Finding, type ItemId, type Run } from '../../../src/model';
import { itemIds } from '../../../src/checklist/items';

const LONG = 'Ünïcödé текст 中文 ✔ '.repeat(40);

/** One failing finding with far more of everything than a card can hold. */
export function hugeFinding(item: ItemId, i: number): Finding {
  return {
    item,
    title: `Item ${item} ${LONG.slice(0, 60)}`,
    status: i % 4 === 3 ? 'error' : 'fail',
    summary: `${item} failed everywhere: ${LONG}`,
    code: 'AUTH_FAILED',
    codes: ['AUTH_FAILED', 'CONNECT_REFUSED'],
    evidence: Array.from({ length: 25 }, (_, j) => ({
      vantage: j % 2 ? 'app-1' : 'services-1',
      target: `outlook.office365.com:${993 + j}`,
      text: `attempt ${j}: ${LONG}`,
      code: 'AUTH_FAILED' as const,
      ok: false,
      durationMs: 1234 + j,
      server: `NO AUTHENTICATE failed. ${LONG}`,
      transcript: Array.from({ length: 30 }, (__, t) => `${t % 2 ? 'S' : 'C'}: line ${t} ${LONG}`),
    })),
    remediation: Array.from({ length: 4 }, (_, r) => ({
      code: 'AUTH_FAILED' as const,
      text: `Do thing ${r} for ${item}: ${LONG}`,
      fix: `Set-CASMailbox -Identity mailbox${r}@example.com -SmtpClientAuthenticationDisabled $false # ${LONG}`,
      links: Array.from({ length: 5 }, (__, n) => ({
        title: `Doc ${n} ${LONG.slice(0, 80)}`,
        url: `https://learn.microsoft.com/en-us/exchange/doc-${n}?${'q'.repeat(200)}`,
      })),
    })),
    failedOn: ['services-1', 'app-1'],
    vantages: ['services-1', 'app-1', 'central'],
    rootCause: i > 0 ? itemIds()[0] : undefined,
    durationMs: 12_345,
  } as Finding;
}

/** Every item failing with huge findings. */
export function worstCaseRun(): Run {
  return {
    id: 'prod-20261129101500-ffff',
    environment: 'prod',
    startedAt: '2026-11-29T10:15:00.000Z',
    finishedAt: '2026-11-29T10:15:12.000Z',
    status: 'fail',
    ece: { version: '12.6(1)', es: 1 },
    findings: itemIds().map((id, i) => hugeFinding(id, i)),
  };
}

/** A run small enough to render at full detail: one failing and one passing item. */
export function smallRun(): Run {
  const run = worstCaseRun();
  const [failing, other] = run.findings;
  return {
    ...run,
    status: 'fail',
    findings: [
      { ...failing!, evidence: failing!.evidence.slice(0, 2) },
      { ...other!, status: 'pass', evidence: other!.evidence.slice(0, 1), remediation: [] },
    ],
  };
}
