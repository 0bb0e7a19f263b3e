/**
 * A small HTTPS JSON client for Graph, the Exchange admin API and msal's network module: the
 * CA from the context (never a global switch), the hosts map, and one deadline per request.
 * It never throws for an HTTP status; it throws only when no answer came (network, TLS, timeout),
 * with a registry code on the error.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Code } from '../model';
import { trustOptions, type HostPort, type ProbeContext } from './context';
import { networkCode } from './mail-codes';
import { isIP, type Socket } from 'node:net';
import { resolveHost, type ResolveError } from './net';
import { openTunnel, proxyFor, type ProxyError } from './proxy';
import { ECEBOT_USER_AGENT } from '../model';

/** One HTTP answer. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body text. */
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
}

/** Network-level failure: no HTTP answer at all. */
export class HttpNetworkError extends Error {
  constructor(
    message: string,
    readonly code: Code,
    readonly sysCode?: string,
  ) {
    super(message);
    this.name = 'HttpNetworkError';
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  target: HostPort;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Deadline for the whole exchange; defaults to ctx.deadlines.commandMs. */
  timeoutMs?: number;
}

/**
 * Read one reply whole: its body as text, and as JSON when it parses (an error page is not JSON;
 * the caller decides what a status means). A body that breaks off is a network failure.
 */
function readReply(
  res: http.IncomingMessage,
  req: HttpRequest,
  on: {
    done: () => void;
    resolve: (a: HttpAnswer) => void;
    reject: (e: HttpNetworkError) => void;
  },
): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => {
    on.done();
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    on.resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
  });
  res.on('error', (err: NodeJS.ErrnoException) => {
    on.done();
    on.reject(
      new HttpNetworkError(
        `response from ${req.target.host} broke: ${err.message}`,
        networkCode(err.code),
        err.code,
      ),
    );
  });
}

/**
 * Perform one HTTPS request with the context's CA, hosts map and deadline. The name is resolved
 * first (hosts map, then DNS) and the socket goes to the address, with the real name as TLS
 * servername and Host header, so the certificate is checked against the name.
 */
export async function httpsRequest(ctx: ProbeContext, req: HttpRequest): Promise<HttpAnswer> {
  const proxy = proxyFor(ctx, req.target);
  if (proxy) return proxiedRequest(ctx, req, proxy);
  const timeoutMs = req.timeoutMs ?? ctx.deadlines.commandMs;
  let address: string;
  try {
    address = (await resolveHost(ctx, req.target.host)).addresses[0]!;
  } catch (err) {
    const e = err as ResolveError;
    throw new HttpNetworkError(e.message, e.code, e.sysCode);
  }
  return new Promise((resolve, reject) => {
    const headers = headersOf(req);
    const r = https.request(
      {
        method: req.method,
        host: address,
        port: req.target.port,
        path: req.path,
        headers,
        servername: isIP(req.target.host) ? undefined : req.target.host,
        // Extra CAs for these requests only, on top of Node's bundled roots.
        ...trustOptions(ctx),
        // The part's keep-alive agent when there is one (ProbeContext.agent), else a new
        // connection for this request.
        agent: ctx.agent ?? false,
      },
      res =>
        readReply(res, req, {
          done: () => clearTimeout(timer),
          resolve,
          reject,
        }),
    );
    const timer = setTimeout(() => {
      r.destroy(
        new HttpNetworkError(
          `no answer from ${req.target.host}:${req.target.port} within ${timeoutMs} ms`,
          'TIMEOUT',
        ),
      );
    }, timeoutMs);
    r.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err instanceof HttpNetworkError) return reject(err);
      reject(
        new HttpNetworkError(
          `${req.method} https://${req.target.host}:${req.target.port}${req.path.split('?')[0]} failed: ${err.code ?? err.message}`,
          networkCode(err.code),
          err.code,
        ),
      );
    });
    r.end(req.body);
  });
}

/** The request headers every exchange sends (Host, our user agent, the body's length). */
function headersOf(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = {
    host: req.target.port === 443 ? req.target.host : `${req.target.host}:${req.target.port}`,
    // Entra's sign-in log keeps each sign-in's user agent (Graph signIn `userAgent`): ecebot's
    // own token redemptions say who they are, so they are never taken for ECE's.
    'user-agent': ECEBOT_USER_AGENT,
    ...(req.headers ?? {}),
  };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return headers;
}

/**
 * One request through the HTTP proxy: CONNECT tunnel, then our own TLS handshake with the real
 * server inside it (SNI, the context's CA, Node's certificate checks), then HTTP over that.
 * One deadline, the request's, covers the whole exchange; the keep-alive agent is not used (a
 * tunnel belongs to one request here).
 */
async function proxiedRequest(
  ctx: ProbeContext,
  req: HttpRequest,
  proxy: NonNullable<ProbeContext['proxy']>,
): Promise<HttpAnswer> {
  const timeoutMs = req.timeoutMs ?? ctx.deadlines.commandMs;
  const started = Date.now();
  const left = (): number => Math.max(timeoutMs - (Date.now() - started), 1);
  let tunnel: Socket;
  try {
    tunnel = (
      await openTunnel(ctx, proxy, req.target, {
        dnsMs: Math.min(ctx.deadlines.dnsMs, left()),
        connectMs: Math.min(ctx.deadlines.connectMs, left()),
        answerMs: left(),
      })
    ).socket;
  } catch (err) {
    const e = err as ProxyError;
    throw new HttpNetworkError(
      `${req.method} https://${req.target.host}:${req.target.port}${req.path.split('?')[0]} failed: ${e.message}${e.answer.length ? ` (${e.answer[0]})` : ''}`,
      e.code,
      e.sysCode,
    );
  }
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: tunnel,
      ...(isIP(req.target.host) ? {} : { servername: req.target.host }),
      ...trustOptions(ctx),
    });
    const r = http.request(
      {
        method: req.method,
        path: req.path,
        headers: headersOf(req),
        // The TLS session is ours, inside the tunnel; HTTP rides on it (no agent: with one,
        // Node would ignore createConnection and dial on its own).
        createConnection: () => secure,
      },
      res =>
        readReply(res, req, {
          done: () => {
            clearTimeout(timer);
            secure.destroy();
          },
          resolve,
          reject,
        }),
    );
    const timer = setTimeout(() => {
      r.destroy(
        new HttpNetworkError(
          `no answer from ${req.target.host}:${req.target.port} through ${proxy.origin} within ${timeoutMs} ms`,
          'TIMEOUT',
        ),
      );
      secure.destroy();
    }, left());
    r.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      secure.destroy();
      if (err instanceof HttpNetworkError) return reject(err);
      reject(
        new HttpNetworkError(
          `${req.method} https://${req.target.host}:${req.target.port}${req.path.split('?')[0]} through ${proxy.origin} failed: ${err.code ?? err.message}`,
          networkCode(err.code),
          err.code,
        ),
      );
    });
    r.end(req.body);
  });
}
