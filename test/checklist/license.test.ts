import { license } from '../../src/checklist/license';
import type { Observation } from '../../src/model';
import { E1, E3, edit, facts, graph, is, refused, SALES, swap, SUPPORT, SVC } from './fixtures';

type Change = (obs: Observation[]) => Observation[] | void;
const rows = (r: [string, Change, string, string, string?][]) =>
  r.map(([name, change, status, code, summary]) => ({
    name,
    change,
    status,
    code,
    summary: summary ?? '',
  }));
const licences =
  (data: unknown, over = {}): Change =>
  obs =>
    swap(obs, is.graph('licenseDetails', SUPPORT), () =>
      graph('licenseDetails', data, { mailbox: SUPPORT, ...over }),
    );

describe('license rule', () => {
  test.each(
    rows([
      ['E3', () => undefined, 'pass', 'OK', 'Exchange Online Plan 2'],
      ['E3 and E1 together', licences([E1, E3]), 'pass', 'OK'],
      [
        'E1 only',
        licences([E1]),
        'warn',
        'EXO_LICENSE_BELOW_E3',
        `${SUPPORT}: only Exchange Online Plan 1 (STANDARDPACK); Cisco asks for E3, though Microsoft only needs a mailbox plan`,
      ],
      [
        'no licence',
        licences([]),
        'fail',
        'EXO_LICENSE_MISSING',
        `${SUPPORT}: no active Exchange Online plan`,
      ],
      [
        'E3 with Exchange disabled',
        licences([
          { ...E3, servicePlans: [{ ...E3.servicePlans[0], provisioningStatus: 'Disabled' }] },
        ]),
        'fail',
        'EXO_LICENSE_MISSING',
        'EXCHANGE_S_ENTERPRISE is Disabled',
      ],
      [
        'foundation plan only',
        licences([
          {
            skuPartNumber: 'FLOW_FREE',
            servicePlans: [
              { servicePlanName: 'EXCHANGE_S_FOUNDATION', provisioningStatus: 'Success' },
            ],
          },
        ]),
        'fail',
        'EXO_LICENSE_MISSING',
      ],
      [
        'Graph refused',
        licences(undefined, { code: 'GRAPH_FORBIDDEN', ok: false }),
        'skip',
        'GRAPH_FORBIDDEN',
        `${SUPPORT}: licences not read (Graph answered GRAPH_FORBIDDEN)`,
      ],
      [
        'no such user',
        licences(undefined, { code: 'GRAPH_NOT_FOUND', ok: false }),
        'skip',
        'GRAPH_NOT_FOUND',
        'no directory user with that name',
      ],
      [
        'read crashed',
        licences(undefined, { code: 'CHECK_CRASHED', ok: false }),
        'error',
        'CHECK_CRASHED',
      ],
      [
        'tenant without Exchange Online',
        obs =>
          swap(obs, is.token(SUPPORT), () =>
            refused('services-1', SUPPORT, 650052, 'AADSTS650052'),
          ),
        'fail',
        'AADSTS650052',
        'the tenant has no Exchange Online',
      ],
    ]),
  )('$name → $status $code', ({ change, status, code, summary }) => {
    const f = license(edit(change));
    expect(f).toMatchObject({ item: 'license', status, code });
    if (summary) expect(f.summary).toContain(summary);
  });

  test('the E3 warning explains Cisco versus Microsoft in its remediation', () => {
    const f = license(edit(licences([E1])));
    expect(f.remediation[0]?.text).toContain(
      'Microsoft itself only requires an Exchange Online mailbox plan',
    );
  });

  test('without probe credentials every mailbox is skipped with the reason', () => {
    const f = license(edit(undefined, facts({ probeConfigured: false })));
    expect(f).toMatchObject({
      status: 'skip',
      code: 'PROBE_UNAVAILABLE',
      codes: ['PROBE_UNAVAILABLE'],
    });
    expect(f.summary).toContain('no probe credentials in the inventory');
  });

  // "Shared mailboxes usually don't require a license" (MicrosoftDocs/microsoft-365-docs,
  // remove-license-from-shared-mailbox.md): the licence is the account's that signs in.
  test('a shared mailbox is judged on its account: no licence read of the shared mailbox', () => {
    const input = edit();
    expect(
      input.observations.some(
        o => o.kind === 'graph' && o.resource === 'licenseDetails' && o.mailbox === SALES,
      ),
    ).toBe(false);
    const f = license(input);
    expect(f.status).toBe('pass');
    expect(f.summary).toContain(SVC);
  });

  test('the shared account without a licence fails, with the fix on the account', () => {
    const f = license(
      edit(obs =>
        swap(obs, is.graph('licenseDetails', SVC), () =>
          graph('licenseDetails', [], { mailbox: SVC }),
        ),
      ),
    );
    expect(f).toMatchObject({ status: 'fail', code: 'EXO_LICENSE_MISSING' });
    expect(f.summary).toContain(`${SVC} (for the shared mailbox ${SALES}, which needs none)`);
    expect(f.remediation[0]?.fix).toContain(SVC);
  });
});
