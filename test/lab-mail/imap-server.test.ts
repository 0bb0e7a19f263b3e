import { ImapFlow } from 'imapflow';
import { IMAP } from '../../src/lab/exo-words';
import { startImapServer } from '../../src/lab/imap-server';
import type { RunningServer } from '../../src/lab/server-types';
import type { LabTenant } from '../../src/lab/tenant';
import { curl, CURLE_LOGIN_DENIED, makeFixture, Wire, xoauth2, type Fixture } from './support';

const HOST = 'outlook.office365.com';
const FRONT_END = 'SI2PR01CA0042.APCPRD01.PROD.OUTLOOK.COM';

let fx: Fixture;
let server: RunningServer;
const open: Wire[] = [];

beforeAll(async () => {
  fx = makeFixture();
  server = await startImapServer({
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

/** A raw TLS session past the greeting. */
async function wire(): Promise<Wire> {
  const w = await Wire.tls(server.port, HOST, fx.ca.certPem);
  open.push(w);
  await w.lines(/^\* OK/);
  return w;
}

function imapflow(user: string, accessToken: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: server.port,
    secure: true,
    servername: HOST,
    tls: { ca: [fx.ca.certPem] },
    auth: { user, accessToken },
    logger: false,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10000,
  });
}

/** connect() that must fail; returns the error imapflow gives. */
async function connectError(client: ImapFlow): Promise<Record<string, unknown>> {
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    return err as Record<string, unknown>;
  } finally {
    client.close();
  }
  throw new Error('connect() succeeded');
}

describe('IMAP wire texts', () => {
  it('greets with the front-end FQDN as base64 UTF-16LE, like EXO', async () => {
    const w = await Wire.tls(server.port, HOST, fx.ca.certPem);
    open.push(w);
    const [greeting] = await w.lines(/^\* OK/);
    const m = /^\* OK The Microsoft Exchange IMAP4 service is ready\. \[([A-Za-z0-9+/=]+)\]$/.exec(
      greeting!,
    );
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1]!, 'base64').toString('utf16le')).toBe(FRONT_END);
  });

  it('lists the pre-auth capabilities, then the post-auth ones', async () => {
    const w = await wire();
    w.send('a1 CAPABILITY');
    expect(await w.lines(/^a1 /)).toEqual([
      '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
      'a1 OK CAPABILITY completed.',
    ]);
    w.send(`a2 AUTHENTICATE XOAUTH2 ${xoauth2('support@example.com', fx.token())}`);
    expect(await w.lines(/^a2 /)).toEqual(['a2 OK AUTHENTICATE completed.']);
    w.send('a3 CAPABILITY');
    expect(await w.lines(/^a3 /)).toEqual([
      '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+',
      'a3 OK CAPABILITY completed.',
    ]);
  });

  it('takes XOAUTH2 after a + continuation, and * cancels', async () => {
    const w = await wire();
    w.send('c1 AUTHENTICATE XOAUTH2');
    expect(await w.lines(/^\+/)).toEqual(['+ ']);
    w.send('*');
    expect(await w.lines(/^c1 /)).toEqual([`c1 ${IMAP.authCanceled}`]);
    w.send('c2 AUTHENTICATE XOAUTH2');
    await w.lines(/^\+/);
    w.send(xoauth2('support@example.com', fx.token()));
    expect(await w.lines(/^c2 /)).toEqual(['c2 OK AUTHENTICATE completed.']);
  });

  it('refuses LOGIN (basic auth) and AUTHENTICATE PLAIN', async () => {
    const w = await wire();
    w.send('l1 LOGIN support@example.com secret');
    expect(await w.lines(/^l1 /)).toEqual(['l1 NO LOGIN failed.']);
    w.send(
      `l2 AUTHENTICATE PLAIN ${Buffer.from('\0support@example.com\0secret').toString('base64')}`,
    );
    expect(await w.lines(/^l2 /)).toEqual(['l2 NO AUTHENTICATE failed.']);
  });

  it('answers mailbox commands before login with the invalid-state text', async () => {
    const w = await wire();
    w.send('s1 SELECT INBOX');
    expect(await w.lines(/^s1 /)).toEqual(['s1 BAD Command received in Invalid state.']);
  });

  it('answers an unknown command with BAD Command Error. 10', async () => {
    const w = await wire();
    w.send('u1 XYZZY');
    expect(await w.lines(/^u1 /)).toEqual(['u1 BAD Command Error. 10']);
  });

  it('selects INBOX with EXISTS = the mailbox message count, via a literal and LITERAL+', async () => {
    mbx(fx.state.tenant, 'support@example.com').messages = 7;
    const w = await wire();
    w.send(`a AUTHENTICATE XOAUTH2 ${xoauth2('support@example.com', fx.token())}`);
    await w.lines(/^a /);
    w.send('s1 SELECT {5}');
    expect(await w.lines(/^\+/)).toEqual([IMAP.literalContinue]);
    w.send('INBOX');
    const sel = await w.lines(/^s1 /);
    expect(sel).toContain('* 7 EXISTS');
    expect(sel).toContain('* OK [UIDNEXT 8] The next unique identifier value');
    expect(sel[sel.length - 1]).toBe('s1 OK [READ-WRITE] SELECT completed.');
    w.send('s2 EXAMINE {10+}');
    w.send('Sent Items');
    const ex = await w.lines(/^s2 /);
    expect(ex).toContain('* 0 EXISTS');
    expect(ex[ex.length - 1]).toBe('s2 OK [READ-ONLY] EXAMINE completed.');
    w.send('s3 STATUS INBOX (MESSAGES UIDNEXT UNSEEN)');
    expect(await w.lines(/^s3 /)).toEqual([
      '* STATUS INBOX (MESSAGES 7 UIDNEXT 8 UNSEEN 0)',
      's3 OK STATUS completed.',
    ]);
  });

  it('lists with *, % and the empty pattern', async () => {
    const w = await wire();
    w.send(`a AUTHENTICATE XOAUTH2 ${xoauth2('support@example.com', fx.token())}`);
    await w.lines(/^a /);
    w.send('l1 LIST "" "*"');
    const all = await w.lines(/^l1 /);
    expect(all).toContain('* LIST (\\HasNoChildren \\Sent) "/" "Sent Items"');
    expect(all).toContain('* LIST (\\Marked \\HasNoChildren) "/" INBOX');
    expect(all[all.length - 1]).toBe('l1 OK LIST completed.');
    w.send('l2 LIST "" "D%"');
    expect(await w.lines(/^l2 /)).toEqual([
      '* LIST (\\HasNoChildren \\Trash) "/" "Deleted Items"',
      '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
      'l2 OK LIST completed.',
    ]);
    w.send('l3 LIST "" ""');
    expect(await w.lines(/^l3 /)).toEqual(['* LIST (\\Noselect) "/" ""', 'l3 OK LIST completed.']);
    w.send('l4 LIST "" "*" RETURN (CHILDREN)');
    expect(await w.lines(/^l4 /)).toEqual(['l4 BAD Command Argument Error. 12']);
  });

  it('idles until DONE and signs off on LOGOUT', async () => {
    const w = await wire();
    w.send(`a AUTHENTICATE XOAUTH2 ${xoauth2('support@example.com', fx.token())}`);
    await w.lines(/^a /);
    w.send('i1 IDLE');
    expect(await w.lines(/^\+/)).toEqual([IMAP.idleContinue]);
    w.send('DONE');
    expect(await w.lines(/^i1 /)).toEqual(['i1 OK IDLE completed.']);
    w.send('o1 LOGOUT');
    expect(await w.lines(/^o1 /)).toEqual([
      '* BYE Microsoft Exchange Server 2016 IMAP4 server signing off.',
      'o1 OK LOGOUT completed.',
    ]);
    expect(await w.closedByServer()).toBe(true);
  });

  it('accepts a wrong-user token, then refuses the first mailbox command and closes', async () => {
    const w = await wire();
    w.send(
      `a AUTHENTICATE XOAUTH2 ${xoauth2('support@example.com', fx.token({ upn: 'jdoe@example.com' }))}`,
    );
    expect(await w.lines(/^a /)).toEqual(['a OK AUTHENTICATE completed.']);
    w.send('n1 NOOP');
    expect(await w.lines(/^n1 /)).toEqual(['n1 OK NOOP completed.']);
    w.send('l1 LIST "" "*"');
    expect(await w.lines(/^\* BYE/)).toEqual([
      'l1 BAD User is authenticated but not connected.',
      '* BYE Connection closed. 14',
    ]);
    expect(await w.closedByServer()).toBe(true);
  });

  it('ends a session whose token expires with BYE AccessTokenExpired', async () => {
    // A one-minute token issued 58 s ago: valid at AUTHENTICATE, expired two seconds later.
    const iat = Math.floor(Date.now() / 1000) - 58;
    const w = await wire();
    w.send(
      `a AUTHENTICATE XOAUTH2 ${xoauth2('support@example.com', fx.token({ iat, lifetimeMinutes: 1 }))}`,
    );
    expect(await w.lines(/^a /)).toEqual(['a OK AUTHENTICATE completed.']);
    await new Promise(r => setTimeout(r, 2500));
    w.send('n1 NOOP');
    expect(await w.lines(/^\* BYE/)).toEqual(['* BYE Session invalidated - AccessTokenExpired']);
    expect(await w.closedByServer()).toBe(true);
  });

  it('closes on a line above the limit instead of buffering it', async () => {
    const w = await wire();
    w.send(`x1 NOOP ${'A'.repeat(20000)}`);
    expect(await w.lines(/^\* BYE/)).toEqual([IMAP.byeTooLong]);
    expect(await w.closedByServer()).toBe(true);
  });
});

describe('IMAP with imapflow', () => {
  it('connects, lists, opens INBOX and logs out with a good token', async () => {
    const client = imapflow('support@example.com', fx.token());
    await client.connect();
    const names = (await client.list()).map(f => f.path);
    expect(names).toEqual(
      expect.arrayContaining(['INBOX', 'Sent Items', 'Drafts', 'Deleted Items']),
    );
    const inbox = await client.mailboxOpen('INBOX');
    expect(inbox.exists).toBe(3);
    await client.logout();
  });

  it('opens a shared mailbox with the Full Access account token', async () => {
    const client = imapflow('sales@example.com', fx.token({ upn: 'svc-ece@example.com' }));
    await client.connect();
    expect((await client.mailboxOpen('INBOX')).exists).toBe(5);
    await client.logout();
  });

  interface Failure {
    name: string;
    token: (f: Fixture) => string;
    change?: (t: LabTenant) => void;
    user?: string;
  }
  const failures: Failure[] = [
    { name: 'a garbage token', token: () => 'garbage' },
    { name: 'a Graph-audience token', token: f => f.token({ aud: 'https://graph.microsoft.com' }) },
    {
      name: 'an expired token',
      token: f => f.token({ iat: Math.floor(Date.now() / 1000) - 7200 }),
    },
    { name: 'a token without IMAP scope', token: f => f.token({ scp: 'SMTP.Send' }) },
    {
      name: 'IMAP disabled on the mailbox',
      token: f => f.token(),
      change: t => (mbx(t, 'support@example.com').imapEnabled = false),
    },
    { name: 'user= that is no mailbox', token: f => f.token(), user: 'nobody@example.com' },
  ];
  it.each(failures.map(f => [f.name, f] as const))(
    'fails with NO AUTHENTICATE failed. for %s',
    async (_n, f) => {
      f.change?.(fx.state.tenant);
      const err = await connectError(imapflow(f.user ?? 'support@example.com', f.token(fx)));
      expect(err.authenticationFailed).toBe(true);
      expect(err.responseStatus).toBe('NO');
      expect(err.responseText).toBe('AUTHENTICATE failed.');
      expect(err.response).toMatch(/^\S+ NO AUTHENTICATE failed\.$/);
    },
  );

  it('reports the wrong-user token as "User is authenticated but not connected."', async () => {
    const err = await connectError(
      imapflow('support@example.com', fx.token({ upn: 'jdoe@example.com' })),
    );
    expect(err.authenticationFailed).toBe(true);
    expect(err.response).toBe('User is authenticated but not connected.');
  });

  it('still works through a server delaying every answer', async () => {
    const slow = await startImapServer({
      state: fx.state,
      tls: fx.ca.issue({ names: [HOST] }),
      delayMs: 100,
    });
    try {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: slow.port,
        secure: true,
        servername: HOST,
        tls: { ca: [fx.ca.certPem] },
        auth: { user: 'support@example.com', accessToken: fx.token() },
        logger: false,
      });
      await client.connect();
      expect((await client.mailboxOpen('INBOX')).exists).toBe(3);
      await client.logout();
    } finally {
      await slow.close();
    }
  });
});

describe('IMAP with curl', () => {
  const args = (token: string) => [
    '--cacert',
    fx.caFile,
    '--resolve',
    `${HOST}:${server.port}:127.0.0.1`,
    '--user',
    'support@example.com:',
    '--oauth2-bearer',
    token,
    `imaps://${HOST}:${server.port}/`,
  ];

  it('lists the folders with a good token', async () => {
    const r = await curl(args(fx.token()));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('* LIST (\\Marked \\HasNoChildren) "/" INBOX');
    expect(r.stdout).toContain('"Sent Items"');
  });

  it('is denied login with a bad token', async () => {
    const r = await curl(args(fx.token({ aud: 'https://graph.microsoft.com' })));
    expect(r.code).toBe(CURLE_LOGIN_DENIED);
    expect(r.stdout).toBe('');
  });
});
