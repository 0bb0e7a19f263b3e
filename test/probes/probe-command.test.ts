import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbeCommand } from '../../src/cli/probe-command';
import { createCa, tlsOf } from './support/context';
import { startExoImap, startExoPop3 } from './support/exo-mail';
import type { LineServer } from './support/line-server';

const ca = createCa();
const leaf = ca.issue({ names: ['outlook.office365.com', 'ece.example.com'] });
const USER = 'support@example.com';
const TOKEN = 'canary-cli-token-4d2b8e';
const dir = mkdtempSync(join(tmpdir(), 'ecebot-probe-cli-'));
const caFile = join(dir, 'lab-ca.pem');
const tokenFile = join(dir, 'token.txt');
writeFileSync(caFile, ca.certPem);
writeFileSync(tokenFile, `${TOKEN}\n`);

let imap: LineServer;
let pop3: LineServer;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  const model = { tokens: { [TOKEN]: USER }, folders: ['INBOX', 'Archive'], messages: 4 };
  imap = await startExoImap({ tls: tlsOf(leaf), model });
  pop3 = await startExoPop3({ tls: tlsOf(leaf), model });
  closers.push(
    () => imap.close(),
    () => pop3.close(),
  );
});
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
  rmSync(dir, { recursive: true, force: true });
});

/** Run the command in-process and capture what it prints. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runProbeCommand(argv, { out: s => out.push(s), err: s => err.push(s), env });
  return { code, out, err, all: [...out, ...err].join('\n') };
}

const lab = (port: number) => [
  '--host',
  'outlook.office365.com',
  '--port',
  String(port),
  '--ca',
  caFile,
  '--resolve',
  'outlook.office365.com=127.0.0.1',
];

describe('ecebot probe', () => {
  test('imap: one line per step, an OK verdict, exit 0, and no token anywhere', async () => {
    const r = await run(['imap', ...lab(imap.port), '--user', USER, '--token', TOKEN]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`probe imap outlook.office365.com:${imap.port} as ${USER}`);
    expect(r.out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\s+\d+\.\d ms {2}authenticate {2}ok {4}S: \S+ OK AUTHENTICATE completed\.$/,
        ),
      ]),
    );
    expect(r.out.at(-1)).toMatch(
      /^OK {2}XOAUTH2 login as support@example\.com accepted, 2 folders, 4 messages/,
    );
    expect(r.all).not.toContain(TOKEN);
  });

  test('imap with a refused token: FAIL with the code and the server words, exit 1', async () => {
    const r = await run([
      'imap',
      ...lab(imap.port),
      '--user',
      USER,
      '--token',
      'not-a-token-exo-knows',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual(
      expect.arrayContaining([expect.stringMatching(/^FAIL {2}AUTH_FAILED at authenticate: /)]),
    );
    expect(r.out.at(-1)).toMatch(/server said: \S+ NO AUTHENTICATE failed\.$/);
  });

  test('--json prints exactly one line with protocol, ok, code, stage, server, ms, steps', async () => {
    const r = await run([
      'pop3',
      ...lab(pop3.port),
      '--user',
      USER,
      '--token-file',
      tokenFile,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const j = JSON.parse(r.out[0]!);
    expect(Object.keys(j)).toEqual(['protocol', 'ok', 'code', 'stage', 'server', 'ms', 'steps']);
    expect(j).toMatchObject({ protocol: 'pop3', ok: true, code: 'OK', stage: 'authenticate' });
    expect(j.server).toBe('+OK User successfully authenticated.');
    expect(j.steps.map((s: { name: string }) => s.name)).toContain('stat');
    expect(r.all).not.toContain(TOKEN);
  });

  test('the token can come from ECEBOT_TOKEN', async () => {
    const r = await run(['pop3', ...lab(pop3.port), '--user', USER, '--json'], {
      ECEBOT_TOKEN: TOKEN,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]!).ok).toBe(true);
  });

  test('a failing probe in --json mode exits 1 with its code', async () => {
    const r = await run([
      'imap',
      ...lab(imap.port),
      '--user',
      'other@example.com',
      '--token',
      'nope',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
  });

  test('https takes the URL as an argument', async () => {
    const server = https.createServer(tlsOf(leaf), (_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const r = await run([
      'https',
      `https://ece.example.com:${port}/`,
      '--ca',
      caFile,
      '--resolve',
      'ece.example.com=127.0.0.1',
    ]);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toMatch(/^OK {2}HTTP 200/);
  });

  test.each([
    [['ftp', '--host', 'x'], /unknown protocol "ftp"/, /imap\|pop3\|smtp\|tls\|https/],
    [[], /no protocol given/, /ecebot probe/],
    [
      ['imap', '--user', USER, '--token', 't'],
      /--host is missing/,
      /--host outlook\.office365\.com/,
    ],
    [
      ['imap', '--host', 'h', '--port', '99999', '--user', USER, '--token', 't'],
      /--port 99999/,
      /1 to 65535/,
    ],
    [['imap', '--host', 'h', '--token', 't'], /--user is missing/, /--user/],
    [['imap', '--host', 'h', '--user', USER], /no access token/, /--token-file/],
    [
      ['pop3', '--host', 'h', '--user', USER, '--token-file', join(dir, 'missing.txt')],
      /--token-file .*cannot read/,
      /path/,
    ],
    [
      ['tls', '--host', 'h', '--resolve', 'h=not-an-ip'],
      /--resolve h=not-an-ip/,
      /NAME=IP|--resolve/,
    ],
    [['tls', '--host', 'h', '--timeout', 'soon'], /--timeout soon/, /--timeout 5000/],
    [['tls', '--host', 'h', '--ca', tokenFile], /holds no PEM certificate/, /PEM/],
    [
      ['smtp', '--host', 'h', '--starttls', '--user', USER, '--token', 't'],
      /--starttls applies to/,
      /always uses STARTTLS/,
    ],
    [['tls', '--host', 'h', '--bogus'], /bogus/, /--help/],
  ])('bad input %j exits 2 and says what, which flag and how to fix', async (argv, what, fix) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toMatch(what);
    expect(r.err[1]).toMatch(/^ {2}fix: /);
    expect(r.err[1]).toMatch(fix);
  });

  test('a --token given with bad input is not echoed back', async () => {
    // The stray positional is the token itself, so the error message would quote it.
    const r = await run(['imap', '--host', 'h', '--user', USER, '--token', TOKEN, TOKEN]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/unexpected argument/);
    expect(r.all).not.toContain(TOKEN);
    const r2 = await run(['imap', '--host', 'h', '--user', USER, `--token=${TOKEN}`, TOKEN]);
    expect(r2.code).toBe(2);
    expect(r2.all).not.toContain(TOKEN);
  });

  test('--help prints the usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^Usage: ecebot probe/);
  });
});
