import { mailboxProtocols } from '../../src/checklist/mailbox-protocols';
import type { Observation } from '../../src/model';
import { cas, drop, edit, exo, facts, is, mail, SALES, SVC, swap, SUPPORT } from './fixtures';

type Change = (obs: Observation[]) => Observation[] | void;
const rows = (r: [string, Change, string, string, string?][]) =>
  r.map(([name, change, status, code, summary]) => ({
    name,
    change,
    status,
    code,
    summary: summary ?? '',
  }));

const casOf =
  (mailbox: string, row: Record<string, unknown>): Change =>
  obs =>
    swap(obs, is.exo('Get-CASMailbox', mailbox), () => cas(mailbox, row));
const org =
  (disabled: boolean | null): Change =>
  obs =>
    swap(obs, is.exo('Get-TransportConfig'), () =>
      exo('Get-TransportConfig', [{ SmtpClientAuthenticationDisabled: disabled }]),
    );
const both =
  (...changes: Change[]): Change =>
  obs =>
    changes.reduce<Observation[]>((o, c) => c(o) ?? o, obs);
const noExo: Change = obs => drop(obs, o => o.kind === 'exo');

describe('mailbox-protocols rule', () => {
  test.each(
    rows([
      ['healthy', () => undefined, 'pass', 'OK'],
      [
        'SMTP AUTH off on the mailbox',
        casOf(SUPPORT, { SmtpClientAuthenticationDisabled: true }),
        'fail',
        'EXO_SMTP_AUTH_DISABLED',
        `${SUPPORT}: SMTP AUTH is disabled on the mailbox`,
      ],
      [
        'SMTP AUTH off for the tenant, mailbox follows',
        both(org(true), casOf(SUPPORT, { SmtpClientAuthenticationDisabled: null })),
        'fail',
        'EXO_SMTP_AUTH_DISABLED_TENANT',
        'disabled for the tenant',
      ],
      [
        'tenant off, mailbox overrides with false',
        both(
          org(true),
          casOf(SUPPORT, { SmtpClientAuthenticationDisabled: false }),
          casOf(SALES, { SmtpClientAuthenticationDisabled: false }),
        ),
        'pass',
        'OK',
      ],
      [
        'tenant on, mailbox follows',
        both(org(false), casOf(SUPPORT, { SmtpClientAuthenticationDisabled: null })),
        'pass',
        'OK',
      ],
      [
        'IMAP off on the IMAP mailbox',
        casOf(SUPPORT, { ImapEnabled: false }),
        'fail',
        'EXO_IMAP_DISABLED',
        `${SUPPORT}: IMAP is disabled`,
      ],
      [
        'IMAP off on the POP3 mailbox does not matter',
        casOf(SALES, { ImapEnabled: false }),
        'pass',
        'OK',
      ],
      [
        'POP3 off on the POP3 mailbox',
        casOf(SALES, { PopEnabled: false }),
        'fail',
        'EXO_POP_DISABLED',
        `${SALES}: POP3 is disabled`,
      ],
      [
        'POP3 off on the IMAP mailbox does not matter',
        casOf(SUPPORT, { PopEnabled: false }),
        'pass',
        'OK',
      ],
      [
        'settings allow SMTP AUTH, Exchange refuses anyway',
        obs =>
          swap(obs, is.mail('smtp', SUPPORT), o =>
            mail('smtp', o.vantage, SUPPORT, { code: 'SMTP_AUTH_DISABLED', ok: false }),
          ),
        'fail',
        'SMTP_AUTH_DISABLED',
        'security defaults or an authentication policy',
      ],
      ['no Exchange reads: the conversations prove it', noExo, 'pass', 'OK'],
      [
        'no Exchange reads, SMTP 535 5.7.139',
        both(noExo, obs =>
          swap(obs, is.mail('smtp', SALES), o =>
            mail('smtp', o.vantage, SALES, { code: 'SMTP_AUTH_DISABLED', ok: false }),
          ),
        ),
        'fail',
        'EXO_SMTP_AUTH_DISABLED',
        `${SALES}: SMTP AUTH is refused by Exchange Online (535 5.7.139, disabled for the mailbox)`,
      ],
      [
        // "535 5.7.139 … disabled for the Tenant" (email-oauth2-proxy #193): the tenant switch.
        'no Exchange reads, SMTP 535 5.7.139 for the Tenant',
        both(noExo, obs =>
          swap(obs, is.mail('smtp', SALES), o =>
            mail('smtp', o.vantage, SALES, { code: 'SMTP_AUTH_DISABLED_TENANT', ok: false }),
          ),
        ),
        'fail',
        'EXO_SMTP_AUTH_DISABLED_TENANT',
        `${SALES}: SMTP AUTH is refused by Exchange Online (535 5.7.139, disabled for the tenant)`,
      ],
      [
        // "… user is locked by your organization's security defaults policy": neither switch.
        'no Exchange reads, SMTP 535 5.7.139 security defaults',
        both(noExo, obs =>
          swap(obs, is.mail('smtp', SALES), o =>
            mail('smtp', o.vantage, SALES, { code: 'SMTP_SECURITY_DEFAULTS', ok: false }),
          ),
        ),
        'fail',
        'SMTP_SECURITY_DEFAULTS',
        `${SALES}: SMTP AUTH is refused by Exchange Online (535 5.7.139, blocked by security defaults)`,
      ],
      [
        'no Exchange reads, a rejected POP token proves nothing',
        both(noExo, obs =>
          swap(obs, is.mail('pop3', SALES), o =>
            mail('pop3', o.vantage, SALES, { code: 'AUTH_FAILED', ok: false }),
          ),
        ),
        'skip',
        'NO_WORKER',
        `${SALES}: POP3 not verified: Exchange settings not read`,
      ],
      [
        'Exchange refused the reads and nothing ran end to end',
        obs =>
          drop(
            obs.map(o =>
              o.kind === 'exo'
                ? { ...o, ok: false, code: 'EXO_FORBIDDEN' as const, data: undefined }
                : o,
            ),
            o => o.kind === 'imap' || o.kind === 'pop3' || o.kind === 'smtp',
          ),
        'skip',
        'EXO_FORBIDDEN',
        'Get-CASMailbox failed (EXO_FORBIDDEN)',
      ],
      [
        'an Exchange read crashed and nothing ran end to end',
        obs =>
          drop(
            swap(obs, is.exo('Get-CASMailbox', SUPPORT), o => ({
              ...o,
              ok: false,
              code: 'CHECK_CRASHED' as const,
              data: undefined,
            })),
            o => o.kind === 'imap' || o.kind === 'smtp',
          ),
        'error',
        'CHECK_CRASHED',
      ],
    ]),
  )('$name → $status $code', ({ change, status, code, summary }) => {
    const f = mailboxProtocols(edit(change));
    expect(f).toMatchObject({ item: 'mailbox-protocols', status, code });
    if (summary) expect(f.summary).toContain(summary);
  });

  test('without probe credentials and without conversations it skips with the reason', () => {
    const env = facts({
      probeConfigured: false,
      mailboxes: facts().mailboxes.map(m => ({ ...m, hasToken: false })),
    });
    const f = mailboxProtocols(edit(undefined, env));
    expect(f).toMatchObject({ status: 'skip', code: 'PROBE_UNAVAILABLE' });
    expect(f.summary).toContain('no probe credentials in the inventory');
  });

  test.each`
    code                               | change                                                                     | fix
    ${'EXO_SMTP_AUTH_DISABLED'}        | ${casOf(SUPPORT, { SmtpClientAuthenticationDisabled: true })}              | ${`Set-CASMailbox -Identity ${SUPPORT} -SmtpClientAuthenticationDisabled $false`}
    ${'EXO_SMTP_AUTH_DISABLED_TENANT'} | ${both(org(true), casOf(SVC, { SmtpClientAuthenticationDisabled: null }))} | ${`Set-CASMailbox -Identity ${SVC} -SmtpClientAuthenticationDisabled $false`}
    ${'EXO_IMAP_DISABLED'}             | ${casOf(SUPPORT, { ImapEnabled: false })}                                  | ${`Set-CASMailbox -Identity ${SUPPORT} -ImapEnabled $true`}
    ${'EXO_POP_DISABLED'}              | ${casOf(SALES, { PopEnabled: false })}                                     | ${`Set-CASMailbox -Identity ${SALES} -PopEnabled $true`}
  `('$code gets the exact Set-CASMailbox line', ({ code, change, fix }) => {
    const f = mailboxProtocols(edit(change));
    expect(f.remediation.find(r => r.code === code)?.fix).toBe(fix);
  });

  test('two mailboxes with the same fault get one remediation with both lines', () => {
    const f = mailboxProtocols(
      edit(
        both(
          casOf(SUPPORT, { SmtpClientAuthenticationDisabled: true }),
          casOf(SVC, { SmtpClientAuthenticationDisabled: true }),
        ),
      ),
    );
    expect(f.summary).toContain(SUPPORT);
    expect(f.summary).toContain(SVC);
    expect(f.remediation).toHaveLength(1);
    expect(f.remediation[0]?.fix?.split('\n')).toHaveLength(2);
  });

  // SMTP AUTH is the signed-in account's (o365-facts.md §1.5): for sales@ that is svc-ece@, so
  // the shared mailbox's own switch does not matter and the account's does.
  test("a shared mailbox's own SMTP AUTH switch does not matter; its account's does", () => {
    const own = mailboxProtocols(edit(casOf(SALES, { SmtpClientAuthenticationDisabled: true })));
    expect(own).toMatchObject({ status: 'pass', code: 'OK' });
    const account = mailboxProtocols(edit(casOf(SVC, { SmtpClientAuthenticationDisabled: true })));
    expect(account).toMatchObject({ status: 'fail', code: 'EXO_SMTP_AUTH_DISABLED' });
    expect(account.summary).toContain(
      `${SALES}: SMTP AUTH of ${SVC} is disabled on the account that signs in`,
    );
    expect(account.remediation[0]?.fix).toBe(
      `Set-CASMailbox -Identity ${SVC} -SmtpClientAuthenticationDisabled $false`,
    );
  });

  test("IMAP/POP3 is judged on the mailbox opened, not on the account (lab's choice)", () => {
    const f = mailboxProtocols(edit(casOf(SVC, { PopEnabled: false })));
    expect(f).toMatchObject({ status: 'pass', code: 'OK' });
  });

  test('the tenant-level failure shows the transport config as evidence', () => {
    const f = mailboxProtocols(
      edit(both(org(true), casOf(SUPPORT, { SmtpClientAuthenticationDisabled: null }))),
    );
    expect(f.evidence.map(e => e.text)).toContain(
      'Get-TransportConfig: SmtpClientAuthenticationDisabled = true',
    );
  });
});
