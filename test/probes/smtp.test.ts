import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { probeSmtp, type SmtpProbeOptions } from '../../src/probes/smtp';
import type { MailObservation } from '../../src/model';
import { createCa, labContext, tlsOf } from './support/context';
import { startBlackhole, type LineServer } from './support/line-server';

const ca = createCa();
const leaf = ca.issue({ names: ['smtp.office365.com'] });
const USER = 'support@example.com';
const TOKEN = 'canary-smtp-token-c0ffee';

/** What a fake SMTP server saw. */
interface Seen {
  auths: { username?: string; accessToken?: string }[];
  messages: string[];
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
});

/**
 * nodemailer's smtp-server (a standards-compliant SMTP server) with STARTTLS on a lab
 * certificate. By default it accepts TOKEN for USER and refuses anything else with the
 * XOAUTH2 error challenge, the way Exchange Online does.
 */
async function startSmtp(
  options: Partial<SMTPServerOptions> = {},
  cert = leaf,
): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { auths: [], messages: [] };
  const server = new SMTPServer({
    ...tlsOf(cert),
    authMethods: ['XOAUTH2'],
    logger: false,
    // A reverse lookup of the client would ask the machine's resolver, off loopback.
    disableReverseLookup: true,
    name: 'SN4PR0201CA0068.outlook.office365.com',
    banner: 'Microsoft ESMTP MAIL Service ready',
    onAuth(auth, _session, cb) {
      seen.auths.push({ username: auth.username, accessToken: auth.accessToken });
      if (auth.username === USER && auth.accessToken === TOKEN) return cb(null, { user: USER });
      return cb(null, {
        data: { status: '401', schemes: 'bearer', scope: 'https://outlook.office.com/SMTP.Send' },
      });
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        seen.messages.push(Buffer.concat(chunks).toString());
        cb(null, '2.6.0 <id@example.com> Queued mail for delivery');
      });
    },
    ...options,
  });
  server.on('error', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, seen };
}

function probe(port: number, extra: Partial<SmtpProbeOptions> = {}): Promise<MailObservation> {
  return probeSmtp(
    labContext(ca),
    { host: 'smtp.office365.com', port },
    {
      user: USER,
      accessToken: TOKEN,
      ...extra,
    },
  );
}

/** An onAuth that refuses with Exchange Online's exact reply. */
function refuseWith(responseCode: number, text: string): Partial<SMTPServerOptions> {
  return {
    onAuth(_auth, _session, cb) {
      cb(Object.assign(new Error(text), { responseCode }));
    },
  };
}

describe('probeSmtp against smtp-server over STARTTLS', () => {
  test('banner, EHLO, STARTTLS, TLS, EHLO, AUTH XOAUTH2 and QUIT, one step each', async () => {
    const { port, seen } = await startSmtp();
    const obs = await probe(port);
    expect(obs).toMatchObject({ kind: 'smtp', ok: true, code: 'OK', stage: 'authenticate' });
    expect(obs.server).toMatch(/^235 /);
    expect(obs.steps.map(s => s.name)).toEqual([
      'dns',
      'connect',
      'greeting',
      'ehlo',
      'starttls',
      'tls',
      'ehlo',
      'authenticate',
      'quit',
    ]);
    expect(obs.capabilities).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AUTH .*XOAUTH2/)]),
    );
    const firstEhlo = obs.steps.find(s => s.name === 'ehlo')!;
    expect(firstEhlo.received?.some(l => /STARTTLS/.test(l))).toBe(true);
    expect(obs.steps.find(s => s.name === 'tls')?.note).toMatch(/CN=smtp\.office365\.com/);
    expect(obs.steps.find(s => s.name === 'authenticate')?.sent).toBe('AUTH XOAUTH2 <redacted>');
    expect(seen.auths).toEqual([{ username: USER, accessToken: TOKEN }]);
    expect(JSON.stringify(obs)).not.toContain(TOKEN);
  });

  test('with sendTo, the test message goes out marked X-ECEbot-Test: 1', async () => {
    const { port, seen } = await startSmtp();
    const obs = await probe(port, { sendTo: 'probe-sink@example.com' });
    expect(obs).toMatchObject({ ok: true, stage: 'send', mailboxFacts: { sent: true } });
    expect(obs.server).toMatch(/Queued mail for delivery/);
    expect(seen.messages).toHaveLength(1);
    expect(seen.messages[0]).toMatch(/^X-ECEbot-Test: 1\r$/m);
    expect(seen.messages[0]).toMatch(/^To: <probe-sink@example\.com>\r$/m);
    const send = obs.steps.find(s => s.name === 'send')!;
    expect(send.sent).toMatch(/^MAIL FROM:<support@example\.com>/);
    expect(send.sent).toMatch(/RCPT TO:<probe-sink@example\.com>/);
  });

  // o365-facts.md §1.5: SMTP AUTH as the account, the message from the shared mailbox.
  test('with from, AUTH is the account and MAIL FROM and From: are the mailbox served', async () => {
    const { port, seen } = await startSmtp();
    const obs = await probe(port, { from: 'sales@example.com', sendTo: 'probe-sink@example.com' });
    expect(obs).toMatchObject({ ok: true, user: USER, mailbox: 'sales@example.com' });
    expect(seen.auths).toEqual([{ username: USER, accessToken: TOKEN }]);
    expect(seen.messages[0]).toMatch(/^From: <sales@example\.com>\r$/m);
    expect(obs.steps.find(s => s.name === 'send')!.sent).toMatch(/^MAIL FROM:<sales@example\.com>/);
  });

  test('a refused token is AUTH_FAILED; nodemailer retries once after the 334 challenge', async () => {
    const { port, seen } = await startSmtp();
    const obs = await probe(port, { accessToken: 'token-smtp-server-refuses' });
    expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
    expect(obs.server).toMatch(/^535 /);
    expect(obs.oauthError).toEqual({
      status: '401',
      schemes: 'bearer',
      scope: 'https://outlook.office.com/SMTP.Send',
    });
    // The server saw two AUTH attempts, and the transcript shows both.
    expect(seen.auths).toHaveLength(2);
    const auths = obs.steps.filter(s => s.name === 'authenticate');
    expect(auths).toHaveLength(2);
    expect(auths[0]!.received?.[0]).toMatch(/^334 /);
    expect(auths[1]!.note).toMatch(/334 challenge/);
  });

  test.each([
    [
      'SMTP_AUTH_DISABLED_TENANT',
      '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com 2024-01-01T00:00:00.000Z 08DC0000000000]',
    ],
    [
      'SMTP_AUTH_DISABLED',
      '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.',
    ],
    [
      'SMTP_BASIC_AUTH_DISABLED',
      '5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    ],
    [
      'SMTP_BLOCKED_BY_POLICY',
      '5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.',
    ],
    [
      'SMTP_SECURITY_DEFAULTS',
      "5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
    ],
    [
      'AUTH_FAILED',
      '5.7.3 Authentication unsuccessful [SN4PR0201CA0068.namprd02.prod.outlook.com]',
    ],
  ])('%s for Exchange Online\'s "535 %s"', async (code, text) => {
    const { port } = await startSmtp(refuseWith(535, text));
    const obs = await probe(port);
    expect(obs).toMatchObject({ ok: false, code, stage: 'authenticate' });
    expect(obs.server).toBe(`535 ${text}`);
  });

  test('554 5.2.252 SendAsDenied after DATA is SEND_AS_DENIED at send', async () => {
    const text =
      '5.2.252 SendAsDenied; svc-ece@example.com not allowed to send as sales@example.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied';
    const { port } = await startSmtp({
      onData(stream, _session, cb) {
        stream.resume();
        stream.on('end', () => cb(Object.assign(new Error(text), { responseCode: 554 })));
      },
    });
    const obs = await probe(port, { sendTo: 'probe-sink@example.com' });
    expect(obs).toMatchObject({ ok: false, code: 'SEND_AS_DENIED', stage: 'send' });
    expect(obs.server).toBe(`554 ${text}`);
    expect(obs.mailboxFacts).toEqual({ sent: false });
  });

  test('a server that does not offer STARTTLS is STARTTLS_UNAVAILABLE and gets no token', async () => {
    const { port, seen } = await startSmtp({ hideSTARTTLS: true });
    const obs = await probe(port);
    expect(obs).toMatchObject({ ok: false, code: 'STARTTLS_UNAVAILABLE', stage: 'ehlo' });
    expect(seen.auths).toHaveLength(0);
  });

  test('an expired certificate after STARTTLS is TLS_CERT_EXPIRED at tls', async () => {
    const expired = ca.issue({
      names: ['smtp.office365.com'],
      notBefore: new Date(Date.now() - 400 * 86400000),
      notAfter: new Date(Date.now() - 86400000),
    });
    const { port, seen } = await startSmtp({}, expired);
    const obs = await probe(port);
    expect(obs).toMatchObject({ ok: false, code: 'TLS_CERT_EXPIRED', stage: 'tls' });
    expect(seen.auths).toHaveLength(0);
  });

  test('a certificate for another name is TLS_CERT_INVALID at tls', async () => {
    const { port } = await startSmtp({}, ca.issue({ names: ['mail.contoso.example'] }));
    const obs = await probe(port);
    expect(obs).toMatchObject({ ok: false, code: 'TLS_CERT_INVALID', stage: 'tls' });
  });

  test('a server that never sends its banner is GREETING_TIMEOUT', async () => {
    const hole: LineServer = await startBlackhole();
    closers.push(() => hole.close());
    const obs = await probe(hole.port);
    expect(obs).toMatchObject({ ok: false, code: 'GREETING_TIMEOUT', stage: 'greeting' });
  });
});
