import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { startFault, WRONG_CERT_NAME } from '../../src/lab/fault-servers';
import type { FaultKind } from '../../src/lab/faults';
import { startImapServer } from '../../src/lab/imap-server';
import { startPop3Server } from '../../src/lab/pop3-server';
import type { RunningServer } from '../../src/lab/server-types';
import { startSmtpServer } from '../../src/lab/smtp-server';
import { makeFixture, Wire, type Fixture } from './support';

const OUTLOOK = 'outlook.office365.com';
const SMTP = 'smtp.office365.com';

let fx: Fixture;
let imap: RunningServer;
let pop3: RunningServer;
let smtp: RunningServer;
const faults: RunningServer[] = [];

beforeAll(async () => {
  fx = makeFixture();
  const outlookTls = fx.ca.issue({ names: [OUTLOOK] });
  imap = await startImapServer({ state: fx.state, tls: outlookTls });
  pop3 = await startPop3Server({ state: fx.state, tls: outlookTls });
  smtp = await startSmtpServer({ state: fx.state, tls: fx.ca.issue({ names: [SMTP] }) });
});
afterEach(async () => {
  await Promise.all(faults.splice(0).map(f => f.close()));
});
afterAll(async () => {
  await Promise.all([imap.close(), pop3.close(), smtp.close()]);
  fx.cleanup();
});

async function fault(kind: FaultKind, upstream: RunningServer, names: string[], delayMs?: number) {
  const f = await startFault(
    kind,
    { port: upstream.port },
    { ca: fx.ca, names, ...(delayMs ? { delayMs } : {}) },
  );
  faults.push(f);
  return f;
}

function imapClient(
  port: number,
  timeouts: { connectionTimeout?: number; greetingTimeout?: number } = {},
) {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: true,
    servername: OUTLOOK,
    tls: { ca: [fx.ca.certPem] },
    auth: { user: 'support@example.com', accessToken: fx.token() },
    logger: false,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    ...timeouts,
  });
  client.on('error', () => undefined);
  return client;
}

async function imapError(client: ImapFlow): Promise<Record<string, unknown>> {
  try {
    await client.connect();
  } catch (err) {
    return err as Record<string, unknown>;
  } finally {
    client.close();
  }
  throw new Error('connect() succeeded');
}

/** TLS handshake to the fault with the lab CA and a given SNI; resolves the error code or 'ok'. */
function handshake(port: number, servername: string): Promise<string> {
  return new Promise(resolve => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, ca: fx.ca.certPem }, () => {
      s.destroy();
      resolve('ok');
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

async function smtpError(port: number): Promise<Record<string, unknown>> {
  const t = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { ca: [fx.ca.certPem], servername: SMTP },
    auth: { type: 'OAuth2', user: 'support@example.com', accessToken: fx.token() },
    connectionTimeout: 5000,
    greetingTimeout: 5000,
  });
  try {
    await t.verify();
  } catch (err) {
    return err as Record<string, unknown>;
  } finally {
    t.close();
  }
  throw new Error('verify() succeeded');
}

describe('refuse', () => {
  it('gives ECONNREFUSED', async () => {
    const f = await fault('refuse', imap, [OUTLOOK]);
    const code = await new Promise<string | undefined>(resolve => {
      const s = netConnect(f.port, '127.0.0.1', () => resolve('connected'));
      s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    });
    expect(code).toBe('ECONNREFUSED');
    expect((await imapError(imapClient(f.port))).code).toBe('ECONNREFUSED');
  });
});

describe('blackhole', () => {
  it('accepts and never answers, so the client times out', async () => {
    const f = await fault('blackhole', imap, [OUTLOOK]);
    const err = await imapError(
      imapClient(f.port, { connectionTimeout: 400, greetingTimeout: 400 }),
    );
    expect(err.code).toBe('CONNECT_TIMEOUT');
  });

  it('holds a plain TCP client without a byte (SMTP banner timeout)', async () => {
    const f = await fault('blackhole', smtp, [SMTP]);
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: f.port,
      secure: false,
      greetingTimeout: 400,
      connectionTimeout: 2000,
    });
    try {
      await expect(t.verify()).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    } finally {
      t.close();
    }
  });
});

describe('slow', () => {
  it('relays to the real service, late', async () => {
    const f = await fault('slow', pop3, [OUTLOOK], 150);
    const w = await Wire.tls(f.port, OUTLOOK, fx.ca.certPem);
    try {
      expect((await w.lines(/^\+OK/))[0]).toMatch(
        /^\+OK The Microsoft Exchange POP3 service is ready\./,
      );
    } finally {
      w.destroy();
    }
  });

  it('makes a client with a greeting deadline shorter than the delay give up', async () => {
    const f = await fault('slow', imap, [OUTLOOK], 1500);
    const err = await imapError(
      imapClient(f.port, { connectionTimeout: 10000, greetingTimeout: 300 }),
    );
    expect(err.code).toBe('GREETING_TIMEOUT');
  });
});

describe('expired-cert', () => {
  it('fails an implicit-TLS client with CERT_HAS_EXPIRED', async () => {
    const f = await fault('expired-cert', imap, [OUTLOOK]);
    expect(await handshake(f.port, OUTLOOK)).toBe('CERT_HAS_EXPIRED');
    expect((await imapError(imapClient(f.port))).code).toBe('CERT_HAS_EXPIRED');
  });

  it('fails SMTP at STARTTLS with CERT_HAS_EXPIRED', async () => {
    const f = await fault('expired-cert', smtp, [SMTP]);
    const err = await smtpError(f.port);
    // nodemailer reports TLS failures as ESOCKET and keeps Node's code in originalCode.
    expect(err).toMatchObject({ code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED' });
  });
});

describe('wrong-cert', () => {
  it('fails an implicit-TLS client with ERR_TLS_CERT_ALTNAME_INVALID', async () => {
    const f = await fault('wrong-cert', imap, [OUTLOOK]);
    expect(await handshake(f.port, OUTLOOK)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect((await imapError(imapClient(f.port))).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('relays to the real service for a client that expects the other name', async () => {
    // Verified against the lab CA for wrong.example.net: proves the relay, no check disabled.
    const f = await fault('wrong-cert', pop3, [OUTLOOK]);
    const w = await Wire.tls(f.port, WRONG_CERT_NAME, fx.ca.certPem);
    try {
      expect((await w.lines(/^\+OK/))[0]).toMatch(
        /^\+OK The Microsoft Exchange POP3 service is ready\./,
      );
    } finally {
      w.destroy();
    }
  });

  it('passes SMTP plaintext through and presents the wrong name at STARTTLS', async () => {
    const f = await fault('wrong-cert', smtp, [SMTP]);
    const w = await Wire.plain(f.port);
    try {
      expect((await w.lines(/^220 /))[0]).toMatch(/Microsoft ESMTP MAIL Service ready/);
      w.send('EHLO ece.example.com');
      expect(await w.lines(/^250 /)).toContain('250-STARTTLS');
      w.send('STARTTLS');
      expect(await w.lines(/^220 /)).toEqual(['220 2.0.0 SMTP server ready']);
      await expect(w.upgrade(SMTP, fx.ca.certPem)).rejects.toMatchObject({
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      });
    } finally {
      w.destroy();
    }
    const err = await smtpError(f.port);
    expect(err).toMatchObject({ code: 'ESOCKET', originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('relays SMTP after STARTTLS for a client that expects the other name', async () => {
    const f = await fault('wrong-cert', smtp, [SMTP]);
    const w = await Wire.plain(f.port);
    try {
      await w.lines(/^220 /);
      w.send('EHLO ece.example.com');
      await w.lines(/^250 /);
      w.send('STARTTLS');
      await w.lines(/^220 /);
      await w.upgrade(WRONG_CERT_NAME, fx.ca.certPem);
      w.send('EHLO ece.example.com');
      expect(await w.lines(/^250 /)).toContain('250-AUTH LOGIN XOAUTH2');
    } finally {
      w.destroy();
    }
  });
});
