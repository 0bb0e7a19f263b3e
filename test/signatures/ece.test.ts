/**
 * The ECE family: what ECE itself meets when it redeems its own token, as Entra records it in its
 * sign-in log for ECE's app (o365-facts.md §3.4; DESIGN.md "Two kinds of token evidence"). Each
 * published text becomes the `failureReason` of one non-interactive sign-in row, read with the
 * Graph probe's own reply schema (GRAPH_UNDERSTAND via the `graph` fixture), judged by the token
 * rule's ECE part (src/checklist/ece-sign-ins.ts) and `remediationFor`. The fix must be addressed
 * to ECE's token, never to ecebot's own test token, and keep the AADSTS number and its lookup page.
 */
import { token } from '../../src/checklist/token';
import { CODE_TABLE } from '../../src/knowledge/codes';
import { aadstsLookup } from '../../src/knowledge/links';
import { DAY, facts, graph, iso, NOW, signIn, SUPPORT } from '../checklist/fixtures';
import { fixMatches, loadFamily } from './corpus';

const family = loadFamily('ece');
const MIN = 60_000;

describe.each(family.map(s => [s.id, s] as const))('%s', (_id, sig) => {
  test("ECE's own failed redemption gets the source's fix, addressed to ECE", () => {
    const errorCode = Number(sig.context?.errorCode);
    expect(Number.isInteger(errorCode)).toBe(true);
    // The log's row for ECE's app: a success three hours ago, then the published failure.
    const rows = [
      signIn(SUPPORT, iso(NOW, -180 * MIN)),
      signIn(SUPPORT, iso(NOW, -10 * MIN), {
        status: { errorCode, failureReason: sig.text, additionalDetails: null },
      }),
    ];
    const log = graph('signIns', rows, { window: { since: iso(NOW, -DAY), pages: 1 } });
    expect(log.ok).toBe(true);
    const env = facts({ mailboxes: [facts().mailboxes[0]!] });
    const finding = token({ env, observations: [log], now: NOW });

    expect(finding.status).toBe('fail');
    expect(finding.codes).toContain(sig.expect.code);
    expect(CODE_TABLE[sig.expect.code as keyof typeof CODE_TABLE].item).toBe(sig.expect.item);
    // The summary says it is ECE's own token, from the log.
    expect(finding.summary).toContain("this is ECE's own token");
    const rem = finding.remediation.find(r => r.code === sig.expect.code)!;
    expect(rem).toBeDefined();
    expect(fixMatches(`${rem.text}\n${rem.fix ?? ''}`, sig.expect)).toEqual({
      missing: [],
      forbidden: [],
    });
    expect(rem.links.map(l => l.url)).toContain(aadstsLookup(errorCode).url);
  });
});
