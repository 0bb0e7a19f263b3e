/**
 * The Dutch summary `judge` composes beside the English one: each part that is not a pass is
 * what it is about (mailbox, host:port, the ECE server it was seen from) and its code's Dutch
 * meaning from CODE_TABLE; passing parts are named once under "In orde". A rule may word a
 * part's Dutch line itself. Plain fixtures: the rule layer is pure.
 */
import { judge, part, type Part } from '../../src/checklist/rule';
import { CODE_TABLE, type Code } from '../../src/knowledge/codes';
import type { Evidence } from '../../src/model';
import { facts, OUTLOOK, SALES, SUPPORT } from '../checklist/fixtures';

const env = facts();
const meaning = (c: Code) => CODE_TABLE[c].meaning.nl.replace(/\.$/, '');

const ev = (vantage: string, target: string, code: Code = 'OK'): Evidence => ({
  vantage,
  target,
  text: 'as recorded',
  code,
  ok: code === 'OK',
});

describe('Dutch summary', () => {
  test('a failure names its host, port and server, and says what its code means', () => {
    const p = part('fail', 'CONNECT_REFUSED', `${OUTLOOK}:993 refused from services-1`, [], {
      fix: { vantage: 'services-1', host: OUTLOOK, port: 993 },
      failedOn: ['services-1'],
    });
    const f = judge('network', 'Network', env, [p]);
    expect(f.summary).toBe(`${OUTLOOK}:993 refused from services-1`);
    expect(f.summaryNl).toBe(`${OUTLOOK}:993 vanaf services-1: ${meaning('CONNECT_REFUSED')}`);
  });

  test('a warning and a failure: only the failure is summarised, as in English', () => {
    const parts: Part[] = [
      part('warn', 'SLOW_RESPONSE', `${SALES}: slow`, [], { fix: { mailbox: SALES } }),
      part('fail', 'EXO_IMAP_DISABLED', `${SUPPORT}: IMAP disabled`, [], {
        fix: { mailbox: SUPPORT },
      }),
    ];
    const f = judge('mailbox-protocols', 'Protocols', env, parts);
    expect(f.summaryNl).toBe(`${SUPPORT}: ${meaning('EXO_IMAP_DISABLED')}`);
  });

  test('more than three lines end with how many more, in Dutch', () => {
    const parts = ['a', 'b', 'c', 'd', 'e'].map(x =>
      part('fail', 'EXO_POP_DISABLED', `${x}@example.com: POP off`, [], {
        fix: { mailbox: `${x}@example.com` },
      }),
    );
    const f = judge('mailbox-protocols', 'Protocols', env, parts);
    expect(f.summary).toMatch(/; and 2 more$/);
    expect(f.summaryNl).toMatch(/; en nog 2$/);
    expect(f.summaryNl!.startsWith(`a@example.com: ${meaning('EXO_POP_DISABLED')}`)).toBe(true);
  });

  test('a pass names what was checked, taken from its evidence, under "In orde"', () => {
    const parts = [
      part('pass', 'OK', `${OUTLOOK}:993 ok from services-1`, [ev('services-1', `${OUTLOOK}:993`)]),
      // A central read's target is the API asked, not the subject: it is not named.
      part('pass', 'OK', 'consented', [ev('central', 'graph.microsoft.com:443')]),
    ];
    const f = judge('network', 'Network', env, parts, { passSummary: 'all reachable' });
    expect(f.summary).toBe('all reachable');
    expect(f.summaryNl).toBe(`In orde: ${OUTLOOK}:993 vanaf services-1`);
  });

  test('a skipped item says what was not established, then what was', () => {
    const parts = [
      part('skip', 'ECE_TOKEN_MISSING', `${SALES}: no token`, [], { fix: { mailbox: SALES } }),
      part('pass', 'OK', `${SUPPORT}: ok`, [ev('services-1', SUPPORT)]),
    ];
    const f = judge('connectivity', 'Connectivity', env, parts);
    expect(f.status).toBe('skip');
    expect(f.summaryNl).toBe(
      `${SALES}: ${meaning('ECE_TOKEN_MISSING')}; vastgesteld: ${SUPPORT} vanaf services-1`,
    );
  });

  test("a rule's own Dutch line is used as given", () => {
    const p: Part = {
      ...part('fail', 'EXO_IMAP_DISABLED', `${SUPPORT}: IMAP disabled`, []),
      lineNl: `${SUPPORT}: IMAP staat uit`,
    };
    expect(judge('mailbox-protocols', 'Protocols', env, [p]).summaryNl).toBe(
      `${SUPPORT}: IMAP staat uit`,
    );
  });

  test('an item with nothing to judge says so in Dutch', () => {
    const f = judge('connectivity', 'Connectivity', env, [], { emptySummary: 'No mailboxes.' });
    expect(f.summaryNl).toBe('Voor dit item is niets waargenomen.');
  });
});
