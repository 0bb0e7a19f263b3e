/**
 * The proxy family: each published proxy failure is reproduced with a local CONNECT proxy
 * (test/probes/support/connect-proxy.ts) that wants credentials, refuses with the status the
 * source shows, or is not there; the real TLS probe goes through it to the login endpoint as
 * ECE's HTTPS would, and the network rule judges it.
 */
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parseProxyUrl } from '../../src/probes/proxy';
import { probeTls } from '../../src/probes/tls';
import { closedPort, startConnectProxy } from '../probes/support/connect-proxy';
import { createCa, LAB_HOSTS, labContext, tlsOf } from '../probes/support/context';
import { fixMatches, loadFamily, type Signature } from './corpus';
import { judgeFromServices, remediationText } from './drive';

const ca = createCa();
const LOGIN = 'login.microsoftonline.com';
const closers: (() => Promise<void>)[] = [];
let loginPort = 0;

beforeAll(async () => {
  const server = tls.createServer(tlsOf(ca.issue({ names: [LOGIN] })), s => s.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  loginPort = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
});

async function proxyUrl(c: { proxy: string; status?: string }): Promise<string> {
  if (c.proxy === 'closed') return `http://127.0.0.1:${await closedPort()}`;
  const p = await startConnectProxy({
    hosts: LAB_HOSTS,
    ...(c.proxy === 'auth' ? { credentials: 'svc-ece:Pr0xy-Secret' } : {}),
    ...(c.status ? { refuse: c.status } : {}),
  });
  closers.push(p.close);
  return p.url;
}

describe.each(loadFamily('proxy').map(s => [s.id, s] as [string, Signature]))('%s', (_id, sig) => {
  test('the probe reproduces it, the rule names the item and code, the fix is the source’s', async () => {
    const c = sig.context as { proxy: string; status?: string };
    const ctx = labContext(ca, {
      hosts: {},
      proxy: parseProxyUrl(await proxyUrl(c), 'environment'),
    });
    const obs = await probeTls(ctx, { host: LOGIN, port: loginPort }, { https: true });
    if (c.status) expect(obs.server).toBe(`HTTP/1.1 ${c.status}`);
    expect(obs.code).toBe(sig.expect.code);
    const f = judgeFromServices(obs);
    expect(f).toMatchObject({ item: sig.expect.item, status: 'fail' });
    expect(fixMatches(remediationText(f, sig.expect.code!), sig.expect)).toEqual({
      missing: [],
      forbidden: [],
    });
  });
});
