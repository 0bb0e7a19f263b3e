/**
 * The dns family: each published lookup failure is reproduced with a local DNS responder
 * (test/probes/support/dns-responder.ts) answering NXDOMAIN, SERVFAIL or nothing for the name,
 * observed by the real DNS probe, judged by the network rule.
 */
import { probeDns } from '../../src/probes/dns';
import { startDnsResponder, type DnsResponder } from '../probes/support/dns-responder';
import { labContext } from '../probes/support/context';
import { fixMatches, loadFamily, type Signature } from './corpus';
import { judgeFromServices, remediationText } from './drive';

let responder: DnsResponder | undefined;
afterEach(async () => {
  await responder?.close();
  responder = undefined;
});

describe.each(loadFamily('dns').map(s => [s.id, s] as [string, Signature]))('%s', (_id, sig) => {
  test('the probe reproduces it, the rule names the item and code, the fix is the source’s', async () => {
    const c = sig.context as { host: string; answer: 'nxdomain' | 'servfail' | 'silent' };
    responder = await startDnsResponder({ [c.answer]: [c.host] });
    // No hosts map: the name goes to the responder, as it would go to the server's DNS.
    const ctx = labContext(undefined, {
      hosts: {},
      dnsServers: [responder.server],
      deadlines: { dnsMs: 700 },
    });
    const obs = await probeDns(ctx, c.host);
    expect(responder.asked).toContain(c.host);
    expect(obs.code).toBe(sig.expect.code);
    const f = judgeFromServices(obs);
    expect(f).toMatchObject({ item: sig.expect.item, status: 'fail' });
    expect(fixMatches(remediationText(f, sig.expect.code!), sig.expect)).toEqual({
      missing: [],
      forbidden: [],
    });
  });
});
