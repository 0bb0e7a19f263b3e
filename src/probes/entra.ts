/**
 * The Entra ID token probe: gets tokens the way ECE and ecebot do, with @azure/msal-node 7, and
 * reports what happened as an `EntraTokenObservation` (never a verdict). One function per flow:
 * client credentials (the ECE app's secret, ecebot's own app), refresh token (a mailbox's stored
 * grant) and device code (a person signs in for a mailbox).
 *
 * msal is pointed at the login host through a network module of ours (msal-lab-notes.md §2), so
 * the context's CA, hosts map and deadlines apply and every request becomes a timed step with
 * the server's own words. Each call builds a new msal application, because msal caches tokens
 * and throttling per instance (msal-lab-notes.md §5): a probe must ask Entra every time.
 * Tokens travel beside the observation, never inside it.
 */
import {
  AuthError,
  ConfidentialClientApplication,
  PublicClientApplication,
  ServerError,
  type AuthenticationResult,
  type Configuration,
  type DeviceCodeRequest,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { aadstsCode, type Code } from '../knowledge/codes';
import { clientAssertion, type ClientCertificate } from './client-assertion';
import type { Redactor } from '../util/redact';
import { StepRecorder, type StepResult } from '../util/steps';
import type { HostPort, ProbeContext } from './context';
import { HttpNetworkError, httpsRequest, type HttpAnswer } from './http-client';
import { decodeClaims, lifetimeMinutes } from './jwt-claims';
import type { EntraTokenObservation, TokenClaims } from '../model';

/** Where Entra ID is: the login host (login.microsoftonline.com:443 in real life) and the tenant. */
export interface EntraTarget {
  login: HostPort;
  /** Tenant id (GUID) or verified domain. */
  tenantId: string;
}

/** What a flow returns: the observation, and the tokens for the next probe (never on the observation). */
export interface EntraTokenResult {
  observation: EntraTokenObservation;
  accessToken?: string;
  /** The rotated refresh token Entra returned (refresh-token and device-code flows). */
  refreshToken?: string;
}

/**
 * How a confidential client proves itself at the token endpoint: a client secret, or a
 * certificate whose signed assertion is sent instead (./client-assertion.ts). Exactly one.
 */
export type ConfidentialCredential =
  | { secret: string; certificate?: undefined }
  | { certificate: ClientCertificate; secret?: undefined };

/** App-only token request (RFC 6749 §4.4). */
export type ClientCredentialsOptions = ConfidentialCredential & {
  clientId: string;
  /** One `<resource>/.default` scope, e.g. `https://graph.microsoft.com/.default`. */
  scopes: string[];
  purpose: 'ece-app' | 'probe-app';
};

/**
 * Redeeming a mailbox's stored refresh token (RFC 6749 §6), as ECE does before each login. The
 * client type decides what is sent: ECE's confidential app sends its secret or a certificate
 * assertion (without one Entra answers AADSTS7000218); ecebot's public sign-in app sends
 * neither (with one Entra answers AADSTS700025, o365-facts.md §2.3).
 */
export interface RefreshTokenOptions {
  clientId: string;
  /** The confidential client's secret. Leave out, with `certificate`, for a public client. */
  secret?: string;
  /** The confidential client's certificate (an assertion is sent instead of a secret). */
  certificate?: ClientCertificate;
  refreshToken: string;
  /** Delegated scopes, e.g. `https://outlook.office.com/IMAP.AccessAsUser.All`. */
  scopes: string[];
  mailbox: string;
  /**
   * Whose grant it is: `mailbox` (ECE's, the default) or `signin` (ecebot's own sign-in app's).
   * A refused `signin` grant gets ecebot's own codes, so its fix is to sign in again, never to
   * regenerate ECE's token.
   */
  purpose?: 'mailbox' | 'signin';
}

/** What to show the person who signs in (RFC 8628 §3.3). */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  message: string;
  expiresIn: number;
}

/** Device-code sign-in (RFC 8628): a person enters the code on another device. */
export interface DeviceCodeOptions {
  /** A public client (ecebot's sign-in app): Entra refuses the flow to a Web app (AADSTS7000218). */
  clientId: string;
  scopes: string[];
  /** Called once Entra has handed out the code; show it to the person. */
  onCode: (c: DeviceCodePrompt) => void | Promise<void>;
  /** Stop waiting for the person after this long (default: until the code expires). */
  timeoutSeconds?: number;
  /** Abort waiting (the person cancelled the sign-in in Teams, the bot shuts down). */
  cancel?: AbortSignal;
}

/** What the observation says about the flow itself (and the mailbox, for a stored grant). */
type Meta = Pick<EntraTokenObservation, 'flow' | 'purpose' | 'clientId' | 'scopes'> & {
  mailbox?: string;
};

/** Get an app-only token with a client secret. */
export async function clientCredentials(
  ctx: ProbeContext,
  t: EntraTarget,
  o: ClientCredentialsOptions,
): Promise<EntraTokenResult> {
  const s = new EntraSession(ctx, [o.secret]);
  const meta: Meta = {
    flow: 'client-credentials',
    purpose: o.purpose,
    clientId: o.clientId,
    scopes: o.scopes,
  };
  return s.settle(ctx, t, meta, ctx.deadlines.totalMs, async () => {
    const app = new ConfidentialClientApplication(
      msalConfig(ctx, t, s, { clientId: o.clientId, ...credentialOf(o) }),
    );
    // skipCache: this instance is new anyway; the flag documents that a probe never reuses a token.
    return {
      result: await app.acquireTokenByClientCredential({ scopes: o.scopes, skipCache: true }),
    };
  });
}

/**
 * Redeem a refresh token for delegated scopes. `forceCache` makes msal keep the answer on an
 * empty cache (msal-lab-notes.md §3), which is where the rotated refresh token is read from.
 */
export async function redeemRefreshToken(
  ctx: ProbeContext,
  t: EntraTarget,
  o: RefreshTokenOptions,
): Promise<EntraTokenResult> {
  const s = new EntraSession(ctx, [o.secret, o.refreshToken]);
  const meta: Meta = {
    flow: 'refresh-token',
    purpose: o.purpose ?? 'mailbox',
    clientId: o.clientId,
    scopes: o.scopes,
    mailbox: o.mailbox,
  };
  return s.settle(ctx, t, meta, ctx.deadlines.totalMs, async () => {
    const credential: ConfidentialCredential | undefined = o.secret
      ? { secret: o.secret }
      : o.certificate
        ? { certificate: o.certificate }
        : undefined;
    const config = msalConfig(ctx, t, s, {
      clientId: o.clientId,
      ...(credential ? credentialOf(credential) : {}),
    });
    // A public client sends no client authentication at all (RFC 6749 §2.1, §6).
    const app = credential
      ? new ConfidentialClientApplication(config)
      : new PublicClientApplication(config);
    const result = await app.acquireTokenByRefreshToken({
      refreshToken: o.refreshToken,
      scopes: o.scopes,
      forceCache: true,
    });
    const rotated = cachedRefreshToken(app.getTokenCache().serialize(), o.clientId);
    return { result, ...(rotated ? { refreshToken: rotated } : {}) };
  });
}

/**
 * Sign a person in with a device code: `onCode` shows the code, msal polls until the person
 * approves, declines, the code expires, `timeoutSeconds` passes or `cancel` fires.
 */
export async function deviceCodeSignIn(
  ctx: ProbeContext,
  t: EntraTarget,
  o: DeviceCodeOptions,
): Promise<EntraTokenResult> {
  const s = new EntraSession(ctx, []);
  const meta: Meta = {
    flow: 'device-code',
    // Device code is ecebot's own sign-in (a public client); ECE never uses it.
    purpose: 'signin',
    clientId: o.clientId,
    scopes: o.scopes,
  };
  // Waiting for a person is not bounded by the run budget; timeoutSeconds and cancel bound it.
  return s.settle(ctx, t, meta, undefined, async () => {
    const app = new PublicClientApplication(msalConfig(ctx, t, s, { clientId: o.clientId }));
    const request: DeviceCodeRequest = {
      scopes: o.scopes,
      deviceCodeCallback: d => {
        // msal hands over whatever /devicecode answered, even an error body; stop before polling.
        if (!d.userCode || s.devicecode?.errorBody) {
          request.cancel = true;
          return;
        }
        s.beginWait();
        const prompt: DeviceCodePrompt = {
          userCode: d.userCode,
          verificationUri: d.verificationUri,
          message: d.message,
          expiresIn: d.expiresIn,
        };
        Promise.resolve()
          .then(() => o.onCode(prompt))
          .catch((err: unknown) => {
            request.cancel = true;
            s.stop(new StopError('callback', err));
          });
      },
    };
    const stopPolling = (reason: StopError) => {
      request.cancel = true;
      s.stop(reason);
    };
    const onAbort = () => stopPolling(new StopError('cancelled'));
    if (o.cancel?.aborted) onAbort();
    o.cancel?.addEventListener('abort', onAbort, { once: true });
    const timer =
      o.timeoutSeconds !== undefined
        ? setTimeout(() => stopPolling(new StopError('timeout')), o.timeoutSeconds * 1000)
        : undefined;
    try {
      const result = await s.race(app.acquireTokenByDeviceCode(request));
      const rotated = cachedRefreshToken(app.getTokenCache().serialize(), o.clientId);
      return { result, ...(rotated ? { refreshToken: rotated } : {}) };
    } finally {
      s.endWait();
      if (timer) clearTimeout(timer);
      o.cancel?.removeEventListener('abort', onAbort);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// msal configuration and network module

/** msal's client authentication for a confidential credential. */
interface MsalCredential {
  clientSecret?: string;
  certificate?: ClientCertificate;
}

function credentialOf(c: ConfidentialCredential): MsalCredential {
  return c.secret !== undefined ? { clientSecret: c.secret } : { certificate: c.certificate };
}

/**
 * msal configuration for the target. The authority carries the port unless it is 443, and
 * `knownAuthorities` must name host *and* port, or msal asks Microsoft's hard-coded instance
 * discovery about our authority (msal-lab-notes.md §1). A certificate becomes msal's
 * `clientAssertion` callback: the assertion is signed here (node:crypto) for the token endpoint
 * msal is about to call, a fresh one per request (each carries its own `jti` and lifetime).
 */
function msalConfig(
  ctx: ProbeContext,
  t: EntraTarget,
  s: EntraSession,
  auth: { clientId: string } & MsalCredential,
): Configuration {
  const hostPort = t.login.port === 443 ? t.login.host : `${t.login.host}:${t.login.port}`;
  const cert = auth.certificate;
  // The token endpoint as discovery names it; msal passes it, except on some refresh paths.
  const tokenEndpoint = `https://${hostPort}/${t.tenantId}/oauth2/v2.0/token`;
  return {
    auth: {
      clientId: auth.clientId,
      ...(auth.clientSecret ? { clientSecret: auth.clientSecret } : {}),
      ...(cert
        ? {
            clientAssertion: async (c: { clientId: string; tokenEndpoint?: string }) => {
              const assertion = clientAssertion(cert, {
                clientId: c.clientId,
                tokenEndpoint: c.tokenEndpoint ?? tokenEndpoint,
              });
              // A signed assertion is a credential for its lifetime: never in a step or log.
              s.redactor.add(assertion);
              return assertion;
            },
          }
        : {}),
      authority: `https://${hostPort}/${t.tenantId}`,
      knownAuthorities: [hostPort],
    },
    system: {
      networkClient: networkModule(ctx, s),
      // msal logs nothing we need; PII stays out of any log it might write.
      loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false },
    },
  };
}

/** Step names for the Entra routes msal calls (msal-lab-notes.md §1 "Routes msal-node calls"). */
function stepName(pathname: string): 'discovery' | 'token' | 'devicecode' | 'instance-discovery' {
  if (pathname.endsWith('/oauth2/v2.0/token')) return 'token';
  if (pathname.endsWith('/oauth2/v2.0/devicecode')) return 'devicecode';
  if (pathname.endsWith('/discovery/instance')) return 'instance-discovery';
  return 'discovery';
}

/**
 * msal's INetworkModule over our HTTPS exchange. Non-2xx answers are returned, not thrown:
 * msal reads `error` itself (msal-lab-notes.md §2). Each request becomes a step, except the
 * device flow's `authorization_pending` polls, which are counted into the wait step.
 */
function networkModule(ctx: ProbeContext, s: EntraSession): INetworkModule {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const u = new URL(url);
    const name = stepName(u.pathname);
    const done = s.rec.begin(name, `${method} ${u.pathname}`);
    const target = { host: u.hostname, port: Number(u.port) || 443 };
    let answer: HttpAnswer;
    try {
      answer = await httpsRequest(ctx, {
        method,
        target,
        path: `${u.pathname}${u.search}`,
        headers: options?.headers ?? {},
        ...(options?.body !== undefined ? { body: options.body } : {}),
      });
    } catch (err) {
      const e =
        err instanceof HttpNetworkError
          ? err
          : new HttpNetworkError(String((err as Error)?.message ?? err), 'CONNECT_RESET');
      s.record(name, { networkError: e });
      if (!s.closed) {
        done({
          ok: false,
          code: e.code,
          note: e.sysCode ? `${e.message} (${e.sysCode})` : e.message,
        });
      }
      throw e;
    }
    const body = isRecord(answer.json) ? answer.json : {};
    s.learnSecrets(body);
    const errorBody = typeof body.error === 'string' ? body : undefined;
    s.record(name, { status: answer.status, ...(errorBody ? { errorBody } : {}) });
    if (name === 'token' && errorBody?.error === 'authorization_pending') {
      s.pendingPolls++;
    } else if (!s.closed) {
      done(describeAnswer(answer.status, body));
    }
    return { status: answer.status, headers: flatHeaders(answer.headers), body: body as T };
  };
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions) =>
      send<T>('GET', url, options),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) =>
      send<T>('POST', url, options),
  };
}

/** A step result from one answer: status line, and Entra's error lines as received. */
function describeAnswer(status: number, body: Record<string, unknown>): StepResult {
  const received = [`HTTP ${status}`];
  if (typeof body.error === 'string') {
    received.push(`error: ${body.error}`);
    if (typeof body.error_description === 'string') {
      received.push(...body.error_description.split(/\r?\n/).filter(Boolean));
    }
    return { ok: false, received, code: bodyCode(body) };
  }
  if (status < 200 || status > 299) return { ok: false, received, code: 'HTTP_ERROR' };
  // Facts only, never a value: "expires_in 3599" (a token type right after "Bearer " would
  // read as a bearer credential to the redactor).
  const facts = ['expires_in', 'interval']
    .filter(k => typeof body[k] === 'number' || typeof body[k] === 'string')
    .map(k => `${k} ${String(body[k])}`);
  return { ok: true, received, ...(facts.length ? { note: facts.join(', ') } : {}) };
}

/** The registry code for an Entra error body: its first AADSTS number, else the OAuth error. */
function bodyCode(body: Record<string, unknown>): Code {
  if (body.error === 'authorization_declined') return 'DEVICE_CODE_DECLINED';
  if (body.error === 'expired_token') return 'DEVICE_CODE_EXPIRED';
  const n = firstErrorCode(body);
  return n !== undefined ? aadstsCode(n) : 'ENTRA_ERROR';
}

function firstErrorCode(body: Record<string, unknown> | undefined): number | undefined {
  const codes = body?.error_codes;
  const first: unknown = Array.isArray(codes) ? codes[0] : undefined;
  if (typeof first === 'number') return first;
  const m =
    typeof body?.error_description === 'string' && /AADSTS(\d+)/.exec(body.error_description);
  return m && m[1] ? Number(m[1]) : undefined;
}

function flatHeaders(h: HttpAnswer['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The refresh token msal cached for `clientId`. msal never puts it on the result
 * (msal-lab-notes.md §3), so it is read from the serialized cache (msal's JSON cache format).
 */
function cachedRefreshToken(serialized: string, clientId: string): string | undefined {
  try {
    const cache = JSON.parse(serialized) as {
      RefreshToken?: Record<string, { client_id?: string; secret?: string }>;
    };
    const entries = Object.values(cache.RefreshToken ?? {});
    const mine = entries.find(e => e.client_id?.toLowerCase() === clientId.toLowerCase());
    return (mine ?? entries[0])?.secret || undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// One probe's state: steps, what each endpoint answered, and how it ended

/** Why device-code polling was stopped from our side. */
class StopError extends Error {
  constructor(
    readonly reason: 'timeout' | 'cancelled' | 'callback',
    readonly causeError?: unknown,
  ) {
    super(`device-code sign-in stopped: ${reason}`);
    this.name = 'StopError';
  }
}

/** The run budget ran out before msal finished. */
class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`Entra did not complete within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/** What one endpoint last answered. */
interface Exchanged {
  status?: number;
  errorBody?: Record<string, unknown>;
  networkError?: HttpNetworkError;
}

/** How a flow ended, before it becomes an observation. */
interface Outcome {
  ok: boolean;
  code: Code;
  stage: string;
  aadsts?: number;
  oauthError?: string;
  server?: string;
  claims?: TokenClaims;
  lifetimeMinutes?: number;
}

class EntraSession {
  readonly redactor: Redactor;
  readonly rec: StepRecorder;
  discovery?: Exchanged;
  token?: Exchanged;
  devicecode?: Exchanged;
  /** Set once the observation is built: late answers (a poll in flight) are not recorded. */
  closed = false;
  pendingPolls = 0;
  private waitDone?: (r: StepResult) => unknown;
  private stopReject?: (err: StopError) => void;
  private stopped?: StopError;

  constructor(ctx: ProbeContext, secrets: (string | undefined)[]) {
    // Our own copy, so tokens learnt during the flow can be added without touching the caller's.
    this.redactor = ctx.redactor.with(secrets);
    this.rec = new StepRecorder(this.redactor);
  }

  record(name: string, e: Exchanged) {
    if (name === 'discovery' || name === 'instance-discovery') this.discovery = e;
    else if (name === 'token') this.token = e;
    else if (name === 'devicecode') this.devicecode = e;
  }

  /** Every token or code Entra hands out is a secret from the moment it arrives. */
  learnSecrets(body: Record<string, unknown>) {
    for (const k of ['access_token', 'refresh_token', 'id_token', 'device_code']) {
      const v = body[k];
      if (typeof v === 'string') this.redactor.add(v);
    }
  }

  beginWait() {
    this.waitDone ??= this.rec.begin('wait');
  }

  endWait() {
    if (!this.waitDone || this.closed) return;
    const polls = `${this.pendingPolls} poll${this.pendingPolls === 1 ? '' : 's'} answered authorization_pending`;
    const ok = !this.stopped && !this.token?.errorBody && !this.token?.networkError;
    this.waitDone({ ok, note: polls });
    this.waitDone = undefined;
  }

  /** Stop waiting (device code): the race below rejects with `reason`. */
  stop(reason: StopError) {
    this.stopped ??= reason;
    this.stopReject?.(reason);
  }

  /** Race msal against `stop()`. */
  race<T>(p: Promise<T>): Promise<T> {
    p.catch(() => undefined);
    if (this.stopped) return Promise.reject(this.stopped);
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        this.stopReject = reject;
      }),
    ]);
  }

  /** Run a flow under an optional deadline and turn whatever happens into a result. */
  async settle(
    ctx: ProbeContext,
    t: EntraTarget,
    meta: Meta,
    deadlineMs: number | undefined,
    run: () => Promise<{ result: AuthenticationResult | null; refreshToken?: string }>,
  ): Promise<EntraTokenResult> {
    let outcome: Outcome;
    let accessToken: string | undefined;
    let refreshToken: string | undefined;
    try {
      const got = await withDeadline(run(), deadlineMs);
      const at = got.result?.accessToken;
      if (!at) {
        // msal "succeeds" with an empty access token when Entra omits it (msal-lab-notes.md §4).
        outcome = {
          ok: false,
          code: 'PROTOCOL_ERROR',
          stage: 'token',
          server: 'the token answer carried no access_token',
        };
      } else {
        accessToken = at;
        refreshToken = got.refreshToken;
        this.redactor.add(at).add(refreshToken);
        const claims = decodeClaims(at);
        const minutes = lifetimeMinutes(claims);
        outcome = {
          ok: true,
          code: 'OK',
          stage: 'token',
          ...(claims ? { claims } : {}),
          ...(minutes !== undefined ? { lifetimeMinutes: minutes } : {}),
        };
      }
    } catch (err) {
      outcome = this.failure(err);
    }
    this.endWait();
    this.closed = true;
    if (meta.purpose === 'signin' && meta.flow === 'refresh-token')
      outcome = signinRefusal(outcome);
    const observation = this.observation(ctx, t, meta, outcome);
    return {
      observation,
      ...(accessToken ? { accessToken } : {}),
      ...(refreshToken ? { refreshToken } : {}),
    };
  }

  private observation(
    ctx: ProbeContext,
    t: EntraTarget,
    meta: Meta,
    o: Outcome,
  ): EntraTokenObservation {
    return {
      kind: 'entra-token',
      vantage: ctx.vantage,
      target: `${t.login.host}:${t.login.port}`,
      ...(meta.mailbox ? { mailbox: meta.mailbox } : {}),
      ok: o.ok,
      code: o.code,
      ...(o.server ? { server: this.redactor.text(o.server) } : {}),
      stage: o.stage,
      startedAt: this.rec.startedAt.toISOString(),
      durationMs: this.rec.elapsed(),
      // In start order: the device flow's wait step finishes after the token step it contains.
      steps: [...this.rec.steps].sort((a, b) => a.atMs - b.atMs),
      flow: meta.flow,
      purpose: meta.purpose,
      clientId: meta.clientId,
      scopes: [...meta.scopes],
      ...(o.aadsts !== undefined ? { aadsts: o.aadsts } : {}),
      ...(o.oauthError ? { oauthError: o.oauthError } : {}),
      ...(o.claims ? { claims: o.claims } : {}),
      ...(o.lifetimeMinutes !== undefined ? { lifetimeMinutes: o.lifetimeMinutes } : {}),
    };
  }

  /** Turn a thrown error into an outcome, preferring what Entra itself said. */
  private failure(err: unknown): Outcome {
    if (err instanceof DeadlineError) {
      return { ok: false, code: 'TIMEOUT', stage: this.lastStage(), server: err.message };
    }
    if (err instanceof StopError) return this.stoppedOutcome(err);
    if (!(err instanceof AuthError)) {
      return {
        ok: false,
        code: 'CHECK_CRASHED',
        stage: this.lastStage(),
        server: err instanceof Error ? err.message : String(err),
      };
    }
    switch (err.errorCode) {
      // Discovery failed: msal swallows the cause (msal-lab-notes.md §2, §5), our steps kept it.
      case 'endpoints_resolution_error':
      case 'issuer_validation_failed':
        return this.fromExchange('discovery', this.discovery, err);
      case 'network_error': {
        const failed = [this.token, this.devicecode].find(e => e?.networkError);
        const stage = failed === this.devicecode ? 'devicecode' : 'token';
        if (failed) return this.fromExchange(stage, failed, err);
        return { ok: false, code: 'ENTRA_UNREACHABLE', stage, server: `msal: ${err.errorCode}` };
      }
      // Device flow: msal keeps only the OAuth error string (msal-lab-notes.md §3).
      case 'post_request_failed':
        return this.fromExchange('token', this.token, err);
      case 'device_code_polling_cancelled':
        if (this.devicecode?.errorBody)
          return this.fromExchange('devicecode', this.devicecode, err);
        return this.stoppedOutcome(this.stopped ?? new StopError('cancelled'));
      case 'user_timeout_reached':
      case 'device_code_expired':
        return {
          ok: false,
          code: 'DEVICE_CODE_EXPIRED',
          stage: 'wait',
          server: 'the device code expired before anyone signed in',
        };
      default:
        return this.fromServerError(err);
    }
  }

  private stoppedOutcome(e: StopError): Outcome {
    if (e.reason === 'timeout') {
      return {
        ok: false,
        code: 'DEVICE_CODE_EXPIRED',
        stage: 'wait',
        server: 'nobody signed in before the probe stopped waiting',
      };
    }
    if (e.reason === 'callback') {
      const cause = e.causeError instanceof Error ? e.causeError.message : String(e.causeError);
      return { ok: false, code: 'CHECK_CRASHED', stage: 'wait', server: `onCode failed: ${cause}` };
    }
    return {
      ok: false,
      code: 'DEVICE_CODE_CANCELLED',
      stage: 'wait',
      server: 'the sign-in was cancelled',
    };
  }

  /** An endpoint's own answer decides: its network failure, or its error body. */
  private fromExchange(stage: string, ex: Exchanged | undefined, err: AuthError): Outcome {
    if (ex?.networkError) {
      // No answer at all; the step keeps the network code (refused, TLS, timeout…).
      return {
        ok: false,
        code: 'ENTRA_UNREACHABLE',
        stage,
        server: ex.networkError.message,
      };
    }
    if (ex?.errorBody) return this.fromBody(stage, ex.errorBody, err);
    const fromMsal = this.fromServerError(err);
    if (fromMsal.code !== 'ENTRA_ERROR' && fromMsal.code !== 'PROTOCOL_ERROR') return fromMsal;
    return {
      ok: false,
      code: stage === 'discovery' ? 'PROTOCOL_ERROR' : fromMsal.code,
      stage,
      server:
        stage === 'discovery'
          ? `msal could not use the OpenID configuration (${err.errorCode})`
          : (fromMsal.server ?? err.errorCode),
    };
  }

  private fromBody(stage: string, body: Record<string, unknown>, err?: AuthError): Outcome {
    const n = (err && aadstsOf(err)) ?? firstErrorCode(body);
    const oauthError = typeof body.error === 'string' ? body.error : undefined;
    const description = typeof body.error_description === 'string' ? body.error_description : '';
    return {
      ok: false,
      code: bodyCode(n !== undefined ? { ...body, error_codes: [n] } : body),
      stage,
      ...(n !== undefined ? { aadsts: n } : {}),
      ...(oauthError ? { oauthError } : {}),
      server: description.split(/\r?\n/)[0] || oauthError || 'Entra refused the request',
    };
  }

  /** msal's ServerError (and the throttled form without errorNo, msal-lab-notes.md §5). */
  private fromServerError(err: AuthError): Outcome {
    if (this.token?.errorBody) return this.fromBody('token', this.token.errorBody, err);
    const n = aadstsOf(err);
    const oauthError = /^\d+(\s+\d+)*$/.test(err.errorCode) ? undefined : err.errorCode;
    if (n !== undefined) {
      return {
        ok: false,
        code: aadstsCode(n),
        stage: 'token',
        aadsts: n,
        ...(oauthError ? { oauthError } : {}),
        server: err.errorMessage.split(/\r?\n/)[0] || err.errorCode,
      };
    }
    return {
      ok: false,
      code: err instanceof ServerError ? 'ENTRA_ERROR' : 'PROTOCOL_ERROR',
      stage: this.lastStage(),
      ...(oauthError ? { oauthError } : {}),
      server: `msal: ${err.errorCode}`,
    };
  }

  private lastStage(): string {
    return this.rec.steps.at(-1)?.name ?? 'discovery';
  }
}

/**
 * A refused redemption of ecebot's own sign-in grant. The AADSTS number's code would send the
 * reader to ECE ("regenerate the token in ECE"), but this grant is ecebot's test token: a dead
 * grant (`invalid_grant`: 90 days unused, revoked, a Conditional Access sign-in frequency) is
 * fixed by signing in again, anything else Entra refuses is the sign-in app's registration. The
 * number stays in the server's words (`AADSTS700082: …`) and the step transcript; it is left off
 * `aadsts`, which rules read as a verdict on ECE's grant. Network failures keep their codes.
 */
function signinRefusal(o: Outcome): Outcome {
  if (o.ok || (o.aadsts === undefined && !o.oauthError)) return o;
  const { aadsts: _number, ...rest } = o;
  return {
    ...rest,
    code: o.oauthError === 'invalid_grant' ? 'SIGNIN_TOKEN_EXPIRED' : 'SIGNIN_APP_REFUSED',
  };
}

/**
 * The AADSTS number of an msal error: `errorNo` (a number at runtime though typed string), else
 * `AADSTS<n>` in the message, else a numeric `errorCode` (throttled answers, msal-lab-notes.md §3).
 */
function aadstsOf(err: AuthError): number | undefined {
  const no = (err as { errorNo?: unknown }).errorNo;
  if (no !== undefined && no !== null && no !== '' && Number.isFinite(Number(no)))
    return Number(no);
  const m = /AADSTS(\d+)/.exec(`${err.errorMessage} ${err.errorCode}`);
  if (m?.[1]) return Number(m[1]);
  const first = /^(\d+)/.exec(err.errorCode);
  return first?.[1] ? Number(first[1]) : undefined;
}

/** Reject with DeadlineError after `ms`; msal's own promise is left to settle unobserved. */
function withDeadline<T>(p: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return p;
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
