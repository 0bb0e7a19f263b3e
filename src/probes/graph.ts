/**
 * Microsoft Graph reads for the app-registration, license and token items (o365-facts.md
 * §3.1–§3.4), one function per read. Each returns a GraphObservation: the HTTP status, Graph's
 * own `error.code: error.message` when it refused, and the object(s) read, with secrets
 * dropped. A refusal or a network failure is an observation, never a throw.
 *
 * Outcome codes: `OK`; `GRAPH_NOT_FOUND` when a filtered read of one object (application,
 * service principal) finds none or Graph answers 404 (unknown user); `GRAPH_FORBIDDEN` for 403;
 * `GRAPH_NO_PREMIUM` for the 403 a tenant without Entra ID P1 gets on sign-in logs (§3.4), and
 * `SIGN_IN_LOG_FORBIDDEN` for any other 403 on them; `GRAPH_THROTTLED` for a 429 not waited out;
 * `HTTP_ERROR` for any other status (401 included, with Graph's words in `server`);
 * network codes from the HTTPS client.
 *
 * A 200 reply is parsed here, once, with the read's schema (./schemas/graph.ts): `data` holds
 * typed facts, and rules never look at Graph's JSON themselves. A 200 that does not fit (not
 * JSON, `value` not an array, a judged field of another type) is `GRAPH_UNEXPECTED_REPLY`, with
 * the schema issues in `server` and `unexpected`, and the reply's outline (keys and types, no
 * values) in the step's received lines: never a crash, never a guess.
 * Collection reads (grants, licenses, sign-ins) that find nothing are `OK` with `data: []`:
 * "no consent grant" or "no licence" is a fact for the rules, not a failed read.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Code } from '../model';
import { StepRecorder, type StepResult } from '../util/steps';
import type { HostPort, ProbeContext } from './context';
import { httpsRequest, HttpNetworkError, type HttpAnswer } from './http-client';
import { GRAPH_REPLY } from './schemas/graph';
import { notUnderstood, readReply, shapeLine } from './schemas/reply';
import type {
  GraphFacts,
  GraphReadObservation,
  GraphResource,
  GraphSignIn,
  SignInLogWindow,
  UnexpectedReply,
} from '../model';

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

/** What a 200 reply came to: the facts, no such object, or a reply not understood. */
export type Understood<T> =
  | { code: 'OK'; data: T; note: string }
  | { code: 'GRAPH_NOT_FOUND'; note: string }
  | { code: 'GRAPH_UNEXPECTED_REPLY'; unexpected: UnexpectedReply };

interface ReadSpec<R extends GraphResource> {
  resource: R;
  path: string;
  mailbox?: string;
}

/** A collection reply: `{ value: [...] }`, each element checked by the read's schema. */
type CollectionSchema = z.ZodType<{ value: unknown[] }>;

/** A filtered read of one object: the first element, or GRAPH_NOT_FOUND when there is none. */
function one<S extends CollectionSchema>(
  schema: S,
): (json: unknown, text: string) => Understood<z.output<S>['value'][number]> {
  return (json, text) => {
    const r = readReply(schema, json, text);
    if (!r.ok) return { code: 'GRAPH_UNEXPECTED_REPLY', unexpected: r.unexpected };
    const items: z.output<S>['value'] = r.value.value;
    const note = count(items.length);
    const first: z.output<S>['value'][number] | undefined = items[0];
    return first === undefined
      ? { code: 'GRAPH_NOT_FOUND', note }
      : { code: 'OK', data: first, note };
  };
}

/** A collection read: every element ("none" is a fact for the rules, not a failed read). */
function list<S extends CollectionSchema>(
  schema: S,
): (json: unknown, text: string) => Understood<z.output<S>['value']> {
  return (json, text) => {
    const r = readReply(schema, json, text);
    if (!r.ok) return { code: 'GRAPH_UNEXPECTED_REPLY', unexpected: r.unexpected };
    return { code: 'OK', data: r.value.value, note: count(r.value.value.length) };
  };
}

/**
 * How each read understands a 200 reply (`json` decoded, undefined when not JSON; `text` raw).
 * Pure; spelled out per read so each keeps its own fact type through the generic `read`.
 */
export const GRAPH_UNDERSTAND: {
  [R in GraphResource]: (json: unknown, text: string) => Understood<GraphFacts[R]>;
} = {
  application: one(GRAPH_REPLY.application),
  servicePrincipal: one(GRAPH_REPLY.servicePrincipal),
  resourceServicePrincipal: one(GRAPH_REPLY.resourceServicePrincipal),
  grants: list(GRAPH_REPLY.grants),
  licenseDetails: list(GRAPH_REPLY.licenseDetails),
  signIns: list(GRAPH_REPLY.signIns),
  directoryUsers: list(GRAPH_REPLY.directoryUsers),
};

function count(n: number): string {
  return `${n} object${n === 1 ? '' : 's'}`;
}

/** The app registration with `appId` (web/spa/public redirect URIs, secrets, permissions). */
export function readApplication(
  ctx: ProbeContext,
  t: GraphTarget,
  appId: string,
): Promise<GraphReadObservation<'application'>> {
  return read(ctx, t, {
    resource: 'application',
    path: `/v1.0/applications?${filter('appId', appId)}&$select=${APPLICATION_SELECT}`,
  });
}

/** The ECE app's service principal (Enterprise application) in the tenant (§3.2). */
export function readServicePrincipal(
  ctx: ProbeContext,
  t: GraphTarget,
  appId: string,
): Promise<GraphReadObservation<'servicePrincipal'>> {
  return read(ctx, t, {
    resource: 'servicePrincipal',
    path: `/v1.0/servicePrincipals?${filter('appId', appId)}`,
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
): Promise<GraphReadObservation<'resourceServicePrincipal'>> {
  return read(ctx, t, {
    resource: 'resourceServicePrincipal',
    path: `/v1.0/servicePrincipals?${filter('appId', resourceAppId)}&$select=id,appId,displayName,appRoles,oauth2PermissionScopes`,
  });
}

/** Delegated consent grants of a service principal; `clientId` is its object id, not appId. */
export function readGrants(
  ctx: ProbeContext,
  t: GraphTarget,
  spObjectId: string,
): Promise<GraphReadObservation<'grants'>> {
  return read(ctx, t, {
    resource: 'grants',
    path: `/v1.0/oauth2PermissionGrants?${filter('clientId', spObjectId)}`,
  });
}

/**
 * A user's licences and service plans (§3.3). `user` is an object id or a UPN (what
 * `/users/{id | userPrincipalName}` takes); `address` names the observation when the user was
 * found by another address (a primary SMTP address that is not the UPN).
 */
export function readLicenseDetails(
  ctx: ProbeContext,
  t: GraphTarget,
  user: string,
  address: string = user,
): Promise<GraphReadObservation<'licenseDetails'>> {
  return read(ctx, t, {
    resource: 'licenseDetails',
    path: `/v1.0/users/${encodeURIComponent(user)}/licenseDetails`,
    mailbox: address,
  });
}

/** The names a directory user is compared by (user resource properties). */
const DIRECTORY_SELECT = 'id,userPrincipalName,mail,proxyAddresses';

/**
 * The directory user an address names: by userPrincipalName, or by any of its SMTP addresses
 * (`proxyAddresses/any(x:x eq 'smtp:…')`; the user resource lists `eq` on proxyAddresses among
 * its default $filter support, and the comparison ignores case, so `smtp:` matches the primary
 * `SMTP:` entry too — [unverified against a live tenant]). `data: []` when nobody has it.
 */
export function readDirectoryUser(
  ctx: ProbeContext,
  t: GraphTarget,
  address: string,
): Promise<GraphReadObservation<'directoryUsers'>> {
  const v = literal(address);
  const clause = `userPrincipalName eq '${v}' or proxyAddresses/any(x:x eq 'smtp:${v}')`;
  return read(ctx, t, {
    resource: 'directoryUsers',
    path: `/v1.0/users?$filter=${encodeURIComponent(clause)}&$select=${DIRECTORY_SELECT}`,
    mailbox: address,
  });
}

/** Bounds of one sign-in log read. */
export interface SignInReadOptions {
  /** The oldest sign-in asked for (`createdDateTime ge`). */
  since: Date;
  /** Rows per page (`$top`; Graph's maximum and default is 1,000). */
  pageSize?: number;
  /** Pages read at most; the log is newest first, so a cap drops only the oldest rows. */
  maxPages?: number;
}

/** Default rows per page and page cap: 4 × 250 rows, far more than ECE's redemptions a day. */
export const SIGN_IN_PAGE_SIZE = 250;
export const SIGN_IN_MAX_PAGES = 4;

/** A 429's Retry-After ecebot is willing to wait once, within the read's own deadline. */
const MAX_RETRY_AFTER_MS = 2000;

/**
 * The `$filter` of ECE's sign-ins: its app id, the window, and both user sign-in types.
 *
 * Why beta and why `signInEventTypes`: v1.0 (like Get-AzureADAuditSignInLogs) lists interactive
 * sign-ins only, and beta's List signIns, "without an event-type filter, returns only
 * interactive user sign-ins by default" (learn.microsoft.com/entra/identity/monitoring-health,
 * Agent ID sign-ins how-to; o365-facts.md §3.4). ECE's refresh-token redemptions are
 * non-interactive user sign-ins (concept-noninteractive-sign-ins: "A client app uses an OAuth
 * 2.0 refresh token to get an access token"); the interactive ones are a person generating the
 * token in ECE's console. Syntax as Microsoft writes it:
 * `createdDateTime ge 2026-10-05T10:00:00Z and signInEventTypes/any(t: t eq 'nonInteractiveUser')`
 * (same how-to); the lambda's `or` is OData v4 (§5.1.1.10 lambda operators).
 */
export function signInFilter(appId: string, since: Date): string {
  const when = since.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    `appId eq '${appId.replace(/'/g, "''")}' and createdDateTime ge ${when} and ` +
    "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
  );
}

/** Graph's paging link, beside `value` (dropped by the row schema, so read on its own). */
const nextLinkReply = z.object({ '@odata.nextLink': z.string().optional() });

/**
 * ECE's sign-ins (interactive and non-interactive) since `since`, newest first, from Graph beta
 * `GET /beta/auditLogs/signIns` (o365-facts.md §3.4). Bounded: a time window, `pageSize` rows a
 * page, at most `maxPages` pages following `@odata.nextLink` (signin-list: "the maximum and
 * default page size is 1,000 objects and by default, the most recent sign-ins are returned
 * first"), each request under the command deadline and no page started past the probe's total.
 * One 429 (learn.microsoft.com/graph/throttling: "Returns a suggested wait time in the response
 * header") is waited out when its Retry-After is short; otherwise the read stops: on the first
 * page it is `GRAPH_THROTTLED`, later the rows so far are kept and `window.truncated` says why.
 *
 * Needs AuditLog.Read.All and Directory.Read.All (signin-list's known issue) and Entra ID P1/P2:
 * without premium Graph answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`
 * (`GRAPH_NO_PREMIUM`); any other 403 here is `SIGN_IN_LOG_FORBIDDEN`.
 *
 * The log lags the sign-ins themselves: Microsoft gave 2 minutes for 95 % and 5 minutes for 99 %
 * of sign-ins (reference-reports-latencies; reference-log-latency now lists only factors), so
 * the newest minutes may be missing.
 */
export async function readSignIns(
  ctx: ProbeContext,
  t: GraphTarget,
  appId: string,
  opts: SignInReadOptions,
): Promise<GraphReadObservation<'signIns'>> {
  const pageSize = opts.pageSize ?? SIGN_IN_PAGE_SIZE;
  const maxPages = opts.maxPages ?? SIGN_IN_MAX_PAGES;
  const redactor = ctx.redactor.with([t.token]);
  const rec = new StepRecorder(redactor);
  const window: SignInLogWindow = { since: opts.since.toISOString(), pages: 0 };
  const rows: GraphSignIn[] = [];
  const finish = (o: {
    code: Code;
    status?: number;
    server?: string;
    unexpected?: UnexpectedReply;
  }): GraphReadObservation<'signIns'> => {
    const obs: GraphReadObservation<'signIns'> = {
      kind: 'graph',
      vantage: ctx.vantage,
      target: `${t.graph.host}:${t.graph.port}`,
      resource: 'signIns',
      ok: o.code === 'OK',
      code: o.code,
      stage: 'request',
      startedAt: rec.startedAt.toISOString(),
      durationMs: rec.elapsed(),
      steps: rec.steps,
      window,
    };
    if (o.status !== undefined) obs.status = o.status;
    if (o.server !== undefined) obs.server = redactor.text(o.server);
    if (o.code === 'OK') obs.data = redactor.value(rows);
    if (o.unexpected !== undefined) obs.unexpected = redactor.value(o.unexpected);
    return obs;
  };

  let path: string | undefined =
    `/beta/auditLogs/signIns?$filter=${encodeURIComponent(signInFilter(appId, opts.since))}&$top=${pageSize}`;
  let retried = false;
  while (path !== undefined) {
    if (window.pages >= maxPages) {
      window.truncated = 'pages';
      break;
    }
    if (window.pages > 0 && rec.elapsed() >= ctx.deadlines.totalMs) {
      window.truncated = 'pages';
      break;
    }
    const done = rec.begin('request', `GET ${path}`);
    const answer = await graphGet(ctx, t, path);
    if (answer instanceof HttpNetworkError) {
      done({ ok: false, code: answer.code, note: answer.message });
      return finish({ code: answer.code });
    }
    const { received, step } = answerStep(answer, done);

    if (answer.status === 429) {
      const waitMs = retryAfterMs(header(answer, 'retry-after'));
      received.push(`Retry-After: ${header(answer, 'retry-after') ?? '(none)'}`);
      const fits =
        !retried &&
        waitMs !== undefined &&
        waitMs <= MAX_RETRY_AFTER_MS &&
        rec.elapsed() + waitMs < ctx.deadlines.totalMs;
      step('GRAPH_THROTTLED', fits ? `waiting ${waitMs} ms once` : undefined);
      if (fits) {
        retried = true;
        await new Promise(r => setTimeout(r, waitMs));
        continue;
      }
      if (window.pages === 0) {
        return finish({ code: 'GRAPH_THROTTLED', status: 429, server: refused(answer).server });
      }
      window.truncated = 'throttled';
      break;
    }
    if (answer.status !== 200) {
      const refusal = refused(answer);
      const code = refusal.code === 'GRAPH_FORBIDDEN' ? 'SIGN_IN_LOG_FORBIDDEN' : refusal.code;
      received.push(refusal.server);
      step(code);
      return finish({ code, status: answer.status, server: refusal.server });
    }
    const u = GRAPH_UNDERSTAND.signIns(answer.json, answer.text);
    if (u.code !== 'OK') {
      // A list read is never GRAPH_NOT_FOUND; only a reply not understood gets here.
      const unexpected = u.code === 'GRAPH_UNEXPECTED_REPLY' ? u.unexpected : undefined;
      if (!unexpected) throw new Error('a collection read cannot be GRAPH_NOT_FOUND');
      const server = notUnderstood(unexpected);
      received.push(server, shapeLine(unexpected));
      step('GRAPH_UNEXPECTED_REPLY');
      return finish({ code: 'GRAPH_UNEXPECTED_REPLY', status: 200, server, unexpected });
    }
    rows.push(...u.data);
    window.pages++;
    step('OK', u.note);
    const link = nextLinkReply.safeParse(answer.json);
    path = link.success ? nextPath(link.data['@odata.nextLink'], t.graph.host) : undefined;
  }
  return finish({ code: 'OK', status: 200 });
}

/**
 * The path and query of Graph's `@odata.nextLink`, sent to the same Graph endpoint. A link to
 * another host is not followed (it would carry our token elsewhere): the read stops there.
 */
function nextPath(link: string | undefined, graphHost: string): string | undefined {
  if (!link) return undefined;
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.hostname.toLowerCase() !== graphHost.toLowerCase()) {
    return undefined;
  }
  return url.pathname + url.search;
}

/** Retry-After in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** `$filter=<field> eq '<value>'`, with quotes doubled inside the literal (OData v4 ABNF). */
function filter(field: string, value: string): string {
  return `$filter=${encodeURIComponent(`${field} eq '${literal(value)}'`)}`;
}

/** A value inside an OData string literal: single quotes doubled (OData v4 ABNF). */
function literal(value: string): string {
  return value.replace(/'/g, "''");
}

/** One GET, timed as one step, turned into an observation. */
async function read<R extends GraphResource>(
  ctx: ProbeContext,
  t: GraphTarget,
  spec: ReadSpec<R>,
): Promise<GraphReadObservation<R>> {
  // The token is a secret even if a server were to echo it back.
  const redactor = ctx.redactor.with([t.token]);
  const rec = new StepRecorder(redactor);
  const finish = (o: {
    code: Code;
    status?: number;
    server?: string;
    data?: GraphFacts[R];
    unexpected?: UnexpectedReply;
  }): GraphReadObservation<R> => {
    const obs: GraphReadObservation<R> = {
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
    // The schemas name no secret field (secretText is dropped with every other unnamed field);
    // the redactor still runs in case a secret turns up inside a value.
    if (o.data !== undefined) obs.data = redactor.value(o.data);
    if (o.unexpected !== undefined) obs.unexpected = redactor.value(o.unexpected);
    return obs;
  };

  const done = rec.begin('request', `GET ${spec.path}`);
  const answer = await graphGet(ctx, t, spec.path);
  if (answer instanceof HttpNetworkError) {
    done({ ok: false, code: answer.code, note: answer.message });
    return finish({ code: answer.code });
  }
  const { received, step } = answerStep(answer, done);

  if (answer.status === 200) {
    const u = GRAPH_UNDERSTAND[spec.resource](answer.json, answer.text);
    if (u.code === 'GRAPH_UNEXPECTED_REPLY') {
      const server = notUnderstood(u.unexpected);
      received.push(server, shapeLine(u.unexpected));
      step(u.code);
      return finish({ code: u.code, status: 200, server, unexpected: u.unexpected });
    }
    step(u.code, u.note);
    return finish({ code: u.code, status: 200, ...(u.code === 'OK' ? { data: u.data } : {}) });
  }
  const refusal = refused(answer);
  received.push(refusal.server);
  step(refusal.code);
  return finish({ ...refusal, status: answer.status });
}

/** Graph's error envelope, as far as ecebot reads it; anything else in it is ignored. */
const graphErrorReply = z.object({
  error: z.object({ code: z.unknown(), message: z.unknown() }).partial(),
});

/** Map a non-200 answer to a code and Graph's words. */
/**
 * One GET to Graph with ecebot's token (a fresh client-request-id each, which Microsoft support
 * can trace): the answer, or the network error that stopped it.
 */
async function graphGet(
  ctx: ProbeContext,
  t: GraphTarget,
  path: string,
): Promise<HttpAnswer | HttpNetworkError> {
  try {
    return await httpsRequest(ctx, {
      method: 'GET',
      target: t.graph,
      path,
      headers: {
        authorization: `Bearer ${t.token}`,
        accept: 'application/json',
        'client-request-id': randomUUID(),
      },
    });
  } catch (err) {
    if (!(err instanceof HttpNetworkError)) throw err;
    return err;
  }
}

/**
 * A Graph answer's step: its status line (and whatever the caller adds to `received`), and
 * Graph's request-id beside any note, so a person can quote it to Microsoft.
 */
function answerStep(
  answer: HttpAnswer,
  done: (r: StepResult) => unknown,
): { received: string[]; step: (code: Code, note?: string) => void } {
  const requestId = header(answer, 'request-id');
  const received = [`HTTP ${answer.status}`];
  const step = (code: Code, note?: string) =>
    done({
      ok: code === 'OK',
      code,
      received,
      note: [note, requestId && `request-id ${requestId}`].filter(Boolean).join('; '),
    });
  return { received, step };
}

function refused(answer: HttpAnswer): { code: Code; server: string } {
  const parsed = graphErrorReply.safeParse(answer.json);
  const e = parsed.success ? parsed.data.error : {};
  const server = graphError(answer, e);
  if (answer.status === 403) {
    return { code: e.code === NO_PREMIUM_ERROR ? 'GRAPH_NO_PREMIUM' : 'GRAPH_FORBIDDEN', server };
  }
  if (answer.status === 404) return { code: 'GRAPH_NOT_FOUND', server };
  return { code: 'HTTP_ERROR', server };
}

/** Graph's `error.code: error.message`, or the start of a non-JSON body. */
function graphError(answer: HttpAnswer, e: { code?: unknown; message?: unknown }): string {
  const words = [e.code, e.message].filter((x): x is string => typeof x === 'string' && !!x);
  if (words.length) return words.join(': ');
  const text = answer.text.trim().split(/\r?\n/)[0] ?? '';
  return text ? text.slice(0, 200) : `HTTP ${answer.status}`;
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
