/**
 * A small HTTPS JSON client for Graph, the Exchange admin API and msal's network module: the
 * CA from the context (never a global switch), the hosts map, and one deadline per request.
 * It never throws for an HTTP status; it throws only when no answer came (network, TLS, timeout),
 * with a registry code on the error.
 */
import https from 'node:https';
import type { Code } from '../model';
import { trustOptions, type HostPort, type ProbeContext } from './context';
import { networkCode } from './mail-codes';
import { isIP } from 'node:net';
import { resolveHost, type ResolveError } from './net';
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
 * Perform one HTTPS request with the context's CA, hosts map and deadline. The name is resolved
 * first (hosts map, then DNS) and the socket goes to the address, with the real name as TLS
 * servername and Host header, so the certificate is checked against the name.
 */
export async function httpsRequest(ctx: ProbeContext, req: HttpRequest): Promise<HttpAnswer> {
  const timeoutMs = req.timeoutMs ?? ctx.deadlines.commandMs;
  let address: string;
  try {
    address = (await resolveHost(ctx, req.target.host)).addresses[0]!;
  } catch (err) {
    const e = err as ResolveError;
    throw new HttpNetworkError(e.message, e.code, e.sysCode);
  }
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      host: req.target.port === 443 ? req.target.host : `${req.target.host}:${req.target.port}`,
      // Entra's sign-in log keeps each sign-in's user agent (Graph signIn `userAgent`): ecebot's
      // own token redemptions say who they are, so they are never taken for ECE's.
      'user-agent': ECEBOT_USER_AGENT,
      ...(req.headers ?? {}),
    };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
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
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(
            new HttpNetworkError(
              `response from ${req.target.host} broke: ${err.message}`,
              networkCode(err.code),
              err.code,
            ),
          );
        });
      },
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
