import { probeImap } from '../../src/probes/imap';
import type { MailObservation } from '../../src/model';
import { createCa, labContext, tlsOf } from './support/context';
import { startExoImap, IMAP_CAPABILITY, type ExoModel } from './support/exo-mail';
import {
  refusedPort,
  startBlackhole,
  startLineServer,
  type LineServer,
} from './support/line-server';

const ca = createCa();
const leaf = ca.issue({ names: ['outlook.office365.com'] });
const USER = 'support@example.com';
const TOKEN = 'canary-imap-token-5e1f0c';
const model: ExoModel = {
  tokens: {
    [TOKEN]: USER,
    'token-of-workstation-user': 'jdoe@example.com',
    'token-that-expires': USER,
  },
  expiring: ['token-that-expires'],
  folders: ['INBOX', 'Drafts', '"Sent Items"', '"Deleted Items"'],
  messages: 12,
};

const servers: LineServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map(s => s.close()));
});

async function exo(extra: { capability?: string } = {}): Promise<LineServer> {
  const server = await startExoImap({ tls: tlsOf(leaf), model, ...extra });
  servers.push(server);
  return server;
}

function probe(port: number, token = TOKEN, deadlines = {}): Promise<MailObservation> {
  return probeImap(
    labContext(ca, { deadlines }),
    { host: 'outlook.office365.com', port },
    {
      user: USER,
      accessToken: token,
    },
  );
}

const names = (obs: MailObservation) => obs.steps.map(s => s.name);

describe('probeImap against a scripted Exchange Online IMAP', () => {
  test('a good token logs in, lists folders, opens INBOX read-only and logs out', async () => {
    const server = await exo();
    const obs = await probe(server.port);
    expect(obs).toMatchObject({ kind: 'imap', ok: true, code: 'OK', stage: 'authenticate' });
    expect(obs.server).toMatch(/^\S+ OK AUTHENTICATE completed\.$/);
    expect(obs.mailboxFacts).toEqual({ folders: model.folders!.length, messages: model.messages });
    expect(obs.capabilities).toContain('AUTH=XOAUTH2');
    expect(names(obs).slice(0, 4)).toEqual(['dns', 'connect', 'tls', 'greeting']);
    expect(names(obs)).toEqual(
      expect.arrayContaining(['capability', 'authenticate', 'list', 'select', 'logout']),
    );
    const auth = obs.steps.find(s => s.name === 'authenticate')!;
    expect(auth.sent).toMatch(/^\S+ AUTHENTICATE XOAUTH2 <redacted>$/);
    const greeting = obs.steps.find(s => s.name === 'greeting')!;
    expect(greeting.received?.[0]).toMatch(
      /^\* OK The Microsoft Exchange IMAP4 service is ready\./,
    );
    expect(server.received.some(l => / EXAMINE INBOX$/.test(l))).toBe(true);
  });

  test('the token never appears in the observation, nor its XOAUTH2 blob', async () => {
    const server = await exo();
    const obs = await probe(server.port);
    const json = JSON.stringify(obs);
    expect(json).not.toContain(TOKEN);
    // What the server received did carry it, so the probe really sent it.
    const blob = server.received
      .find(l => / AUTHENTICATE XOAUTH2 /.test(l))!
      .split(' ')
      .pop()!;
    expect(Buffer.from(blob, 'base64').toString()).toContain(TOKEN);
    expect(json).not.toContain(blob);
  });

  test('"NO AUTHENTICATE failed." is AUTH_FAILED at authenticate, with the server words', async () => {
    const server = await exo();
    const obs = await probe(server.port, 'a-token-exchange-does-not-know');
    expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
    expect(obs.server).toMatch(/^\S+ NO AUTHENTICATE failed\.$/);
    expect(obs.mailboxFacts).toBeUndefined();
  });

  test('a token for another user is AUTHENTICATED_NOT_CONNECTED (the Kerberos/SSO trap)', async () => {
    const server = await exo();
    const obs = await probe(server.port, 'token-of-workstation-user');
    expect(obs).toMatchObject({ ok: false, code: 'AUTHENTICATED_NOT_CONNECTED' });
    expect(obs.server).toMatch(/BAD User is authenticated but not connected\.$/);
    const auth = obs.steps.find(s => s.name === 'authenticate')!;
    expect(auth.ok).toBe(true);
    // Exchange answers the first mailbox command after AUTHENTICATE so (o365-facts.md §1.2):
    // the probe's LIST, as it sends no NAMESPACE.
    expect(obs.stage).toBe('list');
  });

  test('a token that expires in the session is TOKEN_EXPIRED_SESSION', async () => {
    const server = await exo();
    const obs = await probe(server.port, 'token-that-expires');
    expect(obs).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED_SESSION' });
    expect(obs.server).toBe('* BYE Session invalidated - AccessTokenExpired');
  });

  test('a server without AUTH=XOAUTH2 is XOAUTH2_NOT_OFFERED, and no token is sent', async () => {
    const server = await exo({ capability: IMAP_CAPABILITY.replace(' AUTH=XOAUTH2', '') });
    const obs = await probe(server.port);
    expect(obs).toMatchObject({ ok: false, code: 'XOAUTH2_NOT_OFFERED', stage: 'capability' });
    expect(server.received.some(l => /AUTHENTICATE/i.test(l))).toBe(false);
  });

  test('a refused port is CONNECT_REFUSED at connect', async () => {
    const obs = await probe(await refusedPort());
    expect(obs).toMatchObject({ ok: false, code: 'CONNECT_REFUSED', stage: 'connect' });
  });

  test('TLS that never answers is a TIMEOUT at tls', async () => {
    const hole = await startBlackhole();
    servers.push(hole);
    const obs = await probe(hole.port);
    expect(obs).toMatchObject({ ok: false, code: 'TIMEOUT', stage: 'tls' });
  });

  test('a TLS server that never greets is GREETING_TIMEOUT at greeting', async () => {
    const mute = await startLineServer({ tls: tlsOf(leaf) }, () => new Promise(() => undefined));
    servers.push(mute);
    const obs = await probe(mute.port);
    expect(obs).toMatchObject({ ok: false, code: 'GREETING_TIMEOUT', stage: 'greeting' });
  });

  test('the total deadline ends a probe whose server stalls mid-conversation', async () => {
    const stall = await startLineServer({ tls: tlsOf(leaf) }, async conn => {
      conn.write('* OK The Microsoft Exchange IMAP4 service is ready. []');
      await conn.next();
      await new Promise(() => undefined);
    });
    servers.push(stall);
    // Per-command deadline far beyond the total: only the total deadline can end this probe.
    const obs = await probe(stall.port, TOKEN, { commandMs: 120000, totalMs: 1000 });
    expect(obs).toMatchObject({ ok: false, code: 'TIMEOUT', stage: 'capability' });
    expect(obs.steps.at(-1)?.note).toMatch(/total deadline/);
  }, 20000);
});
