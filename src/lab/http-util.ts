/**
 * Small helpers shared by the lab's HTTPS servers (Graph, Exchange admin API, ECE web): listen on
 * loopback with a certificate from the lab CA, read a request body under a size limit, answer
 * JSON, and take the bearer token from the Authorization header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Issued } from './ca';
import type { RunningServer } from './server-types';

/** The certificate and key a lab HTTPS server presents (what `createCa().issue()` returns). */
export type ServerTls = Pick<Issued, 'keyPem' | 'certPem'>;

/** A request handler; it may be async. A throw becomes a 500 (or 413 for an oversized body). */
export type LabHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Default cap on request bodies: InvokeCommand bodies are a few hundred bytes. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Thrown by `readBody` when the body exceeds its limit; the server answers 413. */
export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body larger than ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Read the whole request body as UTF-8, refusing more than `limitBytes` so a runaway client
 * cannot make the lab buffer without bound.
 */
export function readBody(req: IncomingMessage, limitBytes = DEFAULT_BODY_LIMIT): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        // Stop buffering but keep draining, so the 413 can still be written on this socket.
        chunks.length = 0;
        reject(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', err => {
      if (!failed) reject(err);
    });
  });
}

/** Answer with a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Answer with an HTML page (HEAD gets the headers only, RFC 9110 §9.3.2). */
export function sendHtml(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  html: string,
): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(html)),
  });
  res.end(req.method === 'HEAD' ? undefined : html);
}

/** Answer with no body at all (e.g. a 401 that says everything in WWW-Authenticate). */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-length': '0', ...headers });
  res.end();
}

/**
 * The bearer token of an `Authorization: Bearer <token>` header, or undefined. The scheme name
 * is case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1).
 */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** The request path without its query string, and the parsed query. */
export function splitUrl(req: IncomingMessage): { path: string; query: URLSearchParams } {
  // The base only gives URL a scheme to parse against; the host is never contacted.
  const url = new URL(req.url ?? '/', 'https://lab.invalid');
  return { path: url.pathname, query: url.searchParams };
}

/**
 * Start an HTTPS server on 127.0.0.1 (port 0: a free one) presenting `tls`. Errors a handler
 * throws become a 500 so one bad request never takes the lab down; `close()` also ends
 * keep-alive connections so tests can stop it promptly.
 */
export function startHttpsServer(
  tls: ServerTls,
  handler: LabHandler,
  port = 0,
): Promise<RunningServer> {
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof BodyTooLargeError) {
          sendJson(res, 413, { error: { code: 'RequestEntityTooLarge', message: err.message } });
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        sendJson(res, 500, { error: { code: 'InternalServerError', message } });
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({
        host: '127.0.0.1',
        port: address.port,
        close: () =>
          new Promise<void>(done => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
