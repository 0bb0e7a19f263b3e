/**
 * HTTPS through an HTTP proxy: an HTTP CONNECT tunnel (RFC 9110 §9.3.6) to the proxy, then TLS
 * end to end with the real server over the tunnel, with the normal certificate checks (the
 * proxy never sees inside). Used for every HTTPS call ECE makes and ecebot imitates: the token
 * endpoint (msal's network client), Graph, the Exchange admin API and the ECE external URL.
 * Mail ports (587, 993, 995) never go through an HTTP proxy.
 *
 * What the proxy answers decides the code, so that a fix says "the proxy refused", never "a
 * firewall drops the packets":
 * - no route to the proxy (name, refused, silent) → PROXY_UNREACHABLE;
 * - 407 Proxy Authentication Required (RFC 9110 §15.5.8) → PROXY_AUTH_REQUIRED;
 * - any other non-2xx answer to CONNECT (403 by policy, 502 upstream failure) → PROXY_REFUSED.
 *
 * Proxy credentials are secrets: they travel only in the Proxy-Authorization header (Basic,
 * RFC 7617), are added to the redactor, and every place that shows the proxy shows its origin.
 */
import http from 'node:http';
import net from 'node:net';
import type { Code } from '../model';
import type { HostPort, ProbeContext, ProxyConfig } from './context';
import { ResolveError, resolveHost } from './net';
import { hostPort, type ProbeRun } from './tcp';

/** The proxy could not give a tunnel; `code` is a registry code. */
export class ProxyError extends Error {
  constructor(
    message: string,
    readonly code: Code,
    /** The proxy's status line and the headers that explain it, when it answered. */
    readonly answer: string[] = [],
    readonly sysCode?: string,
  ) {
    super(message);
    this.name = 'ProxyError';
  }
}

/** Thrown by parseProxyUrl for a value that is not a usable proxy URL. */
export class ProxyUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyUrlError';
  }
}

/**
 * Parse `http://[user:password@]host[:port]`. Only `http:` proxies: the tunnel to the proxy is
 * plain HTTP, TLS runs inside it. The message of a ProxyUrlError never repeats the value (it
 * may hold a password).
 */
export function parseProxyUrl(
  text: string,
  source: ProxyConfig['source'],
  noProxy: string[] = [],
): ProxyConfig {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    throw new ProxyUrlError('is not a URL like http://proxy.example.com:3128');
  }
  if (url.protocol !== 'http:') {
    throw new ProxyUrlError(
      `uses ${url.protocol.replace(/:$/, '')}://; ecebot talks to the proxy with http:// (the TLS to Microsoft runs inside the tunnel)`,
    );
  }
  if (!url.hostname) throw new ProxyUrlError('names no proxy host');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw new ProxyUrlError('must be only scheme, host and port (no path)');
  }
  // RFC 9110 §4.2.1: http without a port means 80.
  const port = Number(url.port || 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const config: ProxyConfig = {
    origin: `http://${url.host}`,
    host,
    port,
    noProxy,
    source,
  };
  if (url.username || url.password) {
    config.credentials = {
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
  }
  return config;
}

/** NO_PROXY's comma- or space-separated entries, lower-case (curl's and most tools' format). */
export function parseNoProxy(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[,\s]+/)
    .map(e => e.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Whether `target` is reached directly: `*` matches everything; `example.com`, `.example.com`
 * and `*.example.com` match the name and its subdomains; `host:port` only that port; an IP
 * literal only itself.
 */
export function bypassesProxy(noProxy: readonly string[], target: HostPort): boolean {
  const host = target.host.toLowerCase().replace(/\.$/, '');
  return noProxy.some(raw => {
    if (raw === '*') return true;
    let entry = raw;
    const port = /^(.*[^:]):(\d+)$/.exec(entry);
    if (port && !net.isIPv6(entry)) {
      if (Number(port[2]) !== target.port) return false;
      entry = port[1]!;
    }
    entry = entry.replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
    if (!entry) return false;
    return host === entry || (!net.isIP(entry) && host.endsWith(`.${entry}`));
  });
}

/** The proxy for an HTTPS connection to `target` from `ctx`, unless NO_PROXY exempts it. */
export function proxyFor(ctx: ProbeContext, target: HostPort): ProxyConfig | undefined {
  const p = ctx.proxy;
  if (!p || bypassesProxy(p.noProxy, target)) return undefined;
  return p;
}

/** The secret strings of a proxy setting, for a redactor: the password and the Basic token. */
export function proxySecrets(p: ProxyConfig | undefined): string[] {
  if (!p?.credentials) return [];
  const { user, password } = p.credentials;
  return [password, basicToken(user, password)].filter(s => s.length >= 4);
}

function basicToken(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

/** The request lines we send, as a transcript shows them (credentials never). */
export function connectLines(p: ProxyConfig, target: HostPort): string[] {
  const authority = hostPort(target);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (p.credentials) lines.push('Proxy-Authorization: Basic [redacted]');
  return lines;
}

/** Deadlines for one tunnel: the proxy's name, TCP to it, and its answer to CONNECT. */
export interface TunnelDeadlines {
  dnsMs: number;
  connectMs: number;
  answerMs: number;
}

/**
 * Open a CONNECT tunnel through `p` to `target`. Resolves with the connected socket (raw bytes
 * to and from the target) and the proxy's status line; rejects with a ProxyError.
 */
export async function openTunnel(
  ctx: ProbeContext,
  p: ProxyConfig,
  target: HostPort,
  ms: TunnelDeadlines,
): Promise<{ socket: net.Socket; statusLine: string }> {
  let address: string;
  try {
    address = (
      await resolveHost({ ...ctx, deadlines: { ...ctx.deadlines, dnsMs: ms.dnsMs } }, p.host)
    ).addresses[0]!;
  } catch (err) {
    const why = err instanceof ResolveError ? err.message : String(err);
    throw new ProxyError(`the proxy ${p.origin} cannot be reached: ${why}`, 'PROXY_UNREACHABLE');
  }
  const authority = hostPort(target);
  const headers: Record<string, string> = { host: authority };
  if (p.credentials) {
    headers['proxy-authorization'] =
      `Basic ${basicToken(p.credentials.user, p.credentials.password)}`;
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request({
      host: address,
      port: p.port,
      method: 'CONNECT',
      path: authority,
      headers,
      // One connection for this tunnel only: a pooled socket would already be someone's tunnel.
      agent: false,
    });
    const fail = (e: ProxyError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    let timer = setTimeout(
      () =>
        fail(
          new ProxyError(
            `no TCP connection to the proxy ${p.origin} within ${ms.connectMs} ms`,
            'PROXY_UNREACHABLE',
          ),
        ),
      ms.connectMs,
    );
    let connected = false;
    req.once('socket', (s: net.Socket) => {
      s.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            fail(
              new ProxyError(
                `the proxy ${p.origin} did not answer CONNECT ${authority} within ${ms.answerMs} ms`,
                'PROXY_UNREACHABLE',
              ),
            ),
          ms.answerMs,
        );
      });
    });
    req.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const status = res.statusCode ?? 0;
      const statusLine = `HTTP/${res.httpVersion} ${status} ${res.statusMessage ?? ''}`.trim();
      // RFC 9110 §9.3.6: any 2xx to CONNECT means the tunnel is open.
      if (status >= 200 && status < 300) {
        if (settled) {
          socket.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (head.length) socket.unshift(head);
        resolve({ socket, statusLine });
        return;
      }
      socket.destroy();
      const answer = [statusLine];
      const challenge = res.headers['proxy-authenticate'];
      // The schemes the proxy asks for (Basic, NTLM, Negotiate) tell the operator what it wants.
      for (const c of Array.isArray(challenge) ? challenge : challenge ? [challenge] : []) {
        answer.push(`Proxy-Authenticate: ${c}`);
      }
      const code: Code = status === 407 ? 'PROXY_AUTH_REQUIRED' : 'PROXY_REFUSED';
      const why =
        status === 407
          ? p.credentials
            ? 'refused the credentials given (407)'
            : 'wants credentials (407) and none were given'
          : `refused CONNECT ${authority} (${status})`;
      fail(new ProxyError(`the proxy ${p.origin} ${why}`, code, answer));
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      // A connection that fails or closes before any answer: refused or unreachable proxy, or
      // one that hung up on the CONNECT (a refusal without words).
      const before = !connected;
      fail(
        new ProxyError(
          before
            ? `the proxy ${p.origin} cannot be reached: ${err.code ?? err.message}`
            : `the proxy ${p.origin} closed the connection without answering CONNECT ${authority} (${err.code ?? err.message})`,
          before ? 'PROXY_UNREACHABLE' : 'PROXY_REFUSED',
          [],
          err.code,
        ),
      );
    });
    req.end();
  });
}

/**
 * The `proxy` step of a probe: a CONNECT tunnel to `target` under the probe's deadlines (DNS and
 * connect for the proxy, a command's time for its answer). Resolves with the tunnel socket
 * (owned by the run), or undefined after recording the proxy's refusal.
 */
export async function tunnelStep(
  run: ProbeRun,
  p: ProxyConfig,
  target: HostPort,
): Promise<net.Socket | undefined> {
  const step = run.open('proxy');
  step.sent.push(...connectLines(p, target));
  const { dnsMs, connectMs, commandMs } = run.ctx.deadlines;
  try {
    const t = await openTunnel(run.ctx, p, target, { dnsMs, connectMs, answerMs: commandMs });
    run.own(t.socket);
    t.socket.on('error', () => undefined);
    step.received.push(t.statusLine);
    step.finish({
      ok: true,
      note: `tunnel to ${hostPort(target)} through ${p.origin} (${p.source === 'inventory' ? 'endpoints.proxy' : 'HTTPS_PROXY'})`,
    });
    return t.socket;
  } catch (err) {
    const e = err instanceof ProxyError ? err : new ProxyError(String(err), 'CHECK_CRASHED', []);
    step.received.push(...e.answer);
    step.finish({ ok: false, code: e.code, note: e.message });
    return undefined;
  }
}
