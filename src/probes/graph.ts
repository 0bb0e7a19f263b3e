/**
 * Microsoft Graph reads for the app-registration, license and token items (o365-facts.md
 * §3.1–§3.4), one function per read. Each returns a GraphObservation: the HTTP status, Graph's
 * own `error.code: error.message` when it refused, and the object(s) read, with secrets
 * dropped. A refusal or a network failure is an observation, never a throw.
 *
 * Outcome codes: `OK`; `GRAPH_NOT_FOUND` when a filtered read of one object (application,
 * service principal) finds none or Graph answers 404 (unknown user); `GRAPH_FORBIDDEN` for 403;
 * `GRAPH_NO_PREMIUM` for the 403 a tenant without Entra ID P1 gets on sign-in logs (§3.4);
 * `HTTP_ERROR` for any other status (401 included, with Graph's words in `server`);
 * `PROTOCOL_ERROR` for a 200 that is not Graph JSON; network codes from the HTTPS client.
 * Collection reads (grants, licenses, sign-ins) that find nothing are `OK` with `data: []`:
 * "no consent grant" or "no licence" is a fact for the rules, not a failed read.
 */
import { randomUUID } from 'node:crypto';
import type { Code } from '../knowledge/codes';
import { StepRecorder } from '../util/steps';
import type { HostPort, ProbeContext } from './context';
import { httpsRequest, HttpNetworkError, type HttpAnswer } from './http-client';
import type { GraphObservation } from './types';

/** Graph's endpoint and the app-only access token for it (audience https://graph.microsoft.com). */
export interface GraphTarget {
  graph: HostPort;
  token: string;
}

/** The Graph error code a tenant without Entra ID P1/P2 gets on sign-in logs (§3.4). */
export const NO_PREMIUM_ERROR = 'Authentication_RequestFromNonPremiumTenantOrB2CTenant';

/** Properties of the application ecebot judges (o365-facts.md §3.1). */
const APPLICATION_SELECT =
  'id,appId,displayName,signInAudience,web,spa,publicClient,isFallbackPublicClient,passwordCredentials,keyCredentials,requiredResourceAccess';

/** What a read expects back: one object from a filtered collection, or the collection. */
type Shape = 'one' | 'list';

interface ReadSpec {
  resource: GraphObservation['resource'];
  path: string;
  shape: Shape;
  mailbox?: string;
}

/** The app registration with `appId` (web/spa/public redirect URIs, secrets, permissions). */
export function readApplication(
  ctx: ProbeContext,
  t: GraphTarget,
  appId: string,
): Promise<GraphObservation> {
  return read(ctx, t, {
    resource: 'application',
    path: `/v1.0/applications?${filter('appId', appId)}&$select=${APPLICATION_SELECT}`,
    shape: 'one',
  });
}

/** The ECE app's service principal (Enterprise application) in the tenant (§3.2). */
export function readServicePrincipal(
  ctx: ProbeContext,
  t: GraphTarget,
  appId: string,
): Promise<GraphObservation> {
  return read(ctx, t, {
    resource: 'servicePrincipal',
    path: `/v1.0/servicePrincipals?${filter('appId', appId)}`,
    shape: 'one',
  });
}

/**
 * A resource's service principal (Exchange Online `00000002-…`, Graph `00000003-…`) with its
 * permission ids, to turn requiredResourceAccess ids into names (§1.6, §3.2). Its absence
 * means the tenant has no such service (e.g. no Exchange Online).
 */
export function readResourceServicePrincipal(
  ctx: ProbeContext,
  t: GraphTarget,
  resourceAppId: string,
): Promise<GraphObservation> {
  return read(ctx, t, {
    resource: 'resourceServicePrincipal',
    path: `/v1.0/servicePrincipals?${filter('appId', resourceAppId)}&$select=id,appId,displayName,appRoles,oauth2PermissionScopes`,
    shape: 'one',
  });
}

/** Delegated consent grants of a service principal; `clientId` is its object id, not appId. */
export function readGrants(
  ctx: ProbeContext,
  t: GraphTarget,
  spObjectId: string,
): Promise<GraphObservation> {
  return read(ctx, t, {
    resource: 'grants',
    path: `/v1.0/oauth2PermissionGrants?${filter('clientId', spObjectId)}`,
    shape: 'list',
  });
}

/** A mailbox user's licences and service plans (§3.3). */
export function readLicenseDetails(
  ctx: ProbeContext,
  t: GraphTarget,
  upn: string,
): Promise<GraphObservation> {
  return read(ctx, t, {
    resource: 'licenseDetails',
    path: `/v1.0/users/${encodeURIComponent(upn)}/licenseDetails`,
    shape: 'list',
    mailbox: upn,
  });
}

/** The newest `top` sign-ins to the app: who got the token, which AADSTS (§3.4). */
export function readSignIns(
  ctx: ProbeContext,
  t: GraphTarget,
  appId: string,
  top = 20,
): Promise<GraphObservation> {
  return read(ctx, t, {
    resource: 'signIns',
    path: `/v1.0/auditLogs/signIns?${filter('appId', appId)}&$top=${top}`,
    shape: 'list',
  });
}

/** `$filter=<field> eq '<value>'`, with quotes doubled inside the literal (OData v4 ABNF). */
function filter(field: string, value: string): string {
  return `$filter=${encodeURIComponent(`${field} eq '${value.replace(/'/g, "''")}'`)}`;
}

/** One GET, timed as one step, turned into an observation. */
async function read(ctx: ProbeContext, t: GraphTarget, spec: ReadSpec): Promise<GraphObservation> {
  // The token is a secret even if a server were to echo it back.
  const redactor = ctx.redactor.with([t.token]);
  const rec = new StepRecorder(redactor);
  const finish = (o: {
    code: Code;
    status?: number;
    server?: string;
    data?: unknown;
  }): GraphObservation => {
    const obs: GraphObservation = {
      kind: 'graph',
      vantage: ctx.vantage,
      target: `${t.graph.host}:${t.graph.port}`,
      resource: spec.resource,
      ok: o.code === 'OK',
      code: o.code,
      stage: 'request',
      startedAt: rec.startedAt.toISOString(),
      durationMs: rec.elapsed(),
      steps: rec.steps,
    };
    if (spec.mailbox !== undefined) obs.mailbox = spec.mailbox;
    if (o.status !== undefined) obs.status = o.status;
    if (o.server !== undefined) obs.server = redactor.text(o.server);
    if (o.data !== undefined) obs.data = redactor.value(withoutSecrets(o.data));
    return obs;
  };

  const done = rec.begin('request', `GET ${spec.path}`);
  let answer: HttpAnswer;
  try {
    answer = await httpsRequest(ctx, {
      method: 'GET',
      target: t.graph,
      path: spec.path,
      headers: {
        authorization: `Bearer ${t.token}`,
        accept: 'application/json',
        'client-request-id': randomUUID(),
      },
    });
  } catch (err) {
    if (!(err instanceof HttpNetworkError)) throw err;
    done({ ok: false, code: err.code, note: err.message });
    return finish({ code: err.code });
  }

  const outcome = judge(answer, spec.shape);
  const received = [`HTTP ${answer.status}`];
  if (outcome.server) received.push(outcome.server);
  const requestId = header(answer, 'request-id');
  done({
    ok: outcome.code === 'OK',
    code: outcome.code,
    received,
    note: [outcome.note, requestId && `request-id ${requestId}`].filter(Boolean).join('; '),
  });
  return finish({ ...outcome, status: answer.status });
}

/** Map one Graph answer to a code, Graph's words and the data. */
function judge(
  answer: HttpAnswer,
  shape: Shape,
): { code: Code; server?: string; data?: unknown; note?: string } {
  if (answer.status === 200) {
    const body = answer.json as { value?: unknown } | undefined;
    if (!body || typeof body !== 'object') {
      return { code: 'PROTOCOL_ERROR', note: 'the 200 answer is not JSON' };
    }
    if (!('value' in body)) {
      // An entity route: the body is the object itself.
      return { code: 'OK', data: body };
    }
    if (!Array.isArray(body.value)) {
      return { code: 'PROTOCOL_ERROR', note: '`value` is not an array' };
    }
    const note = `${body.value.length} object${body.value.length === 1 ? '' : 's'}`;
    if (shape === 'list') return { code: 'OK', data: body.value, note };
    if (!body.value.length) return { code: 'GRAPH_NOT_FOUND', note };
    return { code: 'OK', data: body.value[0], note };
  }
  const server = graphError(answer);
  const errorCode = (answer.json as { error?: { code?: unknown } } | undefined)?.error?.code;
  if (answer.status === 403) {
    return {
      code: errorCode === NO_PREMIUM_ERROR ? 'GRAPH_NO_PREMIUM' : 'GRAPH_FORBIDDEN',
      server,
    };
  }
  if (answer.status === 404) return { code: 'GRAPH_NOT_FOUND', server };
  return { code: 'HTTP_ERROR', server };
}

/** Graph's `error.code: error.message`, or the start of a non-JSON body. */
function graphError(answer: HttpAnswer): string {
  const e = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (e && (typeof e.code === 'string' || typeof e.message === 'string')) {
    return [e.code, e.message].filter(x => typeof x === 'string' && x).join(': ');
  }
  const text = answer.text.trim().split(/\r?\n/)[0] ?? '';
  return text ? text.slice(0, 200) : `HTTP ${answer.status}`;
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Drop `secretText` wherever it appears: Graph returns it null on reads, but a secret value
 * has no business in an observation even if some API version filled it in.
 */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k.toLowerCase() !== 'secrettext')
        .map(([k, v]) => [k, withoutSecrets(v)]),
    );
  }
  return value;
}
