/**
 * The lab's ECE web server at the external URL (checklist item 2, "External URL of the
 * application"): just enough of ECE's web tier for ecebot to open the login page, the admin
 * console and the OAuth2 redirect target over HTTPS with the certificate the scenario gives it
 * (its own name from the lab CA, or an expired one).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendHtml, splitUrl, startHttpsServer, type ServerTls } from './http-util';
import type { RunningServer } from './server-types';

/** Options for `startEceServer`. */
export interface EceServerOptions {
  /** Certificate for the external host (e.g. ece.example.com) from the lab CA. */
  tls: ServerTls;
  /** Port on 127.0.0.1; 0 or unset picks a free one. */
  port?: number;
  /** Page title; ECE's own is "Enterprise Chat and Email". */
  title?: string;
}

/** The title ECE's web pages carry. */
export const ECE_TITLE = 'Enterprise Chat and Email';

/** Start the lab ECE web server on 127.0.0.1. */
export function startEceServer(opts: EceServerOptions): Promise<RunningServer> {
  const title = opts.title ?? ECE_TITLE;
  return startHttpsServer(opts.tls, (req, res) => handle(title, req, res), opts.port);
}

function handle(title: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' });
    res.end();
    return;
  }
  const { path } = splitUrl(req);
  // Trailing slashes are tolerated as a web server would; the redirect URI check itself is
  // exact-string and belongs to the app-registration rule, not here.
  switch (path.replace(/\/+$/, '') || '/') {
    case '/':
      return sendHtml(req, res, 200, page(title, 'Sign in', '<form method="post"></form>'));
    case '/system':
      return sendHtml(req, res, 200, page(title, 'Administration console', '<main></main>'));
    case '/system/oauth2/callback':
      // The query (code, state) is never echoed: an authorization code is a secret.
      return sendHtml(
        req,
        res,
        200,
        page(title, 'Authorization received', '<p>You can close this window.</p>'),
      );
    default:
      return sendHtml(req, res, 404, page(title, 'Not found', '<p>Page not found.</p>'));
  }
}

/** A minimal HTML page; the title is escaped since a scenario may set it. */
function page(title: string, heading: string, body: string): string {
  const t = escapeHtml(title);
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${t}</title></head><body><h1>${escapeHtml(heading)}</h1>${body}</body></html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}
