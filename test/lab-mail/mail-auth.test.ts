import { createKeys, mintAccessToken } from '../../src/lab/tokens';
import {
  decideMailAuth,
  maySendAs,
  parseXoauth2,
  type MailAuthOutcome,
  type MailProtocol,
} from '../../src/lab/mail-auth';
import type { LabTenant } from '../../src/lab/tenant';
import { makeFixture, type Fixture } from './support';

let fx: Fixture;
beforeAll(() => {
  fx = makeFixture();
});
beforeEach(() => fx.resetTenant());
afterAll(() => fx.cleanup());

const mbx = (t: LabTenant, address: string) => t.mailboxes.find(m => m.address === address)!;

interface Row {
  name: string;
  protocol: MailProtocol;
  user: string;
  token: (f: Fixture) => string;
  tenant?: (t: LabTenant) => void;
  want: MailAuthOutcome['ok'] | string;
}

const rows: Row[] = [
  {
    name: 'own mailbox, IMAP',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token(),
    want: true,
  },
  {
    name: 'user= in another case',
    protocol: 'pop3',
    user: 'Support@Example.com',
    token: f => f.token(),
    want: true,
  },
  {
    name: 'shared mailbox through Full Access',
    protocol: 'pop3',
    user: 'sales@example.com',
    token: f => f.token({ upn: 'svc-ece@example.com' }),
    want: true,
  },
  {
    name: 'garbage token',
    protocol: 'imap',
    user: 'support@example.com',
    token: () => 'not-a-jwt',
    want: 'token-invalid',
  },
  {
    name: 'Graph audience',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token({ aud: 'https://graph.microsoft.com' }),
    want: 'token-invalid',
  },
  {
    name: 'signed by other keys',
    protocol: 'smtp',
    user: 'support@example.com',
    token: f =>
      mintAccessToken(createKeys(), {
        aud: 'https://outlook.office.com',
        tid: f.state.tenant.tenantId,
        appid: f.state.tenant.eceApp.appId,
        scp: 'SMTP.Send',
        upn: 'support@example.com',
        lifetimeMinutes: 60,
      }),
    want: 'token-invalid',
  },
  {
    name: 'another tenant',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token({ tid: '00000000-0000-0000-0000-000000000001' }),
    want: 'token-invalid',
  },
  {
    name: 'outlook.office365.com audience is accepted',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token({ aud: 'https://outlook.office365.com' }),
    want: true,
  },
  {
    name: 'expired',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token({ iat: Math.floor(Date.now() / 1000) - 7200, lifetimeMinutes: 60 }),
    want: 'token-expired',
  },
  {
    name: 'IMAP scope missing',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token({ scp: 'POP.AccessAsUser.All SMTP.Send' }),
    want: 'scope-missing',
  },
  {
    name: 'SMTP scope missing',
    protocol: 'smtp',
    user: 'support@example.com',
    token: f => f.token({ scp: 'IMAP.AccessAsUser.All' }),
    want: 'scope-missing',
  },
  {
    name: 'app-only token (roles, no scp)',
    protocol: 'imap',
    user: 'support@example.com',
    token: f =>
      f.token({ scp: undefined, roles: ['IMAP.AccessAsApp'], upn: undefined, idtyp: 'app' }),
    want: 'scope-missing',
  },
  {
    name: 'user= not a mailbox',
    protocol: 'imap',
    user: 'nobody@example.com',
    token: f => f.token(),
    want: 'no-mailbox',
  },
  {
    name: 'token of the workstation user (Kerberos trap)',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token({ upn: 'jdoe@example.com' }),
    want: 'not-allowed',
  },
  {
    name: 'shared mailbox without Full Access',
    protocol: 'pop3',
    user: 'sales@example.com',
    token: f => f.token({ upn: 'jdoe@example.com' }),
    want: 'not-allowed',
  },
  {
    name: 'IMAP disabled',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token(),
    tenant: t => (mbx(t, 'support@example.com').imapEnabled = false),
    want: 'protocol-disabled',
  },
  {
    name: 'POP disabled',
    protocol: 'pop3',
    user: 'support@example.com',
    token: f => f.token(),
    tenant: t => (mbx(t, 'support@example.com').popEnabled = false),
    want: 'protocol-disabled',
  },
  {
    name: 'IMAP disabled does not stop POP',
    protocol: 'pop3',
    user: 'support@example.com',
    token: f => f.token(),
    tenant: t => (mbx(t, 'support@example.com').imapEnabled = false),
    want: true,
  },
  {
    name: 'SMTP AUTH off on the mailbox',
    protocol: 'smtp',
    user: 'support@example.com',
    token: f => f.token(),
    tenant: t => (mbx(t, 'support@example.com').smtpClientAuthenticationDisabled = true),
    want: 'smtp-disabled-mailbox',
  },
  {
    name: 'SMTP AUTH off for the tenant, mailbox follows it',
    protocol: 'smtp',
    user: 'support@example.com',
    token: f => f.token(),
    tenant: t => {
      t.smtpAuthDisabledOrg = true;
      mbx(t, 'support@example.com').smtpClientAuthenticationDisabled = null;
    },
    want: 'smtp-disabled-tenant',
  },
  {
    name: 'SMTP AUTH off for the tenant, mailbox overrides with false',
    protocol: 'smtp',
    user: 'support@example.com',
    token: f => f.token(),
    tenant: t => {
      t.smtpAuthDisabledOrg = true;
      mbx(t, 'support@example.com').smtpClientAuthenticationDisabled = false;
    },
    want: true,
  },
  {
    name: 'tenant switch does not touch IMAP',
    protocol: 'imap',
    user: 'support@example.com',
    token: f => f.token(),
    tenant: t => {
      t.smtpAuthDisabledOrg = true;
      mbx(t, 'support@example.com').smtpClientAuthenticationDisabled = null;
    },
    want: true,
  },
];

describe('decideMailAuth', () => {
  it.each(rows.map(r => [r.name, r] as const))('%s', (_name, row) => {
    row.tenant?.(fx.state.tenant);
    const outcome = decideMailAuth(fx.state, row.protocol, row.user, row.token(fx));
    if (row.want === true) {
      expect(outcome).toMatchObject({ ok: true });
      if (outcome.ok) {
        expect(outcome.mailbox).toBe(row.user.toLowerCase());
        expect(outcome.exp).toBeGreaterThan(Date.now() / 1000);
      }
    } else {
      expect(outcome).toEqual({ ok: false, reason: row.want });
    }
  });

  it('reads the tenant live: a change after the first login counts for the next', () => {
    const token = fx.token();
    expect(decideMailAuth(fx.state, 'imap', 'support@example.com', token).ok).toBe(true);
    mbx(fx.state.tenant, 'support@example.com').imapEnabled = false;
    expect(decideMailAuth(fx.state, 'imap', 'support@example.com', token)).toEqual({
      ok: false,
      reason: 'protocol-disabled',
    });
  });

  it('reports the token user, not the mailbox, as upn', () => {
    const outcome = decideMailAuth(
      fx.state,
      'pop3',
      'sales@example.com',
      fx.token({ upn: 'svc-ece@example.com' }),
    );
    expect(outcome).toMatchObject({
      ok: true,
      upn: 'svc-ece@example.com',
      mailbox: 'sales@example.com',
    });
  });

  // o365-facts.md §1.5 (nextcloud/mail #13667/#13668, frappe/frappe #23079): IMAP and POP3 take
  // the shared mailbox as user= with a Full Access holder's token; SMTP AUTH only the account.
  it('SMTP AUTH as a shared mailbox with the Full Access holder token is refused', () => {
    const token = fx.token({ upn: 'svc-ece@example.com' });
    expect(decideMailAuth(fx.state, 'smtp', 'sales@example.com', token)).toEqual({
      ok: false,
      reason: 'not-allowed',
    });
    expect(decideMailAuth(fx.state, 'imap', 'sales@example.com', token)).toMatchObject({
      ok: true,
    });
    expect(decideMailAuth(fx.state, 'smtp', 'svc-ece@example.com', token)).toMatchObject({
      ok: true,
      upn: 'svc-ece@example.com',
      mailbox: 'svc-ece@example.com',
    });
  });

  it("SMTP AUTH checks the user= mailbox's switch before the identity (nextcloud/mail #13668)", () => {
    const token = fx.token({ upn: 'svc-ece@example.com' });
    mbx(fx.state.tenant, 'sales@example.com').smtpClientAuthenticationDisabled = true;
    expect(decideMailAuth(fx.state, 'smtp', 'sales@example.com', token)).toEqual({
      ok: false,
      reason: 'smtp-disabled-mailbox',
    });
    // The account's own switch is what counts for the account's login.
    expect(decideMailAuth(fx.state, 'smtp', 'svc-ece@example.com', token).ok).toBe(true);
  });

  it('compares names through the directory: a UPN that is not the SMTP address', () => {
    const u = fx.state.tenant.users.find(x => x.userPrincipalName === 'support@example.com')!;
    u.userPrincipalName = 'j.support@example.onmicrosoft.com';
    u.mail = 'support@example.com';
    u.proxyAddresses = ['SMTP:support@example.com', 'smtp:j.support@example.onmicrosoft.com'];
    mbx(fx.state.tenant, 'support@example.com').owner = 'j.support@example.onmicrosoft.com';
    const token = fx.token({ upn: 'j.support@example.onmicrosoft.com' });
    expect(decideMailAuth(fx.state, 'imap', 'support@example.com', token).ok).toBe(true);
    expect(
      decideMailAuth(fx.state, 'smtp', 'j.support@example.onmicrosoft.com', token),
    ).toMatchObject({ ok: true, mailbox: 'support@example.com' });
    expect(maySendAs(fx.state, 'j.support@example.onmicrosoft.com', 'support@example.com')).toBe(
      true,
    );
  });

  it('Send As: own addresses and granted mailboxes only; Full Access is not Send As', () => {
    expect(maySendAs(fx.state, 'svc-ece@example.com', 'sales@example.com')).toBe(true);
    mbx(fx.state.tenant, 'sales@example.com').sendAs = [];
    expect(maySendAs(fx.state, 'svc-ece@example.com', 'sales@example.com')).toBe(false);
    expect(maySendAs(fx.state, 'svc-ece@example.com', 'svc-ece@example.com')).toBe(true);
    expect(maySendAs(fx.state, 'support@example.com', 'sales@example.com')).toBe(false);
  });
});

describe('parseXoauth2', () => {
  it("decodes Microsoft's documented test vector (o365-facts.md §1.5)", () => {
    const b64 =
      'dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==';
    expect(parseXoauth2(b64)).toEqual({
      user: 'test@contoso.onmicrosoft.com',
      token: 'EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA',
    });
  });

  it.each([
    ['not base64', 'not base64!'],
    ['no auth field', Buffer.from('user=a@b\x01\x01').toString('base64')],
    ['no user field', Buffer.from('auth=Bearer x\x01\x01').toString('base64')],
    ['empty', ''],
  ])('refuses %s', (_n, blob) => {
    expect(parseXoauth2(blob)).toBeUndefined();
  });
});
