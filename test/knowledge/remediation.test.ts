import { facts, SALES, SUPPORT, SVC } from '../checklist/fixtures';
import { codeNames, type Code } from '../../src/knowledge/codes';
import { LINKS, isSeenUrl, SEEN_URLS } from '../../src/knowledge/links';
import { remediationFor } from '../../src/knowledge/remediation';

// OK is never a finding's fault, so it has no advice worth a sentence.
const ALL = codeNames().filter(c => c !== 'OK');
const env = facts();

describe('remediation registry', () => {
  test.each(ALL)('%s has a sentence and seen links', code => {
    const r = remediationFor(code, {
      env,
      mailbox: SUPPORT,
      account: SVC,
      vantage: 'services-1',
      host: 'outlook.office365.com',
      port: 993,
      days: 9,
      scopes: ['SMTP.Send'],
    });
    expect(r.code).toBe(code);
    expect(r.text.length).toBeGreaterThan(20);
    expect(r.links.length).toBeGreaterThan(0);
    for (const l of r.links)
      expect({ code, url: l.url, seen: isSeenUrl(l.url) }).toEqual({
        code,
        url: l.url,
        seen: true,
      });
  });

  test('every link in the catalogue is one of the seen URLs', () => {
    for (const l of Object.values(LINKS))
      expect({ url: l.url, seen: SEEN_URLS.has(l.url) }).toEqual({ url: l.url, seen: true });
  });

  test('an address that was never seen is refused', () => {
    // The 12.5(1) and 12.6(1) pages are linked from Cisco's guides; an 11.6(1) one never was.
    expect(
      isSeenUrl(
        'https://www.cisco.com/c/en/us/support/contact-center/enterprise-chat-email-11-6-1/model.html',
      ),
    ).toBe(false);
    expect(isSeenUrl('https://login.microsoftonline.com/error?code=abc')).toBe(false);
    expect(isSeenUrl('https://login.microsoftonline.com/error?code=700082')).toBe(true);
  });

  test("AADSTS codes link Microsoft's lookup page for their number", () => {
    const r = remediationFor('AADSTS700082', { env, mailbox: SUPPORT });
    expect(r.links.map(l => l.url)).toContain(
      'https://login.microsoftonline.com/error?code=700082',
    );
  });

  test.each<[Code, Record<string, unknown>, string]>([
    [
      'EXO_SMTP_AUTH_DISABLED',
      { mailbox: SUPPORT },
      `Set-CASMailbox -Identity ${SUPPORT} -SmtpClientAuthenticationDisabled $false`,
    ],
    [
      'EXO_SMTP_AUTH_DISABLED_TENANT',
      { mailbox: SALES },
      `Set-CASMailbox -Identity ${SALES} -SmtpClientAuthenticationDisabled $false`,
    ],
    [
      'EXO_IMAP_DISABLED',
      { mailbox: SUPPORT },
      `Set-CASMailbox -Identity ${SUPPORT} -ImapEnabled $true`,
    ],
    ['EXO_POP_DISABLED', { mailbox: SALES }, `Set-CASMailbox -Identity ${SALES} -PopEnabled $true`],
    [
      'EXO_FULL_ACCESS_MISSING',
      { mailbox: SALES, account: SVC },
      `Add-MailboxPermission -Identity ${SALES} -User ${SVC} -AccessRights FullAccess -InheritanceType All`,
    ],
    [
      'SEND_AS_DENIED',
      { mailbox: SALES, account: SVC },
      `Add-RecipientPermission -Identity ${SALES} -Trustee ${SVC} -AccessRights SendAs`,
    ],
    [
      'CONNECT_REFUSED',
      { vantage: 'services-1', host: 'outlook.office365.com', port: 993 },
      'Allow outbound TCP 993 from services-1 to outlook.office365.com',
    ],
    ['ECE_TOKEN_MISSING', { mailbox: SUPPORT }, `signin prod ${SUPPORT}`],
  ])('%s is filled in for the environment', (code, ctx, fix) => {
    expect(remediationFor(code, { env, ...ctx }).fix).toContain(fix);
  });

  test.each`
    version      | path
    ${'12.6(1)'} | ${'Partition > Apps > General Settings > "External URL of the application" (ECE 12.6 and later) = https://ece.example.com'}
    ${'12.5(1)'} | ${'"Web server URL or Load balancer URL" (ECE 11.5 to 12.5) = https://ece.example.com'}
  `('the external URL fix uses the setting of ECE $version', ({ version, path }) => {
    const e = facts({ ece: { version, es: 9, externalUrl: 'http://ece.example.com' } });
    expect(remediationFor('ECE_EXTERNAL_URL_NOT_HTTPS', { env: e }).fix).toContain(path);
  });

  test('the external URL fix prefers the host admins log in with', () => {
    const e = facts({
      ece: { version: '12.6(1)', es: 1, adminUrl: 'https://ecead.example.com/system' },
    });
    expect(remediationFor('ECE_EXTERNAL_URL_MISSING', { env: e }).fix).toMatch(
      /= https:\/\/ecead\.example\.com$/,
    );
  });

  test('links follow the ECE release of the environment', () => {
    const old = remediationFor('ECE_ES_TOO_OLD', {
      env: facts({ ece: { version: '11.6(1)', es: 12 } }),
    });
    expect(old.fix).toBe('Install ECE 11.6(1) ES12 ET1 (or the newest ES for 11.6(1))');
    expect(old.links.map(l => l.url)).toContain('https://voiptechwikis.com/ece-oauth-config/');
    expect(old.links[0]?.title).toContain('11.6(1) Email Resources admin guide');
    const cur = remediationFor('ECE_ES_TOO_OLD', {
      env: facts({ ece: { version: '12.6(1)', es: 0 } }),
    });
    expect(cur.links[0]?.title).toContain('12.6(1) Email and Routing Resources admin guide');
  });

  test('a credential about to expire says in how many days', () => {
    expect(remediationFor('ENTRA_SECRET_EXPIRING', { env, days: 9 }).text).toContain('9 days');
  });
});
