/**
 * DNS, TCP and TLS probes against local servers: a UDP DNS responder, refused and silent
 * ports, TLS servers with good, expired and wrong-name lab certificates, a plain-text server
 * where TLS is expected, and SMTP STARTTLS on smtp-server.
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { probeDns } from '../../src/probes/dns';
import { probeTcp } from '../../src/probes/tcp';
import { probeTls } from '../../src/probes/tls';
import { createCa, labContext, tlsOf } from './support/context';
import { startDnsResponder, type DnsResponder } from './support/dns-responder';
import { refusedPort, startBlackhole, startGarbage, type LineServer } from './support/line-server';

const ca = createCa();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
});

async function tlsServer(names: string[], validity: { notBefore?: Date; notAfter?: Date } = {}) {
  const leaf = ca.issue({ names, ...validity });
  const server = tls.createServer(tlsOf(leaf), socket => socket.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function keep(server: Promise<LineServer>): Promise<LineServer> {
  const s = await server;
  closers.push(() => s.close());
  return s;
}

describe('probeDns through a local DNS responder (ProbeContext.dnsServers)', () => {
  let dns: DnsResponder;
  beforeAll(async () => {
    dns = await startDnsResponder({
      a: { 'outlook.office365.com': '127.0.0.1' },
      nxdomain: ['ece.invalid-tenant.example'],
      silent: ['login.microsoftonline.com'],
    });
    closers.push(() => dns.close());
  });

  const ctx = () =>
    labContext(ca, { hosts: {}, dnsServers: [dns.server], deadlines: { dnsMs: 700 } });

  test('an A record resolves', async () => {
    const obs = await probeDns(ctx(), 'outlook.office365.com');
    expect(obs).toMatchObject({ ok: true, code: 'OK', addresses: ['127.0.0.1'], source: 'dns' });
    expect(dns.asked).toContain('outlook.office365.com');
  });

  test('NXDOMAIN is DNS_NOT_FOUND', async () => {
    const obs = await probeDns(ctx(), 'ece.invalid-tenant.example');
    expect(obs).toMatchObject({ ok: false, code: 'DNS_NOT_FOUND', stage: 'dns', addresses: [] });
  });

  test('a resolver that never answers is DNS_TIMEOUT', async () => {
    const obs = await probeDns(ctx(), 'login.microsoftonline.com');
    expect(obs).toMatchObject({ ok: false, code: 'DNS_TIMEOUT', stage: 'dns' });
  });

  test('the hosts map answers before any DNS server is asked', async () => {
    const asked = dns.asked.length;
    const obs = await probeDns(
      labContext(ca, { hosts: { 'smtp.office365.com': '127.0.0.1' }, dnsServers: [dns.server] }),
      'smtp.office365.com',
    );
    expect(obs).toMatchObject({ ok: true, addresses: ['127.0.0.1'], source: 'inventory' });
    expect(dns.asked.length).toBe(asked);
  });
});

describe('probeTcp', () => {
  test('an open port connects', async () => {
    const hole = await keep(startBlackhole());
    const obs = await probeTcp(labContext(ca), { host: 'outlook.office365.com', port: hole.port });
    expect(obs).toMatchObject({ kind: 'tcp', ok: true, code: 'OK', address: '127.0.0.1' });
    expect(obs.steps.map(s => s.name)).toEqual(['dns', 'connect']);
  });

  test('a refused port is CONNECT_REFUSED', async () => {
    const obs = await probeTcp(labContext(ca), { host: '127.0.0.1', port: await refusedPort() });
    expect(obs).toMatchObject({ ok: false, code: 'CONNECT_REFUSED', stage: 'connect' });
  });
});

describe('probeTls, implicit TLS', () => {
  const probe = (port: number) => probeTls(labContext(ca), { host: 'outlook.office365.com', port });

  test('a lab certificate for the name is trusted, with its facts', async () => {
    const obs = await probe(await tlsServer(['outlook.office365.com', '*.outlook.office365.com']));
    expect(obs).toMatchObject({ kind: 'tls', ok: true, code: 'OK', starttls: false });
    expect(obs.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(obs.cert).toMatchObject({
      subject: 'CN=outlook.office365.com',
      altNames: ['outlook.office365.com', '*.outlook.office365.com'],
      trusted: true,
    });
    expect(obs.cert?.issuer).toMatch(/CN=ecebot lab CA/);
    expect(obs.cert?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  test('an expired certificate is TLS_CERT_EXPIRED, and still described', async () => {
    const notAfter = new Date(Date.now() - 3 * 86400000);
    const port = await tlsServer(['outlook.office365.com'], {
      notBefore: new Date(Date.now() - 400 * 86400000),
      notAfter,
    });
    const obs = await probe(port);
    expect(obs).toMatchObject({ ok: false, code: 'TLS_CERT_EXPIRED', stage: 'tls' });
    expect(obs.cert).toMatchObject({ trusted: false, verifyError: 'CERT_HAS_EXPIRED' });
    expect(new Date(obs.cert!.validTo).getTime()).toBeLessThan(Date.now());
    expect(obs.cert!.validTo.slice(0, 10)).toBe(notAfter.toISOString().slice(0, 10));
  });

  test('a certificate for another name is TLS_CERT_INVALID, naming what it is for', async () => {
    const obs = await probe(await tlsServer(['mail.contoso.example']));
    expect(obs).toMatchObject({ ok: false, code: 'TLS_CERT_INVALID', stage: 'tls' });
    expect(obs.cert).toMatchObject({
      altNames: ['mail.contoso.example'],
      trusted: false,
      verifyError: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  test('a certificate from a CA nobody trusts is TLS_CERT_INVALID', async () => {
    const stranger = createCa('stranger CA').issue({ names: ['outlook.office365.com'] });
    const server = tls.createServer(tlsOf(stranger), s => s.end());
    server.on('tlsClientError', () => undefined);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
    const obs = await probe((server.address() as AddressInfo).port);
    expect(obs).toMatchObject({ ok: false, code: 'TLS_CERT_INVALID', stage: 'tls' });
    expect(obs.cert?.issuer).toMatch(/stranger CA/);
  });

  test('trust follows the context: without the lab CA the same server is refused', async () => {
    const port = await tlsServer(['outlook.office365.com']);
    expect((await probe(port)).ok).toBe(true);
    const untrusting = await probeTls(labContext(undefined), {
      host: 'outlook.office365.com',
      port,
    });
    expect(untrusting).toMatchObject({ ok: false, code: 'TLS_CERT_INVALID', stage: 'tls' });
    expect(untrusting.cert?.verifyError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('plain text where TLS is expected is TLS_HANDSHAKE_FAILED', async () => {
    const garbage = await keep(startGarbage());
    const obs = await probe(garbage.port);
    expect(obs).toMatchObject({ ok: false, code: 'TLS_HANDSHAKE_FAILED', stage: 'tls' });
  });

  test('a server that accepts and stays silent is a TIMEOUT at tls', async () => {
    const hole = await keep(startBlackhole());
    const obs = await probe(hole.port);
    expect(obs).toMatchObject({ ok: false, code: 'TIMEOUT', stage: 'tls' });
  });

  test('a refused port is CONNECT_REFUSED', async () => {
    const obs = await probe(await refusedPort());
    expect(obs).toMatchObject({ ok: false, code: 'CONNECT_REFUSED', stage: 'connect' });
  });
});

describe('probeTls with SMTP STARTTLS (port 587)', () => {
  async function smtp(hideSTARTTLS: boolean): Promise<number> {
    const server = new SMTPServer({
      ...tlsOf(ca.issue({ names: ['smtp.office365.com'] })),
      hideSTARTTLS,
      authMethods: ['XOAUTH2'],
      logger: false,
      disableReverseLookup: true,
    });
    server.on('error', () => undefined);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
    return (server.server.address() as AddressInfo).port;
  }

  test('banner, EHLO (lines recorded), STARTTLS, then the handshake', async () => {
    const port = await smtp(false);
    const obs = await probeTls(
      labContext(ca),
      { host: 'smtp.office365.com', port },
      { starttls: 'smtp' },
    );
    expect(obs).toMatchObject({ ok: true, starttls: true, stage: 'tls' });
    expect(obs.steps.map(s => s.name)).toEqual([
      'dns',
      'connect',
      'greeting',
      'ehlo',
      'starttls',
      'tls',
    ]);
    expect(obs.steps[3]!.received).toEqual(expect.arrayContaining(['250 STARTTLS']));
    expect(obs.server).toMatch(/^220 /);
    expect(obs.cert?.subject).toBe('CN=smtp.office365.com');
  });

  test('no STARTTLS in EHLO is STARTTLS_UNAVAILABLE', async () => {
    const port = await smtp(true);
    const obs = await probeTls(
      labContext(ca),
      { host: 'smtp.office365.com', port },
      { starttls: 'smtp' },
    );
    expect(obs).toMatchObject({ ok: false, code: 'STARTTLS_UNAVAILABLE', stage: 'ehlo' });
  });

  test('a silent port is GREETING_TIMEOUT', async () => {
    const hole = await keep(startBlackhole());
    const obs = await probeTls(
      labContext(ca),
      { host: 'smtp.office365.com', port: hole.port },
      { starttls: 'smtp' },
    );
    expect(obs).toMatchObject({ ok: false, code: 'GREETING_TIMEOUT', stage: 'greeting' });
  });
});
