import { evaluate } from '../../src/checklist/catalogue';
import { attributeRootCauses } from '../../src/checklist/root-cause';
import type { Finding, ItemId } from '../../src/model';
import type { Observation } from '../../src/model';
import {
  cas,
  claims,
  eceAppToken,
  edit,
  facts,
  is,
  JDOE,
  mail,
  permissions,
  refused,
  SALES,
  SELF,
  swap,
  SUPPORT,
  tls,
} from './fixtures';

type Change = (obs: Observation[]) => Observation[];
const both =
  (...changes: Change[]): Change =>
  obs =>
    changes.reduce((o, c) => c(o), obs);
const finding = (findings: Finding[], item: ItemId) => {
  const f = findings.find(x => x.item === item);
  if (!f) throw new Error(`no ${item} finding`);
  return f;
};

describe('root-cause attribution', () => {
  test('the Kerberos trap: token fails; rights and connectivity point at the token', () => {
    const run = evaluate(
      edit(
        both(
          obs =>
            swap(obs, is.token(SUPPORT), o => ({
              ...o,
              claims: claims(JDOE, 'imap', { amr: ['wia'] }),
            })),
          obs =>
            swap(obs, is.mail('imap', SUPPORT), o =>
              mail('imap', o.vantage, SUPPORT, { code: 'AUTHENTICATED_NOT_CONNECTED', ok: false }),
            ),
        ),
      ),
    );
    expect(finding(run, 'token')).toMatchObject({ status: 'fail', code: 'ECE_TOKEN_WRONG_USER' });
    expect(finding(run, 'token').rootCause).toBeUndefined();
    expect(finding(run, 'mailbox-rights')).toMatchObject({ status: 'fail', rootCause: 'token' });
    expect(finding(run, 'connectivity')).toMatchObject({
      status: 'fail',
      code: 'AUTHENTICATED_NOT_CONNECTED',
      rootCause: 'token',
    });
  });

  test('"authenticated but not connected" with a good token points at mailbox rights', () => {
    const env = facts({
      mailboxes: facts().mailboxes.map(m =>
        m.address === SALES ? { ...m, retrieve: 'imap' as const } : m,
      ),
    });
    const run = evaluate(
      edit(
        both(
          obs =>
            swap(obs, is.exo('Get-MailboxPermission', SALES), () => permissions(SALES, [SELF])),
          obs =>
            swap(obs, is.mail('imap', SALES), o =>
              mail('imap', o.vantage, SALES, { code: 'AUTHENTICATED_NOT_CONNECTED', ok: false }),
            ),
        ),
        env,
      ),
    );
    expect(finding(run, 'token').status).toBe('pass');
    expect(finding(run, 'mailbox-rights')).toMatchObject({
      status: 'fail',
      code: 'EXO_FULL_ACCESS_MISSING',
    });
    expect(finding(run, 'connectivity').rootCause).toBe('mailbox-rights');
  });

  test.each`
    name | change | code
    ${'SMTP AUTH off'} | ${both(
      obs => swap(obs, is.exo('Get-CASMailbox', SUPPORT), () => cas(SUPPORT, { SmtpClientAuthenticationDisabled: true })),
      obs => swap(obs, is.mail('smtp', SUPPORT), o => mail('smtp', o.vantage, SUPPORT, { code: 'SMTP_AUTH_DISABLED', ok: false })),
    )} | ${'SMTP_AUTH_DISABLED'}
    ${'POP3 off'} | ${both(
      obs => swap(obs, is.exo('Get-CASMailbox', SALES), () => cas(SALES, { PopEnabled: false })),
      obs => swap(obs, is.mail('pop3', SALES), o => mail('pop3', o.vantage, SALES, { code: 'AUTH_FAILED', ok: false })),
    )} | ${'AUTH_FAILED'}
  `('$name: connectivity $code points at mailbox-protocols', ({ change, code }) => {
    const run = evaluate(edit(change));
    expect(finding(run, 'mailbox-protocols').status).toBe('fail');
    expect(finding(run, 'connectivity')).toMatchObject({
      status: 'fail',
      code,
      rootCause: 'mailbox-protocols',
    });
  });

  test('POP3 and SMTP AUTH_FAILED for a shared mailbox without Full Access point at mailbox rights', () => {
    const run = evaluate(
      edit(
        both(
          obs =>
            swap(obs, is.exo('Get-MailboxPermission', SALES), () => permissions(SALES, [SELF])),
          obs =>
            swap(obs, is.mail('pop3', SALES), o =>
              mail('pop3', o.vantage, SALES, { code: 'AUTH_FAILED', ok: false }),
            ),
          obs =>
            swap(obs, is.mail('smtp', SALES), o =>
              mail('smtp', o.vantage, SALES, { code: 'AUTH_FAILED', ok: false }),
            ),
        ),
      ),
    );
    expect(finding(run, 'mailbox-protocols').status).toBe('pass');
    expect(finding(run, 'connectivity')).toMatchObject({
      status: 'fail',
      code: 'AUTH_FAILED',
      rootCause: 'mailbox-rights',
    });
  });

  test('AUTH_FAILED with nothing else failing is left unexplained', () => {
    const run = evaluate(
      edit(obs =>
        swap(obs, is.mail('imap', SUPPORT), o =>
          mail('imap', o.vantage, SUPPORT, { code: 'AUTH_FAILED', ok: false }),
        ),
      ),
    );
    expect(finding(run, 'connectivity')).toMatchObject({ status: 'fail', code: 'AUTH_FAILED' });
    expect(finding(run, 'connectivity').rootCause).toBeUndefined();
  });

  test('a blocked port points connectivity at the network item', () => {
    const run = evaluate(
      edit(
        both(
          obs =>
            swap(obs, is.tls('services-1', 993), () =>
              tls('services-1', 'outlook.office365.com', 993, {
                code: 'CONNECT_REFUSED',
                ok: false,
              }),
            ),
          obs =>
            swap(obs, is.mail('imap', SUPPORT), o =>
              mail('imap', o.vantage, SUPPORT, {
                code: 'CONNECT_REFUSED',
                ok: false,
                stage: 'connect',
              }),
            ),
        ),
      ),
    );
    expect(finding(run, 'network')).toMatchObject({ status: 'fail', code: 'CONNECT_REFUSED' });
    expect(finding(run, 'network').rootCause).toBeUndefined();
    expect(finding(run, 'connectivity')).toMatchObject({ status: 'fail', rootCause: 'network' });
  });

  test.each`
    aadsts     | code               | cause
    ${7000222} | ${'AADSTS7000222'} | ${'app-registration'}
    ${7000215} | ${'AADSTS7000215'} | ${'app-registration'}
    ${65001}   | ${'AADSTS65001'}   | ${'app-registration'}
    ${650052}  | ${'AADSTS650052'}  | ${'license'}
  `('a token refused with AADSTS$aadsts points at $cause', ({ aadsts, code, cause }) => {
    const run = evaluate(
      edit(obs =>
        swap(
          swap(obs, is.token(SUPPORT), () => refused('services-1', SUPPORT, aadsts, code)),
          is.eceApp,
          o => (aadsts === 650052 ? o : eceAppToken({ ok: false, code, aadsts })),
        ),
      ),
    );
    expect(finding(run, 'token')).toMatchObject({ status: 'fail', code, rootCause: cause });
    expect(finding(run, cause).status).toBe('fail');
  });

  test("a refresh token that simply expired is the token item's own failure", () => {
    const run = evaluate(
      edit(obs =>
        swap(obs, is.token(SUPPORT), () => refused('services-1', SUPPORT, 700082, 'AADSTS700082')),
      ),
    );
    expect(finding(run, 'token')).toMatchObject({ status: 'fail', code: 'AADSTS700082' });
    expect(finding(run, 'token').rootCause).toBeUndefined();
  });

  test('passing findings never get a root cause, and input findings are not changed', () => {
    const pass: Finding = {
      item: 'connectivity',
      title: 't',
      status: 'pass',
      summary: '',
      code: 'OK',
      codes: [],
      evidence: [],
      remediation: [],
      failedOn: [],
      vantages: [],
      durationMs: 0,
    };
    const fail: Finding = {
      ...pass,
      status: 'fail',
      code: 'AUTHENTICATED_NOT_CONNECTED',
      codes: ['AUTHENTICATED_NOT_CONNECTED'],
    };
    const tokenFail: Finding = {
      ...pass,
      item: 'token',
      status: 'fail',
      code: 'ECE_TOKEN_WRONG_USER',
      codes: ['ECE_TOKEN_WRONG_USER'],
    };
    expect(attributeRootCauses([pass, tokenFail])[0]?.rootCause).toBeUndefined();
    const out = attributeRootCauses([fail, tokenFail]);
    expect(out[0]?.rootCause).toBe('token');
    expect(fail.rootCause).toBeUndefined();
  });

  test('a root cause is never an item that passed, or one that was not part of the run', () => {
    const base: Finding = {
      item: 'connectivity',
      title: 't',
      status: 'fail',
      summary: '',
      code: 'CONNECT_TIMEOUT',
      codes: ['CONNECT_TIMEOUT'],
      evidence: [],
      remediation: [],
      failedOn: [],
      vantages: [],
      durationMs: 0,
    };
    const network = (status: Finding['status']): Finding => ({
      ...base,
      item: 'network',
      status,
      code: status === 'pass' ? 'OK' : 'CONNECT_TIMEOUT',
      codes: status === 'pass' ? [] : ['CONNECT_TIMEOUT'],
    });
    // A transport failure in the end-to-end test points at the network item only when that
    // item itself did not pass.
    expect(attributeRootCauses([base, network('fail')])[0]?.rootCause).toBe('network');
    expect(attributeRootCauses([base, network('pass')])[0]?.rootCause).toBeUndefined();
    expect(attributeRootCauses([base, network('skip')])[0]?.rootCause).toBeUndefined();
    expect(attributeRootCauses([base])[0]?.rootCause).toBeUndefined();
    // A cause a rule named itself is dropped when that item passed.
    const named = { ...base, rootCause: 'network' as const };
    expect(attributeRootCauses([named, network('pass')])[0]?.rootCause).toBeUndefined();
    expect(attributeRootCauses([named, network('warn')])[0]?.rootCause).toBe('network');
  });
  // "535 5.7.139 … disabled for the Tenant" (email-oauth2-proxy #193): the tenant switch, which
  // mailbox-protocols judges; a temporary 4xx (RFC 5321 §4.2.1) judges no item at all.
  test('SMTP AUTH off for the tenant: connectivity points at mailbox protocols', () => {
    const run = evaluate(
      edit(obs =>
        swap(obs, is.mail('smtp', SUPPORT), o =>
          mail('smtp', o.vantage, SUPPORT, { code: 'SMTP_AUTH_DISABLED_TENANT', ok: false }),
        ),
      ),
    );
    expect(finding(run, 'mailbox-protocols')).toMatchObject({ status: 'fail' });
    expect(finding(run, 'connectivity')).toMatchObject({
      status: 'fail',
      code: 'SMTP_AUTH_DISABLED_TENANT',
      rootCause: 'mailbox-protocols',
    });
    expect(finding(run, 'token').status).toBe('pass');
  });

  test('a temporary refusal warns in connectivity and fails no other item', () => {
    const run = evaluate(
      edit(obs =>
        swap(obs, is.mail('smtp', SUPPORT), o =>
          mail('smtp', o.vantage, SUPPORT, { code: 'MAIL_TEMPORARY', ok: false }),
        ),
      ),
    );
    expect(finding(run, 'connectivity')).toMatchObject({ status: 'warn', code: 'MAIL_TEMPORARY' });
    expect(finding(run, 'connectivity').rootCause).toBeUndefined();
    expect(run.filter(f => f.status === 'fail').map(f => f.item)).toEqual([]);
  });
});
