/**
 * The ECE external URL behind an enterprise CA (checklist item 2): a chain that verifies with
 * the CA given in endpoints.caFile passes; a current certificate for the right name whose CA
 * ecebot was not given gets ECE_EXTERNAL_URL_CA_UNKNOWN ("add your CA"), while an expired or
 * wrong-name certificate keeps ECE_EXTERNAL_URL_CERT ("install a current certificate"), whoever
 * the CA is. Real HTTPS servers, the real probe, the real rule.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { externalUrl } from '../../src/checklist/external-url';
import { probeHttps } from '../../src/probes/https';
import type { Observation } from '../../src/model';
import { facts } from '../checklist/fixtures';
import { createCa, labContext } from './support/context';

const root = createCa('Contoso Root CA');
const issuing = createCa('Contoso Issuing CA', root);
const DAY = 86_400_000;
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map(c => c()));
});

/** An ECE web server presenting `leaf` with the issuing CA, as enterprise web servers do. */
async function ece(opts: { names?: string[]; expired?: boolean } = {}): Promise<number> {
  const leaf = issuing.issue({
    names: opts.names ?? ['ece.example.com'],
    ...(opts.expired
      ? { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }
      : {}),
  });
  const server = https.createServer(
    { key: leaf.keyPem, cert: leaf.certPem + issuing.certPem },
    (_req, res) =>
      res.writeHead(302, { location: '/default/web/view/platform/common/login/root.jsp' }).end(),
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>(resolve => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** The external-url finding for the URL as seen from both lab servers. */
async function judge(port: number, ca: string | undefined) {
  const url = `https://ece.example.com:${port}/`;
  const ctx = labContext(undefined, ca ? { ca } : {});
  const obs = await probeHttps(ctx, url);
  const observations = ['services-1', 'app-1'].map(
    v => ({ ...obs, vantage: v, read: 'external-url' }) as Observation,
  );
  const env = facts({ ece: { version: '12.6(1)', es: 1, externalUrl: url } });
  return { obs, f: externalUrl({ env, observations, now: new Date() }) };
}

test('a chain that verifies with the CA from endpoints.caFile passes', async () => {
  const { f } = await judge(await ece(), root.certPem);
  expect(f).toMatchObject({ status: 'pass', code: 'OK' });
});

test('the same chain without that CA: ECE_EXTERNAL_URL_CA_UNKNOWN, and the fix is the caFile', async () => {
  const { obs, f } = await judge(await ece(), undefined);
  expect(obs.cert).toMatchObject({
    trusted: false,
    verifyError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  });
  expect(f).toMatchObject({ status: 'fail', code: 'ECE_EXTERNAL_URL_CA_UNKNOWN' });
  const r = f.remediation.find(x => x.code === 'ECE_EXTERNAL_URL_CA_UNKNOWN');
  expect(`${r?.text} ${r?.fix}`).toContain('endpoints.caFile');
  expect(r?.text).not.toContain('install a current certificate');
});

test.each`
  what                  | opts
  ${'expired'}          | ${{ expired: true }}
  ${'for another name'} | ${{ names: ['ece-old.example.com'] }}
`('a certificate $what from that unknown CA stays ECE_EXTERNAL_URL_CERT', async ({ opts }) => {
  const { f } = await judge(await ece(opts), undefined);
  expect(f).toMatchObject({ status: 'fail', code: 'ECE_EXTERNAL_URL_CERT' });
  expect(f.remediation[0]?.text).toContain('install a current certificate');
});
