import { probePop3 } from '../../src/probes/pop3';
import type { MailObservation } from '../../src/model';
import { createCa, labContext, tlsOf } from './support/context';
import { startExoPop3, type ExoModel } from './support/exo-mail';
import { startLineServer, type LineServer } from './support/line-server';

const ca = createCa();
const leaf = ca.issue({ names: ['outlook.office365.com'] });
const USER = 'sales@example.com';
const TOKEN = 'canary-pop-token-91ab44';
const model: ExoModel = {
  tokens: { [TOKEN]: USER, 'token-of-workstation-user': 'jdoe@example.com' },
  messages: 7,
};

const servers: LineServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map(s => s.close()));
});

async function track(server: Promise<LineServer>): Promise<LineServer> {
  const s = await server;
  servers.push(s);
  return s;
}

function probe(port: number, token = TOKEN): Promise<MailObservation> {
  return probePop3(
    labContext(ca),
    { host: 'outlook.office365.com', port },
    {
      user: USER,
      accessToken: token,
    },
  );
}

describe('probePop3 against a scripted Exchange Online POP3', () => {
  test('logs in with XOAUTH2 in two steps, counts the messages and quits', async () => {
    const server = await track(startExoPop3({ tls: tlsOf(leaf), model }));
    const obs = await probe(server.port);
    expect(obs).toMatchObject({ kind: 'pop3', ok: true, code: 'OK', stage: 'authenticate' });
    expect(obs.server).toBe('+OK User successfully authenticated.');
    expect(obs.mailboxFacts).toEqual({ messages: 7 });
    expect(obs.capabilities).toContain('SASL PLAIN XOAUTH2');
    expect(obs.steps.map(s => s.name)).toEqual([
      'dns',
      'connect',
      'tls',
      'greeting',
      'capability',
      'authenticate',
      'stat',
      'quit',
    ]);
    // Two steps on the wire: the bare command, then the blob on a line of its own (§1.3).
    const i = server.received.indexOf('AUTH XOAUTH2');
    expect(i).toBeGreaterThanOrEqual(0);
    const blob = server.received[i + 1]!;
    expect(Buffer.from(blob, 'base64').toString()).toBe(
      `user=${USER}\x01auth=Bearer ${TOKEN}\x01\x01`,
    );
    const auth = obs.steps.find(s => s.name === 'authenticate')!;
    expect(auth.sent).toBe('AUTH XOAUTH2\n<redacted>');
    expect(auth.received).toEqual(['+ ', '+OK User successfully authenticated.']);
    expect(JSON.stringify(obs)).not.toContain(TOKEN);
    expect(JSON.stringify(obs)).not.toContain(blob);
  });

  test('"-ERR Authentication failure" is AUTH_FAILED, and the probe still quits', async () => {
    const server = await track(startExoPop3({ tls: tlsOf(leaf), model }));
    const obs = await probe(server.port, 'token-of-workstation-user');
    expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
    expect(obs.server).toBe('-ERR Authentication failure: unknown user name or bad password.');
    expect(obs.steps.at(-1)?.name).toBe('quit');
    expect(server.received).toContain('QUIT');
  });

  test('a server whose CAPA lacks XOAUTH2 is XOAUTH2_NOT_OFFERED and gets no token', async () => {
    const server = await track(startExoPop3({ tls: tlsOf(leaf), model, capability: 'SASL PLAIN' }));
    const obs = await probe(server.port);
    expect(obs).toMatchObject({ ok: false, code: 'XOAUTH2_NOT_OFFERED', stage: 'capability' });
    expect(server.received.some(l => /^AUTH/.test(l))).toBe(false);
  });

  test('-ERR to the AUTH command itself is XOAUTH2_NOT_OFFERED', async () => {
    const server = await track(
      startLineServer({ tls: tlsOf(leaf) }, async conn => {
        conn.write('+OK ready');
        for (let line = await conn.next(); line !== null; line = await conn.next()) {
          if (line === 'CAPA') ['+OK', 'SASL XOAUTH2', '.'].forEach(l => conn.write(l));
          else if (line.startsWith('AUTH')) conn.write('-ERR Protocol error. 14');
          else conn.write('+OK bye');
        }
      }),
    );
    const obs = await probe(server.port);
    expect(obs).toMatchObject({ ok: false, code: 'XOAUTH2_NOT_OFFERED', stage: 'authenticate' });
  });

  test('an XOAUTH2 error challenge is decoded into oauthError', async () => {
    const challenge = {
      status: '401',
      schemes: 'bearer',
      scope: 'https://outlook.office.com/POP.AccessAsUser.All',
    };
    const server = await track(
      startLineServer({ tls: tlsOf(leaf) }, async conn => {
        conn.write('+OK ready');
        for (let line = await conn.next(); line !== null; line = await conn.next()) {
          if (line === 'CAPA') ['+OK', 'SASL XOAUTH2', '.'].forEach(l => conn.write(l));
          else if (line === 'AUTH XOAUTH2') conn.write('+ ');
          else if (line.startsWith('dXNlcj')) {
            conn.write(`+ ${Buffer.from(JSON.stringify(challenge)).toString('base64')}`);
          } else if (line === '')
            conn.write('-ERR Authentication failure: unknown user name or bad password.');
          else conn.write('+OK bye');
        }
      }),
    );
    const obs = await probe(server.port);
    expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
    expect(obs.oauthError).toEqual(challenge);
  });

  test('a server that never greets is GREETING_TIMEOUT', async () => {
    const mute = await track(
      startLineServer({ tls: tlsOf(leaf) }, () => new Promise(() => undefined)),
    );
    const obs = await probe(mute.port);
    expect(obs).toMatchObject({ ok: false, code: 'GREETING_TIMEOUT', stage: 'greeting' });
  });

  test('a server that closes after the greeting is CONNECT_RESET', async () => {
    const rude = await track(
      startLineServer({ tls: tlsOf(leaf) }, async conn => {
        conn.write('+OK ready');
        await conn.next();
        conn.end();
      }),
    );
    const obs = await probe(rude.port);
    expect(obs).toMatchObject({ ok: false, code: 'CONNECT_RESET', stage: 'capability' });
  });
});
