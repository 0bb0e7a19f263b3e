import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { probeHttps } from '../../src/probes/https';
import { createCa, labContext, tlsOf } from './support/context';
import { startBlackhole } from './support/line-server';

const ca = createCa();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
});

/** A stand-in ECE web server: `/` redirects to the login page, `/broken` fails. */
async function eceServer(names = ['ece.example.com']): Promise<{ port: number; hosts: string[] }> {
  const hosts: string[] = [];
  const server = https.createServer(tlsOf(ca.issue({ names })), (req, res) => {
    hosts.push(req.headers.host ?? '');
    if (req.url === '/broken') {
      res.writeHead(503, 'Service Unavailable').end('down');
    } else {
      res
        .writeHead(302, {
          location: 'https://ece.example.com/default/web/view/platform/common/login/root.jsp',
        })
        .end();
    }
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, hosts };
}

describe('probeHttps', () => {
  test('GET reports status, Location, certificate and one step per phase', async () => {
    const { port, hosts } = await eceServer();
    const obs = await probeHttps(labContext(ca), `https://ece.example.com:${port}/`);
    expect(obs).toMatchObject({
      kind: 'https',
      ok: true,
      code: 'OK',
      status: 302,
      stage: 'request',
    });
    expect(obs.location).toMatch(/\/login\/root\.jsp$/);
    expect(obs.cert).toMatchObject({ subject: 'CN=ece.example.com', trusted: true });
    expect(obs.steps.map(s => s.name)).toEqual(['dns', 'connect', 'tls', 'request']);
    expect(obs.server).toBe('HTTP/1.1 302 Found');
    expect(hosts).toEqual([`ece.example.com:${port}`]);
  });

  test('connectTo sends the connection elsewhere but keeps the URL name for SNI and Host', async () => {
    const { port, hosts } = await eceServer();
    const obs = await probeHttps(labContext(ca, { hosts: {} }), 'https://ece.example.com/', {
      connectTo: { host: '127.0.0.1', port },
    });
    expect(obs).toMatchObject({ ok: true, status: 302 });
    expect(hosts).toEqual(['ece.example.com']);
  });

  test('a 5xx status is HTTP_ERROR with the status line as the server words', async () => {
    const { port } = await eceServer();
    const obs = await probeHttps(labContext(ca), `https://ece.example.com:${port}/broken`);
    expect(obs).toMatchObject({ ok: false, code: 'HTTP_ERROR', stage: 'request', status: 503 });
    expect(obs.server).toBe('HTTP/1.1 503 Service Unavailable');
  });

  test('a certificate for another name is TLS_CERT_INVALID, with the certificate facts', async () => {
    const { port } = await eceServer(['ece-old.example.com']);
    const obs = await probeHttps(labContext(ca), `https://ece.example.com:${port}/`);
    expect(obs).toMatchObject({ ok: false, code: 'TLS_CERT_INVALID', stage: 'tls' });
    expect(obs.cert).toMatchObject({ altNames: ['ece-old.example.com'], trusted: false });
    expect(obs.status).toBeUndefined();
  });

  test('a server that never answers the request is a TIMEOUT at request', async () => {
    const server = https.createServer(
      tlsOf(ca.issue({ names: ['ece.example.com'] })),
      () => undefined,
    );
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>(resolve => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const obs = await probeHttps(labContext(ca), `https://ece.example.com:${port}/`);
    expect(obs).toMatchObject({ ok: false, code: 'TIMEOUT', stage: 'request' });
  });

  test('a silent port is a TIMEOUT at tls', async () => {
    const hole = await startBlackhole();
    closers.push(() => hole.close());
    const obs = await probeHttps(labContext(ca), `https://ece.example.com:${hole.port}/`);
    expect(obs).toMatchObject({ ok: false, code: 'TIMEOUT', stage: 'tls' });
  });

  test('an http URL is refused before any connection', async () => {
    const obs = await probeHttps(labContext(ca), 'http://ece.example.com/');
    expect(obs).toMatchObject({ ok: false, code: 'PROTOCOL_ERROR', stage: 'url' });
    expect(obs.steps).toHaveLength(1);
  });
});
