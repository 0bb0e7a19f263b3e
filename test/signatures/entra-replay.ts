/**
 * A replaying Entra for the signature corpus: a real HTTPS server on 127.0.0.1 with a certificate
 * for login.microsoftonline.com from a fresh lab CA, that answers msal's discovery and then the
 * one error body a published signature shows, so ecebot's token code (src/probes/entra.ts, through
 * msal-node) reads it as it would read Entra's. It is a replay, not the lab: nothing is decided
 * here, the body is the source's.
 *
 * Shapes: the OpenID configuration keys msal reads (OpenID Connect Discovery 1.0 §3, as Entra
 * publishes them: o365-facts.md §2.1); error bodies go out as JSON with the status the source
 * gives (400 for invalid_grant/invalid_request, 401 for invalid_client: RFC 6749 §5.2).
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCa } from '../../src/lab/ca';
import { DEFAULT_DEADLINES, type ProbeContext } from '../../src/probes/context';
import type { EntraTarget } from '../../src/probes/entra';
import { Redactor } from '../../src/util/redact';

export const LOGIN = 'login.microsoftonline.com';

/** One answer to replay: where (discovery or token endpoint), the status and the JSON body. */
export interface Replay {
  stage: 'discovery' | 'token';
  status: number;
  body: Record<string, unknown>;
}

export interface EntraReplay {
  ctx: ProbeContext;
  target: EntraTarget;
  /** The answer the next flow gets. */
  set(r: Replay): void;
  /** Token requests received since `set` (form bodies), to show msal did ask. */
  tokenRequests: string[];
  close(): Promise<void>;
}

export const TENANT = '00000000-0000-0000-0000-000000000000';

export async function startEntraReplay(): Promise<EntraReplay> {
  const ca = createCa();
  const leaf = ca.issue({ names: [LOGIN] });
  let replay: Replay | undefined;
  const tokenRequests: string[] = [];
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const origin = `https://${req.headers.host ?? LOGIN}`;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      if (path.endsWith('/v2.0/.well-known/openid-configuration')) {
        if (replay?.stage === 'discovery') return send(replay.status, replay.body);
        const base = `${origin}/${TENANT}`;
        return send(200, {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
          jwks_uri: `${base}/discovery/v2.0/keys`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          issuer: `${origin}/${TENANT}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          tenant_region_scope: 'WW',
          cloud_instance_name: 'microsoftonline.com',
          msgraph_host: 'graph.microsoft.com',
        });
      }
      if (path.endsWith('/oauth2/v2.0/token') && replay) {
        tokenRequests.push(Buffer.concat(chunks).toString('utf8'));
        return send(replay.status, replay.body);
      }
      return send(404, { error: 'not_found' });
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    ctx: {
      vantage: 'services-1',
      deadlines: DEFAULT_DEADLINES,
      ca: ca.certPem,
      hosts: { [LOGIN]: '127.0.0.1' },
      redactor: new Redactor(),
    },
    target: { login: { host: LOGIN, port }, tenantId: TENANT },
    set(r) {
      replay = r;
      tokenRequests.length = 0;
    },
    tokenRequests,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}

/**
 * The body a signature stands for: the published JSON body itself, or, where the source shows
 * only the error_description line, that line as Entra's `error_description` beside the OAuth
 * `error` the source names. No `error_codes` is added: the number must come from the text, as
 * ecebot's parser finds it.
 */
export function bodyOf(
  text: string,
  context: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as Record<string, unknown>;
  const error = typeof context?.error === 'string' ? context.error : 'invalid_request';
  return { error, error_description: text };
}
