/**
 * The HTTPS probe: can this vantage point open the ECE external URL, with a certificate Node
 * trusts for its name (checklist item `external-url`)? One GET, no redirects followed: the
 * status and Location are reported as the server sent them.
 *
 * Steps: dns, connect, tls (certificate facts even when refused), request (time to the status
 * line). `connectTo` sends the connection elsewhere (a lab server, a load-balancer node) while
 * the URL's host stays the SNI name, the name checked in the certificate and the Host header.
 */
import http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { HostPort, ProbeContext } from './context';
import { socketCode } from './mail-codes';
import { proxyFor, tunnelStep } from './proxy';
import { ProbeRun, connectStep, resolveStep, runGuarded } from './tcp';
import { tlsStep } from './tls';
import type { CertFacts, HttpsObservation } from '../model';

/** Options for probeHttps. */
export interface HttpsProbeOptions {
  /** Connect here instead of the URL's host and port (the URL still names the server). */
  connectTo?: HostPort;
}

/** What the GET returned. */
interface HttpsFacts {
  status?: number;
  location?: string;
  statusLine?: string;
  cert?: CertFacts;
}

/** The `request` step: GET over the established TLS session, until the status line arrives. */
function request(run: ProbeRun, socket: TLSSocket, url: URL, facts: HttpsFacts): Promise<void> {
  const ms = run.ctx.deadlines.commandMs;
  const path = `${url.pathname || '/'}${url.search}`;
  const step = run.open('request', `GET ${path} HTTP/1.1\nHost: ${url.host}`);
  return new Promise(resolve => {
    const req = http.request({
      method: 'GET',
      path,
      headers: { host: url.host, 'user-agent': 'ecebot', accept: '*/*', connection: 'close' },
      // The TLS session is ours (its certificate was checked in the tls step); HTTP rides on it.
      // No `agent` option: with one, Node ignores createConnection and dials on its own.
      createConnection: () => socket,
    });
    const timer = setTimeout(() => {
      req.destroy();
      step.finish({ ok: false, code: 'TIMEOUT', note: `no HTTP status line within ${ms} ms` });
      resolve();
    }, ms);
    req.once('response', res => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      facts.status = status;
      facts.statusLine = `HTTP/${res.httpVersion} ${status} ${res.statusMessage ?? ''}`.trim();
      step.received.push(facts.statusLine);
      const location = res.headers.location;
      if (location) {
        facts.location = location;
        step.received.push(`Location: ${location}`);
      }
      res.destroy();
      // RFC 9110 §15: 2xx and 3xx mean the server handled the request; 4xx and 5xx do not.
      const ok = status >= 200 && status < 400;
      step.finish(ok ? { ok } : { ok, code: 'HTTP_ERROR' });
      resolve();
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      step.finish({ ok: false, code: socketCode(err.code), note: err.message });
      resolve();
    });
    req.end();
  });
}

/** GET `url` and report status, Location, certificate and timings. */
export async function probeHttps(
  ctx: ProbeContext,
  url: string,
  opts: HttpsProbeOptions = {},
): Promise<HttpsObservation> {
  const run = new ProbeRun(ctx);
  const facts: HttpsFacts = {};
  let proxied: string | undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  await runGuarded(run, async () => {
    if (!parsed || parsed.protocol !== 'https:') {
      run.open('url', url).finish({
        ok: false,
        code: 'PROTOCOL_ERROR',
        note: parsed ? `not an https URL (${parsed.protocol})` : 'not a URL',
      });
      return;
    }
    // URL.hostname keeps IPv6 brackets; the certificate and SNI want the bare name.
    const name = parsed.hostname.replace(/^\[|\]$/g, '');
    const where = opts.connectTo ?? { host: name, port: Number(parsed.port || 443) };
    // Through the HTTP proxy when one is set for this host (NO_PROXY exempts internal names):
    // the tunnel goes where a direct connection would, TLS stays end to end.
    const proxy = proxyFor(ctx, where);
    let plain: Awaited<ReturnType<typeof connectStep>>;
    if (proxy) {
      proxied = proxy.origin;
      plain = await tunnelStep(run, proxy, where);
    } else {
      const resolution = await resolveStep(run, where.host);
      if (!resolution) return;
      plain = await connectStep(run, resolution.addresses[0]!, where.port);
    }
    if (!plain) return;
    const tls = await tlsStep(run, plain, name);
    if (tls.cert) facts.cert = tls.cert;
    if (!tls.socket) return;
    await request(run, tls.socket, parsed, facts);
    tls.socket.destroy();
  });
  const success: { stage: string; server?: string } = { stage: 'request' };
  if (facts.statusLine) success.server = facts.statusLine;
  const obs: HttpsObservation = {
    ...run.base('https', url, success),
    kind: 'https',
    url,
  };
  if (facts.status !== undefined) obs.status = facts.status;
  if (facts.location) obs.location = facts.location;
  if (facts.cert) obs.cert = facts.cert;
  if (proxied) obs.proxy = proxied;
  return obs;
}
