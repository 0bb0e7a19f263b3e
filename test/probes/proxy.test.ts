/**
 * HTTPS through an HTTP CONNECT proxy (RFC 9110 §9.3.6): the TLS probe, the HTTPS probe and the
 * JSON client (Graph, Exchange admin API, msal's network client) against a real local proxy.
 * Expected outcomes come from the RFC: 2xx opens the tunnel, 407 asks for credentials
 * (§15.5.8), anything else refuses; TLS stays end to end, so certificates are checked as usual.
 */
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { httpsRequest, HttpNetworkError } from '../../src/probes/http-client';
import { probeHttps } from '../../src/probes/https';
import { bypassesProxy, parseNoProxy, parseProxyUrl } from '../../src/probes/proxy';
import { probeTls } from '../../src/probes/tls';
import { closedPort, startConnectProxy, type ProxyOptions } from './support/connect-proxy';
import { createCa, LAB_HOSTS, labContext, tlsOf } from './support/context';

const ca = createCa();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
});

const LOGIN = 'login.microsoftonline.com';

async function tlsServer(names = [LOGIN]): Promise<number> {
  const server = tls.createServer(tlsOf(ca.issue({ names })), s => s.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function jsonServer(): Promise<number> {
  const server = https.createServer(tlsOf(ca.issue({ names: [LOGIN] })), (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"issuer":"lab"}');
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function proxy(opts: ProxyOptions = {}) {
  const p = await startConnectProxy({ hosts: LAB_HOSTS, ...opts });
  closers.push(p.close);
  return p;
}

/** A context whose HTTPS goes through `url` (as HTTPS_PROXY would give it). */
function viaProxy(url: string, noProxy: string[] = []) {
  const config = parseProxyUrl(url, 'environment', noProxy);
  // The proxy resolves names; the probe never looks them up itself.
  return labContext(ca, { proxy: config, hosts: {} });
}

describe('probeTls through a CONNECT proxy', () => {
  test('tunnels to the host by name and completes TLS with the real server, recording version and cipher', async () => {
    const port = await tlsServer();
    const p = await proxy();
    const obs = await probeTls(viaProxy(p.url), { host: LOGIN, port }, { https: true });
    expect(obs).toMatchObject({ ok: true, code: 'OK', proxy: p.url });
    expect(obs.steps.map(s => s.name)).toEqual(['proxy', 'tls']);
    expect(p.requests.map(r => r.authority)).toEqual([`${LOGIN}:${port}`]);
    expect(obs.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(obs.cipher).toMatch(/^TLS_/);
  });

  test('407 without credentials is PROXY_AUTH_REQUIRED, with the challenge as the proxy words', async () => {
    const port = await tlsServer();
    const p = await proxy({ credentials: 'svc-ece:S3cret-Pa55' });
    const obs = await probeTls(viaProxy(p.url), { host: LOGIN, port }, { https: true });
    expect(obs).toMatchObject({ ok: false, code: 'PROXY_AUTH_REQUIRED', stage: 'proxy' });
    expect(obs.steps[0]?.received).toEqual([
      'HTTP/1.1 407 Proxy Authentication Required',
      'Proxy-Authenticate: Basic realm="corp"',
    ]);
  });

  test('credentials in the proxy URL are sent as Basic and never appear in the observation', async () => {
    const port = await tlsServer();
    const p = await proxy({ credentials: 'svc-ece:S3cret-Pa55' });
    const obs = await probeTls(
      viaProxy(`http://svc-ece:S3cret-Pa55@127.0.0.1:${p.port}`),
      {
        host: LOGIN,
        port,
      },
      { https: true },
    );
    expect(obs).toMatchObject({ ok: true, proxy: p.url });
    expect(p.requests[0]?.auth).toBe(
      `Basic ${Buffer.from('svc-ece:S3cret-Pa55').toString('base64')}`,
    );
    const shown = JSON.stringify(obs);
    expect(shown).not.toContain('S3cret-Pa55');
    expect(shown).not.toContain(Buffer.from('svc-ece:S3cret-Pa55').toString('base64'));
  });

  test('wrong credentials are refused with 407 too: PROXY_AUTH_REQUIRED', async () => {
    const port = await tlsServer();
    const p = await proxy({ credentials: 'svc-ece:S3cret-Pa55' });
    const obs = await probeTls(
      viaProxy(`http://svc-ece:wrong-pass@127.0.0.1:${p.port}`),
      {
        host: LOGIN,
        port,
      },
      { https: true },
    );
    expect(obs.code).toBe('PROXY_AUTH_REQUIRED');
    expect(obs.steps[0]?.note).toContain('refused the credentials');
  });

  test('403 to CONNECT is PROXY_REFUSED', async () => {
    const port = await tlsServer();
    const p = await proxy({ forbid: true });
    const obs = await probeTls(viaProxy(p.url), { host: LOGIN, port }, { https: true });
    expect(obs).toMatchObject({
      ok: false,
      code: 'PROXY_REFUSED',
      server: 'HTTP/1.1 403 Forbidden',
    });
  });

  test('a proxy nobody listens on is PROXY_UNREACHABLE', async () => {
    const obs = await probeTls(
      viaProxy(`http://127.0.0.1:${await closedPort()}`),
      { host: LOGIN, port: 443 },
      { https: true },
    );
    expect(obs).toMatchObject({ ok: false, code: 'PROXY_UNREACHABLE', stage: 'proxy' });
  });

  test('NO_PROXY exempts the host: the connection goes direct and the proxy sees nothing', async () => {
    const port = await tlsServer();
    const p = await proxy({ forbid: true });
    const ctx = viaProxy(p.url, parseNoProxy('.microsoftonline.com'));
    ctx.hosts = { ...LAB_HOSTS };
    const obs = await probeTls(ctx, { host: LOGIN, port }, { https: true });
    expect(obs).toMatchObject({ ok: true });
    expect(obs.proxy).toBeUndefined();
    expect(p.requests).toEqual([]);
  });

  test('mail ports never use the proxy', async () => {
    const port = await tlsServer(['outlook.office365.com']);
    const p = await proxy({ forbid: true });
    const ctx = viaProxy(p.url);
    ctx.hosts = { ...LAB_HOSTS };
    const obs = await probeTls(ctx, { host: 'outlook.office365.com', port });
    expect(obs.ok).toBe(true);
    expect(p.requests).toEqual([]);
  });

  test('certificates are still checked inside the tunnel: a certificate from another CA fails', async () => {
    const other = createCa('another CA');
    const server = tls.createServer(tlsOf(other.issue({ names: [LOGIN] })), s => s.end());
    server.on('tlsClientError', () => undefined);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
    const p = await proxy();
    const obs = await probeTls(
      viaProxy(p.url),
      { host: LOGIN, port: (server.address() as AddressInfo).port },
      { https: true },
    );
    expect(obs).toMatchObject({ ok: false, code: 'TLS_CERT_INVALID', stage: 'tls' });
  });
});

describe('HTTPS requests through a CONNECT proxy', () => {
  test('the JSON client (Graph, Exchange, msal) gets its answer through the tunnel', async () => {
    const port = await jsonServer();
    const p = await proxy();
    const answer = await httpsRequest(viaProxy(p.url), {
      method: 'GET',
      target: { host: LOGIN, port },
      path: '/common/v2.0/.well-known/openid-configuration',
    });
    expect(answer).toMatchObject({ status: 200, json: { issuer: 'lab' } });
    expect(p.requests.map(r => r.authority)).toEqual([`${LOGIN}:${port}`]);
  });

  test('a 407 reaches the caller as PROXY_AUTH_REQUIRED, not as a network failure', async () => {
    const port = await jsonServer();
    const p = await proxy({ credentials: 'a:b-long-secret' });
    const err = await httpsRequest(viaProxy(p.url), {
      method: 'GET',
      target: { host: LOGIN, port },
      path: '/',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).code).toBe('PROXY_AUTH_REQUIRED');
    expect((err as Error).message).toContain('407');
  });

  test('probeHttps (the ECE external URL) goes through the proxy too', async () => {
    const port = await jsonServer();
    const p = await proxy();
    const obs = await probeHttps(viaProxy(p.url), `https://${LOGIN}:${port}/`);
    expect(obs).toMatchObject({ ok: true, status: 200, proxy: p.url });
    expect(obs.steps.map(s => s.name)).toEqual(['proxy', 'tls', 'request']);
  });
});

describe('proxy settings', () => {
  test.each`
    entry                     | host                           | port    | bypass
    ${'*'}                    | ${'login.microsoftonline.com'} | ${443}  | ${true}
    ${'microsoftonline.com'}  | ${'login.microsoftonline.com'} | ${443}  | ${true}
    ${'.microsoftonline.com'} | ${'login.microsoftonline.com'} | ${443}  | ${true}
    ${'ece.example.com'}      | ${'ece.example.com'}           | ${443}  | ${true}
    ${'example.com:8443'}     | ${'ece.example.com'}           | ${443}  | ${false}
    ${'example.com:8443'}     | ${'ece.example.com'}           | ${8443} | ${true}
    ${'office365.com'}        | ${'notoffice365.com'}          | ${443}  | ${false}
    ${'10.0.0.5'}             | ${'10.0.0.5'}                  | ${443}  | ${true}
  `('NO_PROXY $entry for $host:$port → bypass $bypass', ({ entry, host, port, bypass }) => {
    expect(bypassesProxy(parseNoProxy(entry as string), { host, port })).toBe(bypass);
  });

  test.each([
    ['https://proxy:3128', /http:\/\//],
    ['http://proxy:3128/path', /no path/],
    ['not a url at all with spaces', /not a URL/],
  ])('%s is refused without echoing the value', (text, why) => {
    expect(() => parseProxyUrl(text, 'environment')).toThrow(why);
  });

  test('credentials are parsed and percent-decoded; the origin shown has none', () => {
    const p = parseProxyUrl('http://dom%5Cuser:p%40ss-word@proxy.corp:8080', 'environment');
    expect(p).toMatchObject({ origin: 'http://proxy.corp:8080', host: 'proxy.corp', port: 8080 });
    expect(p.credentials).toEqual({ user: 'dom\\user', password: 'p@ss-word' });
  });
});
