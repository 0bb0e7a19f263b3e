/**
 * Exchange Online admin reads over REST: `POST /adminapi/beta/{tenantId}/InvokeCommand`, the
 * route ExchangeOnlineManagement v3 uses (o365-facts.md §3.5), for the mailbox-protocols and
 * mailbox-rights items. Each call returns an ExoObservation with the cmdlet's rows; a refusal
 * or a network failure is an observation, never a throw.
 *
 * Outcome codes: `OK`; `EXO_UNAUTHORIZED` (401: no Exchange.ManageAsApp, or a bad token);
 * `EXO_FORBIDDEN` (403: the role without an Entra directory role, §3.5); `EXO_THROTTLED` (429,
 * with the Rate-Limit headers in the step note); `HTTP_ERROR` for other statuses, such as the
 * 404 for an unknown mailbox (`status` tells them apart); `PROTOCOL_ERROR` for a 200 without a
 * `value` array; network codes from the HTTPS client.
 */
import { randomUUID } from 'node:crypto';
import type { Code } from '../knowledge/codes';
import { StepRecorder } from '../util/steps';
import type { HostPort, ProbeContext } from './context';
import { httpsRequest, HttpNetworkError, type HttpAnswer } from './http-client';
import type { ExoObservation } from './types';

/** The admin API endpoint, an app-only token for https://outlook.office365.com, the tenant id. */
export interface ExoTarget {
  exo: HostPort;
  token: string;
  tenantId: string;
}

/** The cmdlets ecebot runs (all read-only). */
export type ExoCmdlet = ExoObservation['cmdlet'];

/**
 * App-only calls are routed by this arbitration mailbox, which every tenant has
 * (o365-facts.md §3.5: `X-AnchorMailbox: UPN:SystemMailbox{bb558c35-…}@{tenantId}`).
 */
export const SYSTEM_MAILBOX = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';

/** Throttling headers Exchange Online sends with a 429 (§3.5). */
const RATE_LIMIT_HEADERS = [
  'rate-limit-limit',
  'rate-limit-remaining',
  'rate-limit-reset',
  'retry-after',
];

/** Run one cmdlet through InvokeCommand. `Parameters.Identity`, when a string, names the mailbox. */
export async function invokeCommand(
  ctx: ProbeContext,
  t: ExoTarget,
  cmdlet: ExoCmdlet,
  parameters: Record<string, unknown> = {},
): Promise<ExoObservation> {
  const redactor = ctx.redactor.with([t.token]);
  const rec = new StepRecorder(redactor);
  const identity = typeof parameters.Identity === 'string' ? parameters.Identity : undefined;
  const finish = (o: {
    code: Code;
    status?: number;
    server?: string;
    data?: Record<string, unknown>[];
  }): ExoObservation => {
    const obs: ExoObservation = {
      kind: 'exo',
      vantage: ctx.vantage,
      target: `${t.exo.host}:${t.exo.port}`,
      cmdlet,
      ok: o.code === 'OK',
      code: o.code,
      stage: 'invoke',
      startedAt: rec.startedAt.toISOString(),
      durationMs: rec.elapsed(),
      steps: rec.steps,
    };
    if (identity !== undefined) {
      obs.identity = identity;
      obs.mailbox = identity;
    }
    if (o.status !== undefined) obs.status = o.status;
    if (o.server !== undefined) obs.server = redactor.text(o.server);
    if (o.data !== undefined) obs.data = redactor.value(o.data);
    return obs;
  };

  const path = `/adminapi/beta/${encodeURIComponent(t.tenantId)}/InvokeCommand`;
  const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } });
  const done = rec.begin('invoke', `POST ${path} ${body}`);
  let answer: HttpAnswer;
  try {
    answer = await httpsRequest(ctx, {
      method: 'POST',
      target: t.exo,
      path,
      body,
      headers: {
        authorization: `Bearer ${t.token}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'x-anchormailbox': `UPN:${SYSTEM_MAILBOX}@${t.tenantId}`,
        'x-cmdletname': cmdlet,
        'client-request-id': randomUUID(),
        prefer: 'odata.maxpagesize=1000',
      },
    });
  } catch (err) {
    if (!(err instanceof HttpNetworkError)) throw err;
    done({ ok: false, code: err.code, note: err.message });
    return finish({ code: err.code });
  }

  const outcome = judge(answer);
  const received = [`HTTP ${answer.status}`];
  if (outcome.server) received.push(outcome.server);
  done({ ok: outcome.code === 'OK', code: outcome.code, received, note: outcome.note });
  return finish({ ...outcome, status: answer.status });
}

/** Get-CASMailbox: ImapEnabled, PopEnabled, SmtpClientAuthenticationDisabled (null = org). */
export function getCasMailbox(
  ctx: ProbeContext,
  t: ExoTarget,
  identity: string,
): Promise<ExoObservation> {
  return invokeCommand(ctx, t, 'Get-CASMailbox', { Identity: identity });
}

/** Get-MailboxPermission: who holds FullAccess on the mailbox (mailbox-rights item). */
export function getMailboxPermission(
  ctx: ProbeContext,
  t: ExoTarget,
  identity: string,
): Promise<ExoObservation> {
  return invokeCommand(ctx, t, 'Get-MailboxPermission', { Identity: identity });
}

/** Get-TransportConfig: the organisation-wide SmtpClientAuthenticationDisabled. */
export function getTransportConfig(ctx: ProbeContext, t: ExoTarget): Promise<ExoObservation> {
  return invokeCommand(ctx, t, 'Get-TransportConfig', {});
}

/** Map one InvokeCommand answer to a code, the server's words and the rows. */
function judge(answer: HttpAnswer): {
  code: Code;
  server?: string;
  data?: Record<string, unknown>[];
  note?: string;
} {
  if (answer.status === 200) {
    const value = (answer.json as { value?: unknown } | undefined)?.value;
    if (!Array.isArray(value) || !value.every(r => r && typeof r === 'object')) {
      return { code: 'PROTOCOL_ERROR', note: 'the 200 answer has no `value` array of rows' };
    }
    const more = (answer.json as Record<string, unknown>)['@odata.nextLink'];
    const note = `${value.length} row${value.length === 1 ? '' : 's'}${more ? '; more pages not read' : ''}`;
    return { code: 'OK', data: value as Record<string, unknown>[], note };
  }
  const server = serverWords(answer);
  switch (answer.status) {
    case 401:
      return { code: 'EXO_UNAUTHORIZED', server };
    case 403:
      return { code: 'EXO_FORBIDDEN', server };
    case 429:
      return { code: 'EXO_THROTTLED', server, note: rateLimits(answer) };
    default:
      return { code: 'HTTP_ERROR', server };
  }
}

/**
 * The most telling text of a refusal. `error.message` is always "Invalid Operation"; the real
 * text is in `error.details[0].message` or `error.innererror.internalexception.message`
 * (§3.5 quirks). A 401 may have no body, only a WWW-Authenticate challenge (RFC 6750 §3).
 * A 403 body may be NUL bytes, which are stripped.
 */
function serverWords(answer: HttpAnswer): string {
  const e = (answer.json as { error?: AdminError } | undefined)?.error;
  if (e && typeof e === 'object') {
    const text =
      str(e.details?.[0]?.message) ??
      str(e.innererror?.internalexception?.message) ??
      str(e.innererror?.message) ??
      str(e.message);
    const code = str(e.code);
    if (text) return code ? `${code}: ${text}` : text;
  }
  const challenge = header(answer, 'www-authenticate');
  if (challenge) {
    const error = /\berror="([^"]*)"/.exec(challenge)?.[1];
    const description = /\berror_description="([^"]*)"/.exec(challenge)?.[1];
    if (error || description) return [error, description].filter(Boolean).join(': ');
  }
  // eslint-disable-next-line no-control-regex -- a 403 body can be NUL bytes (§3.5)
  const text = answer.text.replace(/\x00/g, '').trim().split(/\r?\n/)[0] ?? '';
  return text ? text.slice(0, 200) : `HTTP ${answer.status}`;
}

/** The adminapi error envelope, as far as ecebot reads it. */
interface AdminError {
  code?: unknown;
  message?: unknown;
  details?: { message?: unknown }[];
  innererror?: { message?: unknown; internalexception?: { message?: unknown } };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `Rate-Limit-Remaining=0; Rate-Limit-Reset=…` from whichever throttling headers came. */
function rateLimits(answer: HttpAnswer): string {
  const parts = RATE_LIMIT_HEADERS.flatMap(h => {
    const v = header(answer, h);
    return v === undefined
      ? []
      : [`${h.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())}=${v}`];
  });
  return parts.length ? parts.join('; ') : 'no Rate-Limit headers';
}
