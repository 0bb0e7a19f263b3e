import { POP3 } from '../../src/lab/exo-words';
import { labMessage, startPop3Server } from '../../src/lab/pop3-server';
import type { RunningServer } from '../../src/lab/server-types';
import type { LabTenant } from '../../src/lab/tenant';
import { curl, CURLE_LOGIN_DENIED, makeFixture, Wire, xoauth2, type Fixture } from './support';

const HOST = 'outlook.office365.com';
const FRONT_END = 'FR3P281CA0157.DEUP281.PROD.OUTLOOK.COM';
const AUTH_FAILED = '-ERR Authentication failure: unknown user name or bad password.';

let fx: Fixture;
let server: RunningServer;
const open: Wire[] = [];

beforeAll(async () => {
  fx = makeFixture();
  server = await startPop3Server({
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

async function wire(): Promise<Wire> {
  const w = await Wire.tls(server.port, HOST, fx.ca.certPem);
  open.push(w);
  await w.lines(/^\+OK/);
  return w;
}

/** The two-step XOAUTH2 exchange EXO wants; returns the server's final line. */
async function login(w: Wire, user: string, token: string): Promise<string> {
  w.send('AUTH XOAUTH2');
  expect(await w.lines(/^\+/)).toEqual(['+ ']);
  w.send(xoauth2(user, token));
  const [answer] = await w.lines(/^[+-]/);
  return answer!;
}

describe('POP3 wire texts', () => {
  it('greets with the front-end tag and lists EXO capabilities', async () => {
    const w = await Wire.tls(server.port, HOST, fx.ca.certPem);
    open.push(w);
    const [greeting] = await w.lines(/^\+OK/);
    const m = /^\+OK The Microsoft Exchange POP3 service is ready\. \[([A-Za-z0-9+/=]+)\]$/.exec(
      greeting!,
    );
    expect(Buffer.from(m![1]!, 'base64').toString('utf16le')).toBe(FRONT_END);
    w.send('CAPA');
    expect(await w.lines(/^\.$/)).toEqual([
      '+OK',
      'TOP',
      'UIDL',
      'SASL PLAIN XOAUTH2',
      'USER',
      '.',
    ]);
  });

  it('logs in with the two-step XOAUTH2 exchange', async () => {
    const w = await wire();
    expect(await login(w, 'support@example.com', fx.token())).toBe(
      '+OK User successfully authenticated.',
    );
  });

  it('refuses the one-line AUTH XOAUTH2 <b64> form and closes, even with a good token', async () => {
    const w = await wire();
    w.send(`AUTH XOAUTH2 ${xoauth2('support@example.com', fx.token())}`);
    expect(await w.lines(/^-ERR/)).toEqual(['-ERR Protocol error. Connection is closed. 10']);
    expect(await w.closedByServer()).toBe(true);
  });

  it('refuses USER/PASS with the logon-failure text', async () => {
    const w = await wire();
    w.send('USER support@example.com');
    expect(await w.lines(/^[+-]/)).toEqual(['+OK']);
    w.send('PASS secret');
    expect(await w.lines(/^[+-]/)).toEqual([
      '-ERR Logon failure: unknown user name or bad password.',
    ]);
  });

  it('refuses transaction commands before login', async () => {
    const w = await wire();
    w.send('STAT');
    expect(await w.lines(/^[+-]/)).toEqual([POP3.badState]);
  });

  const failures: {
    name: string;
    user?: string;
    token: (f: Fixture) => string;
    change?: (t: LabTenant) => void;
  }[] = [
    { name: 'a garbage token', token: () => 'garbage' },
    {
      name: 'an expired token',
      token: f => f.token({ iat: Math.floor(Date.now() / 1000) - 7200 }),
    },
    { name: 'a token without POP scope', token: f => f.token({ scp: 'IMAP.AccessAsUser.All' }) },
    { name: 'a wrong-user token', token: f => f.token({ upn: 'jdoe@example.com' }) },
    { name: 'user= that is no mailbox', user: 'nobody@example.com', token: f => f.token() },
    {
      name: 'POP disabled on the mailbox',
      token: f => f.token(),
      change: t => (mbx(t, 'support@example.com').popEnabled = false),
    },
  ];
  it.each(failures.map(f => [f.name, f] as const))(
    'fails with the EXO text for %s',
    async (_n, f) => {
      f.change?.(fx.state.tenant);
      const w = await wire();
      expect(await login(w, f.user ?? 'support@example.com', f.token(fx))).toBe(AUTH_FAILED);
      w.send('STAT');
      expect(await w.lines(/^[+-]/)).toEqual([POP3.badState]);
    },
  );

  it('serves the maildrop: STAT, LIST, UIDL, RETR with byte-stuffing, TOP, DELE, RSET, QUIT', async () => {
    mbx(fx.state.tenant, 'sales@example.com').messages = 4;
    const w = await wire();
    expect(await login(w, 'sales@example.com', fx.token({ upn: 'svc-ece@example.com' }))).toBe(
      '+OK User successfully authenticated.',
    );
    w.send('LIST');
    const list = await w.lines(/^\.$/);
    expect(list).toHaveLength(6);
    const sizes = list.slice(1, -1).map(l => Number(l.split(' ')[1]));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(list[0]).toBe(`+OK 4 ${total}`);
    w.send('STAT');
    expect(await w.lines(/^[+-]/)).toEqual([`+OK 4 ${total}`]);

    w.send('RETR 2');
    const retr = await w.lines(/^\.$/);
    expect(retr[0]).toBe('+OK');
    const body = retr.slice(1, -1);
    // The size LIST announces is the unstuffed message with CRLF line ends (RFC 1939 §11).
    const unstuffed = body.map(l => (l.startsWith('..') ? l.slice(1) : l));
    expect(unstuffed.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0)).toBe(sizes[1]);
    expect(body).toContain('..This line starts with a dot (RFC 1939 §3 byte-stuffing).');
    expect(unstuffed).toEqual(labMessage('sales@example.com', 2).lines);

    w.send('TOP 1 0');
    const top = await w.lines(/^\.$/);
    expect(top[top.length - 2]).toBe('');
    expect(top).toContain('Subject: Lab message 1');

    w.send('UIDL');
    const uidl = await w.lines(/^\.$/);
    const ids = uidl.slice(1, -1).map(l => l.split(' ')[1]);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[\x21-\x7e]{1,70}$/);

    w.send('DELE 1');
    expect(await w.lines(/^[+-]/)).toEqual(['+OK']);
    w.send('STAT');
    expect(await w.lines(/^[+-]/)).toEqual([`+OK 3 ${total - sizes[0]!}`]);
    w.send('RETR 1');
    expect(await w.lines(/^[+-]/)).toEqual([POP3.deleted]);
    w.send('RETR 9');
    expect(await w.lines(/^[+-]/)).toEqual([POP3.noSuchMessage]);
    w.send('RSET');
    expect(await w.lines(/^[+-]/)).toEqual(['+OK']);
    w.send('STAT');
    expect(await w.lines(/^[+-]/)).toEqual([`+OK 4 ${total}`]);
    w.send('QUIT');
    expect(await w.lines(/^[+-]/)).toEqual([
      '+OK Microsoft Exchange Server 2016 POP3 server signing off.',
    ]);
    expect(await w.closedByServer()).toBe(true);
  });
});

describe('POP3 with curl', () => {
  const args = (user: string, token: string) => [
    '--cacert',
    fx.caFile,
    '--resolve',
    `${HOST}:${server.port}:127.0.0.1`,
    '--user',
    `${user}:`,
    '--oauth2-bearer',
    token,
    `pop3s://${HOST}:${server.port}/`,
  ];

  it('lists the messages with a good token (curl uses the two-step AUTH)', async () => {
    const r = await curl(args('support@example.com', fx.token()));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split(/\r?\n/);
    expect(lines.map(l => l.split(' ')[0])).toEqual(['1', '2', '3']);
  });

  it('lists a shared mailbox with the Full Access account token', async () => {
    const r = await curl(args('sales@example.com', fx.token({ upn: 'svc-ece@example.com' })));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split(/\r?\n/)).toHaveLength(5);
  });

  it('is denied login with a bad token', async () => {
    const r = await curl(args('support@example.com', fx.token({ scp: 'SMTP.Send' })));
    expect(r.code).toBe(CURLE_LOGIN_DENIED);
    expect(r.stdout).toBe('');
  });
});
