import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { RunningServer } from '../../src/lab/server-types';
import { startSmtpServer } from '../../src/lab/smtp-server';
import type { LabTenant } from '../../src/lab/tenant';
import { curl, CURLE_LOGIN_DENIED, makeFixture, Wire, xoauth2, type Fixture } from './support';

const HOST = 'smtp.office365.com';
const FRONT_END = 'SI2PR01CA0042.APCPRD01.PROD.OUTLOOK.COM';
const SMTP_HOST = 'SI2PR01CA0042.outlook.office365.com';
/** `[<front-end> <ISO time> <08D… id>]` (o365-facts.md §1.4). */
const DIAG = String.raw`\[SI2PR01CA0042\.APCPRD01\.PROD\.OUTLOOK\.COM \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 08D[0-9A-F]{13}\]`;

let fx: Fixture;
let server: RunningServer;
const open: Wire[] = [];

beforeAll(async () => {
  fx = makeFixture();
  server = await startSmtpServer({
    state: fx.state,
    tls: fx.ca.issue({ names: [HOST] }),
    frontEnd: FRONT_END,
  });
});
beforeEach(() => fx.resetTenant());
afterEach(() => {
  for (const w of open.splice(0)) w.destroy();
});
afterAll(async () => {
  await server.close();
  fx.cleanup();
});

const mbx = (t: LabTenant, address: string) => t.mailboxes.find(m => m.address === address)!;

/** Plain connection past the banner. */
async function plain(): Promise<Wire> {
  const w = await Wire.plain(server.port);
  open.push(w);
  await w.lines(/^220 /);
  return w;
}

/** Connection past STARTTLS and the second EHLO. */
async function secured(): Promise<Wire> {
  const w = await plain();
  w.send('EHLO ece.example.com');
  await w.lines(/^250 /);
  w.send('STARTTLS');
  await w.lines(/^220 /);
  await w.upgrade(HOST, fx.ca.certPem);
  w.send('EHLO ece.example.com');
  await w.lines(/^250 /);
  return w;
}

async function authenticated(user = 'support@example.com', token = fx.token()): Promise<Wire> {
  const w = await secured();
  w.send(`AUTH XOAUTH2 ${xoauth2(user, token)}`);
  expect(await w.lines(/^\d{3} /)).toEqual(['235 2.7.0 Authentication successful']);
  return w;
}

function transport(auth: Record<string, string>) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.port,
    secure: false,
    requireTLS: true,
    name: 'ece.example.com',
    tls: { ca: [fx.ca.certPem], servername: HOST },
    auth,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10000,
  });
}

const oauth = (user: string, accessToken: string) => ({ type: 'OAuth2', user, accessToken });

/** sendMail that must fail; returns nodemailer's error. */
async function sendError(
  auth: Record<string, string>,
  from = 'support@example.com',
): Promise<Record<string, unknown>> {
  const t = transport(auth);
  try {
    await t.sendMail({ from, to: 'customer@example.net', subject: 'lab', text: 'hello' });
  } catch (err) {
    return err as Record<string, unknown>;
  } finally {
    t.close();
  }
  throw new Error('sendMail succeeded');
}

describe('SMTP wire texts', () => {
  it('greets with the EXO banner and offers STARTTLS but no AUTH before TLS', async () => {
    const w = await Wire.plain(server.port);
    open.push(w);
    const [banner] = await w.lines(/^220 /);
    expect(banner).toMatch(
      new RegExp(
        String.raw`^220 SI2PR01CA0042\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at ` +
          String.raw`(Sun|Mon|Tue|Wed|Thu|Fri|Sat), \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000 \[08D[0-9A-F]{13}\]$`,
      ),
    );
    w.send('EHLO ece.example.com');
    expect(await w.lines(/^250 /)).toEqual([
      `250-${SMTP_HOST} Hello [127.0.0.1]`,
      '250-SIZE 157286400',
      '250-PIPELINING',
      '250-DSN',
      '250-ENHANCEDSTATUSCODES',
      '250-STARTTLS',
      '250-8BITMIME',
      '250-BINARYMIME',
      '250-CHUNKING',
      '250 SMTPUTF8',
    ]);
  });

  it('answers AUTH and MAIL before STARTTLS with 504 5.7.4 and 530 5.7.57', async () => {
    const w = await plain();
    w.send('EHLO ece.example.com');
    await w.lines(/^250 /);
    w.send(`AUTH XOAUTH2 ${xoauth2('support@example.com', fx.token())}`);
    expect((await w.lines(/^\d{3} /))[0]).toMatch(
      new RegExp(`^504 5\\.7\\.4 Unrecognized authentication type ${DIAG}$`),
    );
    w.send('MAIL FROM:<support@example.com>');
    expect((await w.lines(/^\d{3} /))[0]).toMatch(
      new RegExp(`^530 5\\.7\\.57 Client not authenticated to send mail\\. ${DIAG}$`),
    );
  });

  it('upgrades with 220 2.0.0, then offers AUTH LOGIN XOAUTH2 and no STARTTLS', async () => {
    const w = await plain();
    w.send('EHLO ece.example.com');
    await w.lines(/^250 /);
    w.send('STARTTLS');
    expect(await w.lines(/^220 /)).toEqual(['220 2.0.0 SMTP server ready']);
    await w.upgrade(HOST, fx.ca.certPem);
    w.send('EHLO ece.example.com');
    expect(await w.lines(/^250 /)).toEqual([
      `250-${SMTP_HOST} Hello [127.0.0.1]`,
      '250-SIZE 157286400',
      '250-PIPELINING',
      '250-DSN',
      '250-ENHANCEDSTATUSCODES',
      '250-AUTH LOGIN XOAUTH2',
      '250-8BITMIME',
      '250-BINARYMIME',
      '250-CHUNKING',
      '250 SMTPUTF8',
    ]);
  });

  it('drops plaintext pipelined after STARTTLS (RFC 3207 §6)', async () => {
    const w = await plain();
    w.send('EHLO ece.example.com');
    await w.lines(/^250 /);
    w.socket.write('STARTTLS\r\nNOOP\r\n');
    expect(await w.lines(/^220 /)).toEqual(['220 2.0.0 SMTP server ready']);
    await w.upgrade(HOST, fx.ca.certPem);
    w.send('EHLO ece.example.com');
    // The first answer over TLS belongs to EHLO, not to the injected NOOP.
    expect((await w.lines(/^250 /))[0]).toBe(`250-${SMTP_HOST} Hello [127.0.0.1]`);
  });

  it('takes XOAUTH2 after an empty 334 challenge', async () => {
    const w = await secured();
    w.send('AUTH XOAUTH2');
    expect(await w.lines(/^\d{3}/)).toEqual(['334 ']);
    w.send(xoauth2('support@example.com', fx.token()));
    expect(await w.lines(/^\d{3} /)).toEqual(['235 2.7.0 Authentication successful']);
  });

  it('refuses AUTH LOGIN as basic auth and AUTH PLAIN as unknown', async () => {
    const w = await secured();
    w.send('AUTH LOGIN');
    expect(await w.lines(/^334/)).toEqual(['334 VXNlcm5hbWU6']);
    w.send(Buffer.from('support@example.com').toString('base64'));
    expect(await w.lines(/^334/)).toEqual(['334 UGFzc3dvcmQ6']);
    w.send(Buffer.from('secret').toString('base64'));
    expect((await w.lines(/^\d{3} /))[0]).toMatch(
      new RegExp(
        `^535 5\\.7\\.139 Authentication unsuccessful, basic authentication is disabled\\. ${DIAG}$`,
      ),
    );
    w.send(`AUTH PLAIN ${Buffer.from('\0support@example.com\0secret').toString('base64')}`);
    expect((await w.lines(/^\d{3} /))[0]).toMatch(
      new RegExp(`^504 5\\.7\\.4 Unrecognized authentication type ${DIAG}$`),
    );
  });

  it('needs AUTH before MAIL even over TLS, and MAIL before RCPT, RCPT before DATA', async () => {
    const w = await secured();
    w.send('MAIL FROM:<support@example.com>');
    expect((await w.lines(/^\d{3} /))[0]).toMatch(/^530 5\.7\.57 /);
    w.send(`AUTH XOAUTH2 ${xoauth2('support@example.com', fx.token())}`);
    await w.lines(/^235 /);
    w.send('RCPT TO:<customer@example.net>');
    expect(await w.lines(/^\d{3} /)).toEqual(['503 5.5.2 Need mail command']);
    w.send('MAIL FROM:<support@example.com>');
    expect(await w.lines(/^\d{3} /)).toEqual(['250 2.1.0 Sender OK']);
    w.send('DATA');
    expect(await w.lines(/^\d{3} /)).toEqual(['503 5.5.2 Need rcpt command']);
  });

  it('queues a message sent with DATA, undoing dot-stuffing', async () => {
    const w = await authenticated();
    w.send('MAIL FROM:<support@example.com> SIZE=200');
    expect(await w.lines(/^\d{3} /)).toEqual(['250 2.1.0 Sender OK']);
    w.send('RCPT TO:<customer@example.net>');
    expect(await w.lines(/^\d{3} /)).toEqual(['250 2.1.5 Recipient OK']);
    w.send('DATA');
    expect(await w.lines(/^\d{3} /)).toEqual(['354 Start mail input; end with <CRLF>.<CRLF>']);
    w.send('From: <support@example.com>');
    w.send('Message-ID: <abc.123@ece.example.com>');
    w.send('');
    w.send('..a stuffed line');
    w.send('.');
    expect(await w.lines(/^\d{3} /)).toEqual([
      `250 2.0.0 OK <abc.123@ece.example.com> [Hostname=${FRONT_END}]`,
    ]);
  });

  it('queues a message sent with BDAT (CHUNKING)', async () => {
    const w = await authenticated();
    w.send('MAIL FROM:<support@example.com>');
    await w.lines(/^250 /);
    w.send('RCPT TO:<customer@example.net>');
    await w.lines(/^250 /);
    const part1 = 'From: support@example.com\r\n';
    const part2 = 'Subject: chunked\r\n\r\nhello\r\n';
    w.socket.write(`BDAT ${Buffer.byteLength(part1)}\r\n${part1}`);
    expect(await w.lines(/^\d{3} /)).toEqual([
      `250 2.0.0 ${Buffer.byteLength(part1)} bytes received`,
    ]);
    w.socket.write(`BDAT ${Buffer.byteLength(part2)} LAST\r\n${part2}`);
    expect((await w.lines(/^\d{3} /))[0]).toMatch(
      new RegExp(`^250 2\\.0\\.0 OK <[^>]+> \\[Hostname=${FRONT_END.replace(/\./g, '\\.')}\\]$`),
    );
  });

  it('refuses a header From: other than the authenticated mailbox with SendAsDenied', async () => {
    const w = await authenticated();
    w.send('MAIL FROM:<support@example.com>');
    await w.lines(/^250 /);
    w.send('RCPT TO:<customer@example.net>');
    await w.lines(/^250 /);
    w.send('DATA');
    await w.lines(/^354 /);
    w.send('From: Sales <sales@example.com>');
    w.send('');
    w.send('hi');
    w.send('.');
    expect((await w.lines(/^\d{3} /))[0]).toMatch(
      /^554 5\.2\.252 SendAsDenied; support@example\.com not allowed to send as sales@example\.com; STOREDRV\.Submission\.Exception:SendAsDeniedException\.MapiExceptionSendAsDenied; /,
    );
  });

  it('answers RSET, NOOP, unknown verbs and QUIT with EXO texts', async () => {
    const w = await plain();
    w.send('RSET');
    expect(await w.lines(/^\d{3} /)).toEqual(['250 2.0.0 Resetting']);
    w.send('NOOP');
    expect(await w.lines(/^\d{3} /)).toEqual(['250 2.0.0 OK']);
    w.send('XYZZY now');
    expect(await w.lines(/^\d{3} /)).toEqual(["500 5.3.3 Unrecognized command 'XYZZY'"]);
    w.send('QUIT');
    expect(await w.lines(/^\d{3} /)).toEqual(['221 2.0.0 Service closing transmission channel']);
    expect(await w.closedByServer()).toBe(true);
  });

  it('closes on a line above the limit instead of buffering it', async () => {
    const w = await plain();
    w.send(`NOOP ${'A'.repeat(20000)}`);
    expect(await w.lines(/^\d{3} /)).toEqual(['500 5.3.3 Line too long']);
    expect(await w.closedByServer()).toBe(true);
  });
});

describe('SMTP with nodemailer', () => {
  it('sends with a good token; the answer carries the Message-ID and front-end', async () => {
    const t = transport(oauth('support@example.com', fx.token()));
    try {
      const info = await t.sendMail({
        from: 'support@example.com',
        to: 'customer@example.net',
        subject: 'lab',
        text: 'hello',
      });
      expect(info.response).toBe(`250 2.0.0 OK ${info.messageId} [Hostname=${FRONT_END}]`);
    } finally {
      t.close();
    }
  });

  // o365-facts.md §1.5: SMTP AUTH is the signed-in account; sending from the shared mailbox
  // then needs Send As (nextcloud/mail #13668: "235 auth, 250 2.1.0 Sender OK, message accepted").
  it('sends from a shared mailbox signed in as the account that has Send As', async () => {
    const t = transport(oauth('svc-ece@example.com', fx.token({ upn: 'svc-ece@example.com' })));
    try {
      const info = await t.sendMail({
        from: 'sales@example.com',
        to: 'customer@example.net',
        text: 'x',
      });
      expect(info.response).toMatch(/^250 2\.0\.0 OK /);
    } finally {
      t.close();
    }
  });

  it('refuses SMTP AUTH as the shared mailbox with the Full Access account token (535 5.7.3)', async () => {
    const err = await sendError(
      oauth('sales@example.com', fx.token({ upn: 'svc-ece@example.com' })),
      'sales@example.com',
    );
    expect(err.code).toBe('EAUTH');
    expect(err.response).toMatch(new RegExp(`^535 5\\.7\\.3 Authentication unsuccessful ${DIAG}$`));
  });

  it('accepts MAIL FROM, then refuses a shared sender without Send As after DATA', async () => {
    mbx(fx.state.tenant, 'sales@example.com').sendAs = [];
    const w = await authenticated('svc-ece@example.com', fx.token({ upn: 'svc-ece@example.com' }));
    w.send('MAIL FROM:<sales@example.com>');
    expect(await w.lines(/^\d{3} /)).toEqual(['250 2.1.0 Sender OK']);
    w.send('RCPT TO:<customer@example.net>');
    await w.lines(/^250 /);
    w.send('DATA');
    await w.lines(/^354 /);
    w.send('From: <sales@example.com>');
    w.send('');
    w.send('hi');
    w.send('.');
    expect((await w.lines(/^\d{3} /))[0]).toMatch(
      /^554 5\.2\.252 SendAsDenied; svc-ece@example\.com not allowed to send as sales@example\.com; /,
    );
  });

  const generic: { name: string; user?: string; token: (f: Fixture) => string }[] = [
    { name: 'a garbage token', token: () => 'garbage' },
    { name: 'a Graph-audience token', token: f => f.token({ aud: 'https://graph.microsoft.com' }) },
    {
      name: 'an expired token',
      token: f => f.token({ iat: Math.floor(Date.now() / 1000) - 7200 }),
    },
    { name: 'a token without SMTP.Send', token: f => f.token({ scp: 'IMAP.AccessAsUser.All' }) },
    { name: 'a wrong-user token', token: f => f.token({ upn: 'jdoe@example.com' }) },
    { name: 'user= that is no mailbox', user: 'nobody@example.com', token: f => f.token() },
  ];
  it.each(generic.map(g => [g.name, g] as const))('fails with 535 5.7.3 for %s', async (_n, g) => {
    const err = await sendError(oauth(g.user ?? 'support@example.com', g.token(fx)));
    expect(err.code).toBe('EAUTH');
    expect(err.responseCode).toBe(535);
    expect(err.response).toMatch(new RegExp(`^535 5\\.7\\.3 Authentication unsuccessful ${DIAG}$`));
  });

  it('tells SMTP AUTH disabled for the Tenant from disabled for the Mailbox', async () => {
    const support = mbx(fx.state.tenant, 'support@example.com');
    fx.state.tenant.smtpAuthDisabledOrg = true;
    support.smtpClientAuthenticationDisabled = null;
    const tenantErr = await sendError(oauth('support@example.com', fx.token()));
    expect(tenantErr.response).toMatch(
      new RegExp(
        '^535 5\\.7\\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant\\. ' +
          `Visit https://aka\\.ms/smtp_auth_disabled for more information\\. ${DIAG}$`,
      ),
    );
    fx.state.tenant.smtpAuthDisabledOrg = false;
    support.smtpClientAuthenticationDisabled = true;
    const mailboxErr = await sendError(oauth('support@example.com', fx.token()));
    expect(mailboxErr.response).toMatch(
      /^535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox\. /,
    );
  });

  it('refuses a password login as basic auth', async () => {
    const err = await sendError({ user: 'support@example.com', pass: 'secret' });
    expect(err.code).toBe('EAUTH');
    expect(err.response).toMatch(
      /^535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\. /,
    );
  });

  it('refuses sending as another address with SendAsDenied after DATA', async () => {
    const err = await sendError(oauth('support@example.com', fx.token()), 'sales@example.com');
    expect(err.responseCode).toBe(554);
    expect(err.response).toMatch(
      /^554 5\.2\.252 SendAsDenied; support@example\.com not allowed to send as sales@example\.com; /,
    );
  });
});

describe('SMTP with curl', () => {
  const send = (token: string) => {
    const eml = join(fx.dir, 'message.eml');
    writeFileSync(
      eml,
      'From: support@example.com\r\nTo: customer@example.net\r\nSubject: curl\r\n\r\nhi\r\n',
    );
    return curl([
      '--ssl-reqd',
      '--cacert',
      fx.caFile,
      '--resolve',
      `${HOST}:${server.port}:127.0.0.1`,
      '--user',
      'support@example.com:',
      '--oauth2-bearer',
      token,
      '--mail-from',
      'support@example.com',
      '--mail-rcpt',
      'customer@example.net',
      '--upload-file',
      eml,
      `smtp://${HOST}:${server.port}`,
    ]);
  };

  it('sends with STARTTLS and a good token', async () => {
    const r = await send(fx.token());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('is denied login with a bad token', async () => {
    const r = await send(fx.token({ scp: 'IMAP.AccessAsUser.All' }));
    expect(r.code).toBe(CURLE_LOGIN_DENIED);
  });
});
