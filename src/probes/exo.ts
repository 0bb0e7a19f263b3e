/**
 * Exchange Online admin reads over REST: `POST /adminapi/beta/{tenantId}/InvokeCommand`, the
 * route ExchangeOnlineManagement v3 uses (o365-facts.md §3.5), for the mailbox-protocols and
 * mailbox-rights items. Each call returns an ExoObservation with the cmdlet's rows; a refusal
 * or a network failure is an observation, never a throw.
 *
 * Outcome codes: `OK`; `EXO_UNAUTHORIZED` (401: no Exchange.ManageAsApp, or a bad token);
 * `EXO_FORBIDDEN` (403: the role without an Entra directory role, §3.5); `EXO_THROTTLED` (429,
 * with the Rate-Limit headers in the step note); `HTTP_ERROR` for other statuses, such as the
 * 404 for an unknown mailbox (`status` tells them apart); network codes from the HTTPS client.
 *
 * A 200 reply is parsed here, once, with the cmdlet's schema (./schemas/exo.ts): `data` holds
 * typed rows. A 200 that does not fit (not JSON, no `value` array of rows, a judged property of
 * another type) is `EXO_UNEXPECTED_REPLY`, with the schema issues in `server` and `unexpected`
 * and the reply's outline (keys and types, no values) in the step's received lines.
 */
import { randomUUID } from 'node:crypto';
import type { Code } from '../model';
import { StepRecorder } from '../util/steps';
import type { HostPort, ProbeContext } from './context';
import { z } from 'zod';
import { httpsRequest, HttpNetworkError, type HttpAnswer } from './http-client';
import { EXO_REPLY } from './schemas/exo';
import { notUnderstood, readReply, shapeLine, type ReplyReading } from './schemas/reply';
import type { ExoCmdletName, ExoFacts, ExoReadObservation, UnexpectedReply } from '../model';

/** The admin API endpoint, an app-only token for https://outlook.office365.com, the tenant id. */
export interface ExoTarget {
  exo: HostPort;
  token: string;
  tenantId: string;
}

/** The cmdlets ecebot runs (all read-only). */
export type ExoCmdlet = ExoCmdletName;

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
export async function invokeCommand<C extends ExoCmdletName>(
  ctx: ProbeContext,
  t: ExoTarget,
  cmdlet: C,
  parameters: Record<string, unknown> = {},
): Promise<ExoReadObservation<C>> {
  const redactor = ctx.redactor.with([t.token]);
  const rec = new StepRecorder(redactor);
  const identity = typeof parameters.Identity === 'string' ? parameters.Identity : undefined;
  const finish = (o: {
    code: Code;
    status?: number;
    server?: string;
    data?: ExoFacts[C];
    unexpected?: UnexpectedReply;
  }): ExoReadObservation<C> => {
    const obs: ExoReadObservation<C> = {
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
    if (o.unexpected !== undefined) obs.unexpected = redactor.value(o.unexpected);
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

  const received = [`HTTP ${answer.status}`];
  if (answer.status === 200) {
    const r = EXO_UNDERSTAND[cmdlet](answer.json, answer.text);
    if (!r.ok) {
      const code = 'EXO_UNEXPECTED_REPLY';
      const server = notUnderstood(r.unexpected);
      received.push(server, shapeLine(r.unexpected));
      done({ ok: false, code, received });
      return finish({ code, status: 200, server, unexpected: r.unexpected });
    }
    const rows = r.value.value;
    const more = r.value['@odata.nextLink'] ? '; more pages not read' : '';
    done({
      ok: true,
      code: 'OK',
      received,
      note: `${rows.length} row${rows.length === 1 ? '' : 's'}${more}`,
    });
    return finish({ code: 'OK', status: 200, data: rows });
  }
  const outcome = refused(answer);
  received.push(outcome.server);
  done({ ok: false, code: outcome.code, received, note: outcome.note });
  return finish({ code: outcome.code, server: outcome.server, status: answer.status });
}

/** Get-CASMailbox: ImapEnabled, PopEnabled, SmtpClientAuthenticationDisabled (null = org). */
export function getCasMailbox(
  ctx: ProbeContext,
  t: ExoTarget,
  identity: string,
): Promise<ExoReadObservation<'Get-CASMailbox'>> {
  return invokeCommand(ctx, t, 'Get-CASMailbox', { Identity: identity });
}

/** Get-MailboxPermission: who holds FullAccess on the mailbox (mailbox-rights item). */
export function getMailboxPermission(
  ctx: ProbeContext,
  t: ExoTarget,
  identity: string,
): Promise<ExoReadObservation<'Get-MailboxPermission'>> {
  return invokeCommand(ctx, t, 'Get-MailboxPermission', { Identity: identity });
}

/**
 * Get-RecipientPermission: who holds Send As on the mailbox (mailbox-rights item). Send As is
 * what lets the account that signs in to SMTP send from a shared mailbox (o365-facts.md §1.5).
 */
export function getRecipientPermission(
  ctx: ProbeContext,
  t: ExoTarget,
  identity: string,
): Promise<ExoReadObservation<'Get-RecipientPermission'>> {
  return invokeCommand(ctx, t, 'Get-RecipientPermission', { Identity: identity });
}

/** Get-TransportConfig: the organisation-wide SmtpClientAuthenticationDisabled. */
export function getTransportConfig(
  ctx: ProbeContext,
  t: ExoTarget,
): Promise<ExoReadObservation<'Get-TransportConfig'>> {
  return invokeCommand(ctx, t, 'Get-TransportConfig', {});
}

/** An InvokeCommand reply once understood: the rows, and whether more pages were left. */
export interface Rows<C extends ExoCmdletName> {
  value: ExoFacts[C];
  '@odata.nextLink'?: string | undefined;
}

/**
 * How each cmdlet's 200 reply is understood (`json` decoded, undefined when not JSON; `text`
 * raw). Pure; spelled out per cmdlet so the rows keep their own type through the generic
 * `invokeCommand` (a generic index into EXO_REPLY would lose it).
 */
export const EXO_UNDERSTAND: {
  [C in ExoCmdletName]: (json: unknown, text: string) => ReplyReading<Rows<C>>;
} = {
  'Get-CASMailbox': (json, text) => readReply(EXO_REPLY['Get-CASMailbox'], json, text),
  'Get-MailboxPermission': (json, text) =>
    readReply(EXO_REPLY['Get-MailboxPermission'], json, text),
  'Get-RecipientPermission': (json, text) =>
    readReply(EXO_REPLY['Get-RecipientPermission'], json, text),
  'Get-TransportConfig': (json, text) => readReply(EXO_REPLY['Get-TransportConfig'], json, text),
};

/** Map a refusal (any status but 200) to a code, the server's words and a note. */
function refused(answer: HttpAnswer): { code: Code; server: string; note?: string } {
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
  const parsed = adminErrorReply.safeParse(answer.json);
  const e = parsed.success ? parsed.data.error : undefined;
  if (e) {
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

/**
 * The adminapi error envelope, as far as ecebot reads it. Every part is optional and of any
 * type: a refusal is read for words, and `str` keeps only the strings.
 */
const adminErrorReply = z.object({
  error: z
    .object({
      code: z.unknown(),
      message: z.unknown(),
      details: z.array(z.object({ message: z.unknown() }).partial()).catch([]),
      innererror: z
        .object({
          message: z.unknown(),
          internalexception: z.object({ message: z.unknown() }).partial().catch({}),
        })
        .partial()
        .catch({}),
    })
    .partial(),
});

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
