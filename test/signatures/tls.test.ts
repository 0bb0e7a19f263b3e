/**
 * The tls family: each published TLS failure is reproduced against a local TLS server made to
 * fail the same way (wrong or unknown CA, expired certificate, a server capped at TLS 1.1, a
 * reset during the handshake), observed by the real TLS probe, judged by the network rule.
 */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { probeTls } from '../../src/probes/tls';
import { createCa, labContext } from '../probes/support/context';
import { fixMatches, loadFamily, type Signature } from './corpus';
import { judgeFromServices, remediationText } from './drive';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
});

const DAY = 86_400_000;

/** Host by port, as ECE reaches them (checklist.md item 8). */
const HOST: Record<number, string> = {
  443: 'login.microsoftonline.com',
  993: 'outlook.office365.com',
};

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A server failing as the signature's `chain` says; returns its port and the CA to trust. */
async function failingServer(chain: string, host: string): Promise<{ port: number; ca?: string }> {
  const root = createCa('Contoso Root CA');
  const quiet = (s: tls.Server): tls.Server => s.on('tlsClientError', () => undefined);
  switch (chain) {
    case 'leaf+intermediate': {
      // An enterprise (or TLS-inspecting) PKI: the server sends its issuing CA, whose root the
      // client was never given.
      const issuing = createCa('Contoso Issuing CA', root);
      const leaf = issuing.issue({ names: [host] });
      const port = await listen(
        quiet(
          tls.createServer({ key: leaf.keyPem, cert: leaf.certPem + issuing.certPem }, s =>
            s.end(),
          ),
        ),
      );
      return { port };
    }
    case 'leaf+root': {
      const leaf = root.issue({ names: [host] });
      const port = await listen(
        quiet(
          tls.createServer({ key: leaf.keyPem, cert: leaf.certPem + root.certPem }, s => s.end()),
        ),
      );
      return { port };
    }
    case 'expired': {
      const leaf = root.issue({
        names: [host],
        notBefore: new Date(Date.now() - 30 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      const port = await listen(
        quiet(tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, s => s.end())),
      );
      return { port, ca: root.certPem };
    }
    case 'tls1.1-only': {
      // Node 20's OpenSSL needs security level 0 for TLS 1.0/1.1 (nodejs/node#49210).
      const leaf = root.issue({ names: [host] });
      const port = await listen(
        quiet(
          tls.createServer(
            {
              key: leaf.keyPem,
              cert: leaf.certPem,
              minVersion: 'TLSv1',
              maxVersion: 'TLSv1.1',
              ciphers: 'DEFAULT@SECLEVEL=0',
            },
            s => s.end(),
          ),
        ),
      );
      return { port, ca: root.certPem };
    }
    case 'reset': {
      // Accepts TCP, then resets the connection when the ClientHello arrives.
      const server = net.createServer(s => {
        s.on('error', () => undefined);
        s.once('data', () => s.resetAndDestroy());
      });
      return { port: await listen(server), ca: root.certPem };
    }
    default:
      throw new Error(`unknown chain ${chain}`);
  }
}

describe.each(loadFamily('tls').map(s => [s.id, s] as [string, Signature]))('%s', (_id, sig) => {
  test('the probe reproduces it, the rule names the item and code, the fix is the source’s', async () => {
    const c = sig.context as { nodeCode: string; chain: string; port: number };
    const host = HOST[c.port]!;
    const { port, ca } = await failingServer(c.chain, host);
    const ctx = labContext(undefined, ca ? { ca } : {});
    const obs = await probeTls(ctx, { host, port }, { https: c.port === 443 });
    // Node reported the same error the source quotes.
    expect(obs.steps.find(s => s.name === 'tls')?.note).toContain(c.nodeCode);
    expect(obs.code).toBe(sig.expect.code);
    const f = judgeFromServices(obs);
    expect(f).toMatchObject({ item: sig.expect.item, status: 'fail' });
    expect(f.codes).toContain(sig.expect.code);
    expect(fixMatches(remediationText(f, sig.expect.code!), sig.expect)).toEqual({
      missing: [],
      forbidden: [],
    });
  });
});
