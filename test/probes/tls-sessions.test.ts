/**
 * TLS session resumption for the Entra, Graph and Exchange reads (src/probes/tls-sessions.ts)
 * against a real local HTTPS server with its own CA. The server says whether each handshake
 * resumed (`tlsSocket.isSessionReused()`, Node.js TLS documentation, "Session resumption"):
 * - a later part's agent resumes the session an earlier part made (same host, name and CA);
 * - never under another CA: a session verified under one trust is not offered under another;
 * - the network item's TLS probe, made after those sessions exist, still makes a full handshake
 *   and reports the certificate (it judges the handshake; it must never be resumed).
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { httpsRequest } from '../../src/probes/http-client';
import { probeTls } from '../../src/probes/tls';
import { ResumingAgent } from '../../src/probes/tls-sessions';
import { createCa, labContext, tlsOf } from './support/context';

const ca = createCa();
const otherCa = createCa();
let server: https.Server;
let port: number;
/** For each TLS connection the server accepted: whether it resumed a session. */
const handshakes: boolean[] = [];

beforeAll(async () => {
  server = https.createServer(
    tlsOf(ca.issue({ names: ['login.microsoftonline.com'] })),
    (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":[]}'),
  );
  server.on('secureConnection', (s: TLSSocket) => handshakes.push(s.isSessionReused()));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>(resolve => server.close(() => resolve()));
});

/** Until the server has seen `n` handshakes (its side may finish after the client's). */
async function seen(n: number): Promise<boolean[]> {
  for (let i = 0; i < 100 && handshakes.length < n; i++) await new Promise(r => setTimeout(r, 20));
  return [...handshakes];
}

/** One request as a run part makes it: its own agent, destroyed afterwards. */
async function partRequest(trust: ReturnType<typeof createCa>): Promise<number> {
  const agent = new ResumingAgent();
  try {
    const ctx = { ...labContext(trust), agent };
    const a = await httpsRequest(ctx, {
      method: 'GET',
      target: { host: 'login.microsoftonline.com', port },
      path: '/common/discovery/instance',
    });
    return a.status;
  } finally {
    agent.destroy();
  }
}

test('a later part resumes the session of an earlier one; the network probe still handshakes in full', async () => {
  handshakes.length = 0;
  expect(await partRequest(ca)).toBe(200);
  // The session ticket (TLS 1.3) arrives after the handshake; the reply came after it.
  expect(await partRequest(ca)).toBe(200);
  expect(await partRequest(ca)).toBe(200);
  expect(await seen(3)).toEqual([false, true, true]);

  const obs = await probeTls(
    labContext(ca),
    { host: 'login.microsoftonline.com', port },
    { https: true },
  );
  expect(obs).toMatchObject({ kind: 'tls', ok: true, code: 'OK' });
  expect(obs.cert).toMatchObject({ subject: 'CN=login.microsoftonline.com', trusted: true });
  expect(await seen(4)).toEqual([false, true, true, false]);
});

test('a session made under one CA is never offered under another', async () => {
  handshakes.length = 0;
  expect(await partRequest(ca)).toBe(200);
  expect(await seen(1)).toEqual([true]);
  // Another trust (an inventory with another CA): its own full handshake, which fails here as
  // the server's certificate is not signed by it: nothing was skipped.
  // Had the session been offered and taken, the handshake would have skipped the certificate
  // and the request succeeded.
  await expect(partRequest(otherCa)).rejects.toMatchObject({
    name: 'HttpNetworkError',
    sysCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  });
  expect(await seen(2)).toEqual([true]);
});
