/**
 * A Graph or Exchange reply ecebot does not understand is reported, never judged: the item it
 * feeds is an error (not a pass, not a verdict on the tenant) with GRAPH_UNEXPECTED_REPLY /
 * EXO_UNEXPECTED_REPLY, its remediation, and the reply's issues in the evidence. The replies go
 * through the probes' own schemas (fixtures.graph / fixtures.exo), as in a run.
 */
import { appRegistration } from '../../src/checklist/app-registration';
import { license } from '../../src/checklist/license';
import { mailboxProtocols } from '../../src/checklist/mailbox-protocols';
import { mailboxRights } from '../../src/checklist/mailbox-rights';
import type { Finding } from '../../src/model';
import { forecasts } from '../../src/notify/forecast';
import type { Observation } from '../../src/model';
import {
  application,
  cas,
  E3,
  edit,
  exo,
  graph,
  healthy,
  is,
  NOW,
  permissions,
  SALES,
  SELF,
  SUPPORT,
  SVC,
  swap,
} from './fixtures';

function expectReported(f: Finding, code: string, summary: string): void {
  expect(f.status).toBe('error');
  expect(f.codes).toContain(code);
  expect(f.summary).toContain(summary);
  expect(f.remediation.map(r => r.code)).toContain(code);
  expect(
    f.evidence.some(e => e.code === code && /^reply not understood: /.test(e.server ?? '')),
  ).toBe(true);
}

test('the healthy fixtures are all understood by the schemas', () => {
  const bad = healthy().filter(
    o => o.code === 'GRAPH_UNEXPECTED_REPLY' || o.code === 'EXO_UNEXPECTED_REPLY',
  );
  expect(bad).toEqual([]);
});

describe('Graph replies not understood', () => {
  const endAt5 = (obs: Observation[]) =>
    swap(obs, is.graph('application'), () =>
      graph(
        'application',
        application(NOW, {
          passwordCredentials: [{ displayName: 'ece-2026', keyId: 'k1', endDateTime: 5 }],
        }),
      ),
    );

  test('app registration: a secret whose end is a number is an error, not an expiry verdict', () => {
    const f = appRegistration(edit(endAt5));
    expectReported(
      f,
      'GRAPH_UNEXPECTED_REPLY',
      "app registration not judged: Graph's reply was not understood",
    );
    expect(f.codes).not.toContain('ENTRA_SECRET_EXPIRED');
    const e = f.evidence.find(x => x.code === 'GRAPH_UNEXPECTED_REPLY')!;
    expect(e.server).toBe(
      'reply not understood: value[0].passwordCredentials[0].endDateTime: expected string, got number',
    );
  });

  test('the forecast reads the same facts: nothing to forecast, no crash', () => {
    expect(forecasts(edit(endAt5).observations, NOW)).toEqual([]);
  });

  test('consent: grants whose `value` is an object', () => {
    const f = appRegistration(
      edit(obs => swap(obs, is.graph('grants'), () => graph('grants', { scope: 'SMTP.Send' }))),
    );
    expectReported(
      f,
      'GRAPH_UNEXPECTED_REPLY',
      "consent not read (Graph's reply was not understood)",
    );
  });

  test('a resource service principal not understood is reported beside the verdicts', () => {
    const f = appRegistration(
      edit(obs =>
        swap(
          obs,
          (o): o is Observation => o.kind === 'graph' && o.resource === 'resourceServicePrincipal',
          () => graph('resourceServicePrincipal', { oauth2PermissionScopes: [{ id: 7 }] }),
        ),
      ),
    );
    expectReported(
      f,
      'GRAPH_UNEXPECTED_REPLY',
      "delegated permissions not read: Graph's reply was not understood",
    );
  });

  test('licence: service plans that are not a list', () => {
    const f = license(
      edit(obs =>
        swap(obs, is.graph('licenseDetails', SUPPORT), () =>
          graph('licenseDetails', [{ ...E3, servicePlans: { EXCHANGE_S_ENTERPRISE: 'Success' } }], {
            mailbox: SUPPORT,
          }),
        ),
      ),
    );
    expectReported(
      f,
      'GRAPH_UNEXPECTED_REPLY',
      `${SUPPORT}: licences not judged (Graph's reply was not understood)`,
    );
  });
});

describe('Exchange replies not understood', () => {
  test('Get-CASMailbox with a switch as text: an error even though IMAP logs in', () => {
    const f = mailboxProtocols(
      edit(obs =>
        swap(obs, is.exo('Get-CASMailbox', SUPPORT), () => cas(SUPPORT, { ImapEnabled: 'True' })),
      ),
    );
    expectReported(
      f,
      'EXO_UNEXPECTED_REPLY',
      `${SUPPORT}: protocol settings not judged: Exchange's reply to Get-CASMailbox was not understood`,
    );
  });

  test('Get-TransportConfig rows that are not a list', () => {
    const f = mailboxProtocols(
      edit(obs =>
        swap(obs, is.exo('Get-TransportConfig'), () =>
          exo('Get-TransportConfig', { SmtpClientAuthenticationDisabled: false }),
        ),
      ),
    );
    expectReported(f, 'EXO_UNEXPECTED_REPLY', 'tenant SMTP AUTH setting not judged');
  });

  test('Get-MailboxPermission with a trustee that is not a name', () => {
    const f = mailboxRights(
      edit(obs =>
        swap(obs, is.exo('Get-MailboxPermission', SALES), () =>
          permissions(SALES, [SELF, { User: 5, AccessRights: ['FullAccess'] }]),
        ),
      ),
    );
    expectReported(f, 'EXO_UNEXPECTED_REPLY', `Full Access of ${SVC} not judged`);
  });
});
