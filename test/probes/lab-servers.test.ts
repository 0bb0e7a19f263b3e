/**
 * The probes against the lab's own IMAP, POP3 and SMTP servers (src/lab), which judge real
 * RS256 lab tokens against the tenant model: the same probe code a worker runs against
 * Exchange Online, here against the simulator.
 */
import { startImapServer } from '../../src/lab/imap-server';
import { startPop3Server } from '../../src/lab/pop3-server';
import type { LabState, RunningServer } from '../../src/lab/server-types';
import { startSmtpServer } from '../../src/lab/smtp-server';
import { healthyTenant } from '../../src/lab/tenant';
import { createKeys, mintAccessToken } from '../../src/lab/tokens';
import { probeImap } from '../../src/probes/imap';
import { probePop3 } from '../../src/probes/pop3';
import { probeSmtp } from '../../src/probes/smtp';
import { createCa, labContext } from './support/context';

const ca = createCa();
const state: LabState = { tenant: healthyTenant('https://ece.example.com'), keys: createKeys() };
const SCOPES = 'IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send';

function token(upn: string, opts: { aud?: string; scp?: string; iat?: number } = {}): string {
  return mintAccessToken(state.keys, {
    aud: opts.aud ?? 'https://outlook.office.com',
    tid: state.tenant.tenantId,
    appid: state.tenant.eceApp.appId,
    scp: opts.scp ?? SCOPES,
    upn,
    lifetimeMinutes: 60,
    ...(opts.iat ? { iat: opts.iat } : {}),
  });
}

const servers: RunningServer[] = [];
let imapPort = 0;
let pop3Port = 0;
let smtpPort = 0;
beforeAll(async () => {
  const outlook = ca.issue({ names: ['outlook.office365.com'] });
  const smtp = ca.issue({ names: ['smtp.office365.com'] });
  const [imap, pop3, submission] = await Promise.all([
    startImapServer({ state, tls: outlook }),
    startPop3Server({ state, tls: outlook }),
    startSmtpServer({ state, tls: smtp }),
  ]);
  servers.push(imap, pop3, submission);
  imapPort = imap.port;
  pop3Port = pop3.port;
  smtpPort = submission.port;
});
afterAll(async () => {
  await Promise.all(servers.map(s => s.close()));
});

const outlook = (port: number) => ({ host: 'outlook.office365.com', port });

describe('probes against the lab mail servers', () => {
  test('IMAP: the mailbox owner logs in and sees INBOX', async () => {
    const user = 'support@example.com';
    const obs = await probeImap(labContext(ca), outlook(imapPort), {
      user,
      accessToken: token(user),
    });
    expect(obs).toMatchObject({ ok: true, code: 'OK' });
    const messages = state.tenant.mailboxes.find(m => m.address === user)!.messages;
    expect(obs.mailboxFacts?.messages).toBe(messages);
  });

  test('IMAP: a workstation user token for the mailbox is AUTHENTICATED_NOT_CONNECTED', async () => {
    const obs = await probeImap(labContext(ca), outlook(imapPort), {
      user: 'support@example.com',
      accessToken: token('jdoe@example.com'),
    });
    expect(obs).toMatchObject({ ok: false, code: 'AUTHENTICATED_NOT_CONNECTED' });
  });

  test('IMAP: a Graph-audience token is AUTH_FAILED', async () => {
    const user = 'support@example.com';
    const obs = await probeImap(labContext(ca), outlook(imapPort), {
      user,
      accessToken: token(user, { aud: 'https://graph.microsoft.com' }),
    });
    expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
  });

  test('POP3: the shared account with Full Access opens the shared mailbox', async () => {
    const obs = await probePop3(labContext(ca), outlook(pop3Port), {
      user: 'sales@example.com',
      accessToken: token('svc-ece@example.com'),
    });
    expect(obs).toMatchObject({ ok: true, code: 'OK' });
    const messages = state.tenant.mailboxes.find(m => m.address === 'sales@example.com')!.messages;
    expect(obs.mailboxFacts?.messages).toBe(messages);
  });

  test('POP3: an expired token is AUTH_FAILED', async () => {
    const user = 'support@example.com';
    const longAgo = Math.floor(Date.now() / 1000) - 3 * 3600;
    const obs = await probePop3(labContext(ca), outlook(pop3Port), {
      user,
      accessToken: token(user, { iat: longAgo }),
    });
    expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
  });

  test('SMTP: the owner authenticates after STARTTLS and the message is accepted', async () => {
    const user = 'support@example.com';
    const obs = await probeSmtp(
      labContext(ca),
      { host: 'smtp.office365.com', port: smtpPort },
      {
        user,
        accessToken: token(user),
        sendTo: 'support@example.com',
      },
    );
    expect(obs).toMatchObject({ ok: true, code: 'OK', mailboxFacts: { sent: true } });
  });

  test('SMTP: SMTP AUTH disabled for the tenant is SMTP_AUTH_DISABLED_TENANT', async () => {
    const user = 'support@example.com';
    const mailbox = state.tenant.mailboxes.find(m => m.address === user)!;
    const before = {
      org: state.tenant.smtpAuthDisabledOrg,
      mbx: mailbox.smtpClientAuthenticationDisabled,
    };
    state.tenant.smtpAuthDisabledOrg = true;
    mailbox.smtpClientAuthenticationDisabled = null;
    try {
      const obs = await probeSmtp(
        labContext(ca),
        { host: 'smtp.office365.com', port: smtpPort },
        {
          user,
          accessToken: token(user),
        },
      );
      expect(obs).toMatchObject({
        ok: false,
        code: 'SMTP_AUTH_DISABLED_TENANT',
        stage: 'authenticate',
      });
      expect(obs.server).toMatch(/^535 5\.7\.139 .*disabled for the Tenant/);
    } finally {
      state.tenant.smtpAuthDisabledOrg = before.org;
      mailbox.smtpClientAuthenticationDisabled = before.mbx;
    }
  });
});
