/**
 * Round trips of the IMAP probe after TLS, counted where the lab's IMAP server sees them (every
 * tagged command, and every `+` continuation a client must wait for). Across a WAN each costs a
 * round trip time, so the probe may make no more than curl does for the same login and folder
 * list, plus one: the EXAMINE that opens the folder (RFC 9051 §6.3.3), which curl's URL without
 * a mailbox does not. curl's own count is taken here against the same server, not written down.
 */
import { startImapServer } from '../../src/lab/imap-server';
import type { RunningServer } from '../../src/lab/server-types';
import { probeImap } from '../../src/probes/imap';
import { curl, makeFixture, type Fixture } from '../lab-mail/support';
import { labContext } from './support/context';

const HOST = 'outlook.office365.com';
const USER = 'support@example.com';

let fx: Fixture;
let server: RunningServer;
/** The turns of the connection in progress (one client at a time in this file). */
let turns: string[] = [];

beforeAll(async () => {
  fx = makeFixture();
  server = await startImapServer({
    state: fx.state,
    tls: fx.ca.issue({ names: [HOST] }),
    onTurn: what => turns.push(what),
  });
});
afterAll(async () => {
  await server.close();
  fx.cleanup();
});

/** The turns curl takes to log in with XOAUTH2 and list the folders (`imaps://host/`). */
async function curlTurns(): Promise<string[]> {
  turns = [];
  const r = await curl([
    '--cacert',
    fx.caFile,
    '--resolve',
    `${HOST}:${server.port}:127.0.0.1`,
    '--user',
    `${USER}:`,
    '--oauth2-bearer',
    fx.token(),
    `imaps://${HOST}:${server.port}/`,
  ]);
  expect(r.code).toBe(0);
  return turns;
}

test('the IMAP probe waits for no more turns than curl, plus the folder it opens', async () => {
  const byCurl = await curlTurns();
  // What curl does (lib/imap.c): CAPABILITY, AUTHENTICATE (SASL-IR), LIST, LOGOUT.
  expect(byCurl).toEqual(expect.arrayContaining(['CAPABILITY', 'AUTHENTICATE', 'LIST', 'LOGOUT']));

  turns = [];
  const obs = await probeImap(
    labContext(fx.ca),
    { host: HOST, port: server.port },
    {
      user: USER,
      accessToken: fx.token(),
    },
  );
  const byProbe = [...turns];
  expect(obs).toMatchObject({ ok: true, code: 'OK' });
  // Nothing the check reads is lost with the turns left out: the capabilities offered before
  // login (AUTH=XOAUTH2), the folder count and the message count.
  expect(obs.capabilities).toContain('AUTH=XOAUTH2');
  expect(obs.mailboxFacts?.folders).toBeGreaterThan(0);
  expect(obs.mailboxFacts?.messages).toBeDefined();
  expect(byProbe).toContain('EXAMINE');
  expect(byProbe.length).toBeLessThanOrEqual(byCurl.length + 1);
});
