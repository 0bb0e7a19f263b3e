/**
 * A small HTTP CONNECT proxy on 127.0.0.1 for tests (RFC 9110 §9.3.6): it tunnels to the
 * requested authority (names through a hosts map, loopback only), or answers as a corporate
 * proxy does when it will not — 407 with a Basic challenge (RFC 9110 §15.5.8, RFC 7617 §2)
 * when credentials are required and missing or wrong, 403 by policy.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface ProxyOptions {
  /** `user:password` the proxy requires (Basic); unset: no authentication. */
  credentials?: string;
  /** Refuse every CONNECT with 403 Forbidden. */
  forbid?: boolean;
  /** Refuse every CONNECT with this status, e.g. `503 Service Unavailable`. */
  refuse?: string;
  /** Where names go (every name must be here: tests talk only to 127.0.0.1). */
  hosts?: Record<string, string>;
}

export interface RunningProxy {
  port: number;
  url: string;
  /** Every CONNECT received: the authority, and the Proxy-Authorization header if any. */
  requests: { authority: string; auth?: string }[];
  close(): Promise<void>;
}

export async function startConnectProxy(opts: ProxyOptions = {}): Promise<RunningProxy> {
  const requests: RunningProxy['requests'] = [];
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  const open = new Set<net.Socket>();
  server.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    const authority = req.url ?? '';
    const auth = req.headers['proxy-authorization'];
    requests.push({ authority, ...(auth ? { auth } : {}) });
    if (opts.credentials) {
      const want = `Basic ${Buffer.from(opts.credentials).toString('base64')}`;
      if (auth !== want) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\n' +
            'Proxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
    }
    const refuse = opts.refuse ?? (opts.forbid ? '403 Forbidden' : undefined);
    if (refuse) {
      client.end(`HTTP/1.1 ${refuse}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const m = /^(.+):(\d+)$/.exec(authority);
    const address = m ? (opts.hosts?.[m[1]!.toLowerCase()] ?? m[1]!) : '';
    if (!m || address !== '127.0.0.1') {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect({ host: address, port: Number(m[2]) }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>(resolve => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>(resolve => s.close(() => resolve()));
  return port;
}
