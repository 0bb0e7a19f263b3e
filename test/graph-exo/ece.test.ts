/**
 * The lab ECE web server: the pages at the external URL, over TLS with the certificate the
 * scenario hands it (its own name, an expired one, another name).
 */
import { connect, rootCertificates } from 'node:tls';
import type { Issued } from '../../src/lab/ca';
import { startEceServer } from '../../src/lab/ece-server';
import type { RunningServer } from '../../src/lab/server-types';
import { httpsRequest, HttpNetworkError } from '../../src/probes/http-client';
import { newLab } from './lab-fixture';

const { ca, ctx } = newLab();
const day = 86400000;
const servers: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.close()));
});

async function start(tls: Issued, title?: string): Promise<RunningServer> {
  const s = await startEceServer({ tls, ...(title ? { title } : {}) });
  servers.push(s);
  return s;
}

function get(port: number, path: string) {
  return httpsRequest(ctx, { method: 'GET', target: { host: 'ece.example.com', port }, path });
}

/** The certificate the server presents for SNI ece.example.com, verified against the lab CA. */
function peer(port: number): Promise<{ authorized: boolean; altNames: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        servername: 'ece.example.com',
        ca: [...rootCertificates, ca.certPem],
      },
      () => {
        const cert = socket.getPeerCertificate();
        resolve({ authorized: socket.authorized, altNames: cert.subjectaltname ?? '' });
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

test('GET / is the ECE login page, served with the external host’s certificate', async () => {
  const s = await start(ca.issue({ names: ['ece.example.com'] }));
  expect(await peer(s.port)).toEqual({ authorized: true, altNames: 'DNS:ece.example.com' });
  const answer = await get(s.port, '/');
  expect(answer.status).toBe(200);
  expect(answer.headers['content-type']).toMatch(/^text\/html/);
  expect(answer.text).toContain('<title>Enterprise Chat and Email</title>');
});

test('the admin console and the OAuth2 callback answer 200; anything else 404', async () => {
  const s = await start(ca.issue({ names: ['ece.example.com'] }));
  expect((await get(s.port, '/system')).status).toBe(200);
  const callback = await get(s.port, '/system/oauth2/callback?code=0.AXYZsecretcode&state=s1');
  expect(callback.status).toBe(200);
  expect(callback.text).not.toContain('secretcode');
  expect((await get(s.port, '/default')).status).toBe(404);
  expect((await get(s.port, '/system/oauth2')).status).toBe(404);
});

test('a scenario title is used and escaped', async () => {
  const s = await start(ca.issue({ names: ['ece.example.com'] }), 'ECE <lab>');
  expect((await get(s.port, '/')).text).toContain('<title>ECE &#60;lab&#62;</title>');
});

test('an expired certificate fails the client with TLS_CERT_EXPIRED', async () => {
  const s = await start(
    ca.issue({
      names: ['ece.example.com'],
      notBefore: new Date(Date.now() - 400 * day),
      notAfter: new Date(Date.now() - day),
    }),
  );
  await expect(get(s.port, '/')).rejects.toMatchObject({
    name: HttpNetworkError.name,
    code: 'TLS_CERT_EXPIRED',
  });
});

test('a certificate for another name fails the client with TLS_CERT_INVALID', async () => {
  const s = await start(ca.issue({ names: ['ece-internal.example.com'] }));
  await expect(get(s.port, '/')).rejects.toMatchObject({ code: 'TLS_CERT_INVALID' });
});
