/**
 * The inbound token of `/api/messages`, decided locally before botframework-connector is asked.
 *
 * botframework-connector fetches the Bot Framework's OpenID metadata and keys for any Bearer
 * value it is given (jwtTokenExtractor.js checks only the issuer before `openIdMetadata.getKey`),
 * with node-fetch and no deadline, and CloudAdapter answered its fetch failures with 500 and the
 * fetch error's text in the body. So a stranger could make the bot call out on every request
 * and read our network's errors. Here:
 *
 * - Every token is first decoded locally (RFC 7519 §7.2): a JWS compact serialization whose
 *   header says `alg: RS256` (the Bot Connector signs with RS256: Microsoft, "Authenticate
 *   requests from the Bot Connector service to your bot", step 3; RFC 8725 §3.1: the expected
 *   algorithm is fixed by us, never taken from the token) and names a `kid`; a payload whose
 *   `iss` is one the connector library accepts for this cloud, whose `aud` is our
 *   MicrosoftAppId, and whose `exp`/`nbf` are numbers within the same 5 minutes of clock
 *   tolerance the library uses. Anything else is 401 and nothing is fetched.
 * - Only then the library checks the signature, endorsements and serviceurl (401 on refusal).
 * - When the metadata or keys cannot be fetched (refused, unreachable, an HTTP error, not
 *   JSON, or slower than our deadline) the answer is 503 with a fixed text (RFC 9110 §15.6.4:
 *   a temporary condition on our side), and the outage is logged once when it begins and once
 *   when it ends, never per request.
 */
import type { Activity } from 'botbuilder';
import {
  AuthenticationConstants,
  AuthenticationError,
  GovernmentConstants,
  JwtTokenValidation,
  type AuthenticateRequestResult,
  type BotFrameworkAuthentication,
} from 'botframework-connector';
import type { BotLog } from './log';

/** The library's clock tolerance for channel and emulator tokens (tokenValidationParameters.js). */
export const CLOCK_TOLERANCE_S = 5 * 60;
/** How long we wait for the library's metadata and key fetches (it sets no deadline itself). */
export const METADATA_DEADLINE_MS = 10_000;
/** After a failed metadata fetch, how long requests get 503 without another fetch. */
export const RETRY_AFTER_MS = 30_000;
/** A Bot Connector token is about 1-2 KB; anything far larger is not one. */
const MAX_TOKEN_CHARS = 16 * 1024;

/**
 * Issuers botframework-connector 4.23 accepts from the Emulator and skills in both clouds
 * (tokenValidationParameters.js `ToBotFromBotOrEmulatorTokenValidationParameters.issuer`):
 * the Bot Framework's own Entra tenants. Their tokens are still checked by the library.
 */
const EMULATOR_ISSUERS = [
  'https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/',
  'https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0',
  'https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/',
  'https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0',
  'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/',
  'https://sts.windows.net/cab8a31a-1906-4287-a0d8-4eef66b95f6e/',
  'https://login.microsoftonline.us/cab8a31a-1906-4287-a0d8-4eef66b95f6e/v2.0',
  'https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/',
  'https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0',
] as const;

/**
 * The issuers a token may name: the channel issuer the library is configured with
 * (`ToBotFromChannelTokenIssuer`, else the public or US Government cloud's by `ChannelService`;
 * botFrameworkAuthenticationFactory.js) and the Emulator/skill issuers above.
 */
export function acceptedIssuers(vars: NodeJS.ProcessEnv): string[] {
  const channel =
    vars.ToBotFromChannelTokenIssuer ||
    (vars.ChannelService && JwtTokenValidation.isGovernment(vars.ChannelService)
      ? GovernmentConstants.ToBotFromChannelTokenIssuer
      : AuthenticationConstants.ToBotFromChannelTokenIssuer);
  return [channel, ...EMULATOR_ISSUERS];
}

/** The verdict of the local check: pass it on, or refuse with a reason that names no value. */
export type LocalVerdict = { ok: true } | { ok: false; reason: string };

function decodePart(part: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decide from the Authorization header alone whether the token can be a Bot Connector token for
 * this bot. Pure: no network, no clock but `nowS`.
 */
export function checkTokenLocally(
  authorization: string,
  o: { appId: string; issuers: readonly string[]; nowS: number },
): LocalVerdict {
  const refuse = (reason: string): LocalVerdict => ({ ok: false, reason });
  if (!authorization.trim()) return refuse('no Authorization header');
  if (authorization.length > MAX_TOKEN_CHARS + 7) return refuse('token too long');
  const m = /^Bearer ([^\s]+)$/.exec(authorization);
  if (!m) return refuse('not a Bearer token');
  const parts = m[1]!.split('.');
  if (parts.length !== 3) return refuse('not a signed JWT (three parts)');
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h);
  const payload = decodePart(p);
  if (!header || !payload) return refuse('not a JWT (header or payload is not base64url JSON)');
  if (header.alg !== 'RS256') return refuse('signing algorithm is not RS256');
  if (!s) return refuse('no signature');
  if (typeof header.kid !== 'string' || !header.kid) return refuse('no key id (kid)');
  if (typeof payload.iss !== 'string' || !o.issuers.includes(payload.iss))
    return refuse('issuer is not a Bot Framework issuer');
  if (payload.aud !== o.appId) return refuse('audience is not this bot');
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))
    return refuse('no expiry (exp)');
  if (payload.exp + CLOCK_TOLERANCE_S <= o.nowS) return refuse('token has expired');
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number' || !Number.isFinite(payload.nbf))
      return refuse('not-before (nbf) is not a number');
    if (payload.nbf - CLOCK_TOLERANCE_S > o.nowS) return refuse('token not yet valid (nbf)');
  }
  return { ok: true };
}

/** jsonwebtoken's errors: a token that is forged, altered, cut, unsigned or not yet valid. */
const JWT_ERRORS = new Set(['JsonWebTokenError', 'NotBeforeError', 'TokenExpiredError']);

/** The text of a 503: fixed, so nothing of our network's errors reaches the caller. */
export const METADATA_UNAVAILABLE =
  'The Bot Framework signing keys cannot be fetched right now; try again later.';

/** What the gate answers. */
export type GateVerdict =
  | { ok: true; result: AuthenticateRequestResult }
  | { ok: false; status: 401 | 500 | 503; message: string };

class MetadataDeadline extends Error {
  override name = 'MetadataDeadline';
}

/**
 * Is this error the library failing to fetch the metadata or keys? openIdMetadata.js throws
 * AuthenticationError with status 500 for an HTTP error ("Failed to load openID config: 404",
 * "Failed to load Keys: 503"); node-fetch throws FetchError for refused/unreachable hosts and
 * invalid JSON bodies; a SyntaxError comes from `res.json()` on some versions.
 */
function isMetadataFailure(err: unknown): boolean {
  if (err instanceof MetadataDeadline) return true;
  if (err instanceof AuthenticationError) return err.statusCode !== 401;
  if (err instanceof Error) return err.name === 'FetchError' || err.name === 'SyntaxError';
  return false;
}

/** The token gate in front of the adapter. */
export class TokenGate {
  private metadataDown = false;
  /** Until when a failed fetch is not retried (ms since the epoch). */
  private quietUntil = 0;

  constructor(
    private readonly auth: BotFrameworkAuthentication,
    private readonly o: {
      /** Empty in local mode: the library then checks nothing and neither do we. */
      appId: string;
      vars: NodeJS.ProcessEnv;
      log: BotLog;
      deadlineMs?: number;
      /** After a failed fetch, how long requests get 503 without another fetch. */
      retryAfterMs?: number;
      now?: () => Date;
    },
  ) {
    // The environment does not change while the process runs: the issuers are worked out once.
    this.issuers = acceptedIssuers(o.vars);
  }

  private readonly issuers: string[];

  /** Authenticate one request: locally first, then with the library under our deadline. */
  async check(activity: Activity, authorization: string): Promise<GateVerdict> {
    if (this.o.appId) {
      const local = checkTokenLocally(authorization, {
        appId: this.o.appId,
        issuers: this.issuers,
        nowS: Math.floor((this.o.now?.() ?? new Date()).getTime() / 1000),
      });
      if (!local.ok) {
        this.o.log.warn({ reason: local.reason }, 'request refused: token');
        return { ok: false, status: 401, message: `Unauthorized. ${local.reason}` };
      }
    }
    // While the metadata is known to be down, do not let every request start another fetch.
    if (this.metadataDown && Date.now() < this.quietUntil)
      return { ok: false, status: 503, message: METADATA_UNAVAILABLE };
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        this.auth.authenticateRequest(activity, authorization),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new MetadataDeadline('deadline')),
            this.o.deadlineMs ?? METADATA_DEADLINE_MS,
          );
        }),
      ]);
      this.metadataUp();
      return { ok: true, result };
    } catch (err) {
      if (isMetadataFailure(err)) {
        this.metadataFailed(err);
        return { ok: false, status: 503, message: METADATA_UNAVAILABLE };
      }
      // The metadata answered: whatever was wrong is the token's.
      this.metadataUp();
      if (
        err instanceof AuthenticationError ||
        (err instanceof Error && JWT_ERRORS.has(err.name))
      ) {
        // The library's messages name the check that failed, never the token.
        const message = err.message.startsWith('Unauthorized')
          ? err.message
          : `Unauthorized. ${err.message}`;
        this.o.log.warn({ reason: message }, 'request refused: token');
        return { ok: false, status: 401, message };
      }
      this.o.log.error({ err }, 'token check failed');
      return { ok: false, status: 500, message: 'internal error' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Seconds a client should wait before retrying after a 503 (RFC 9110 §10.2.3). */
  get retryAfterS(): number {
    return Math.ceil((this.o.retryAfterMs ?? RETRY_AFTER_MS) / 1000);
  }

  private metadataFailed(err: unknown): void {
    this.quietUntil = Date.now() + (this.o.retryAfterMs ?? RETRY_AFTER_MS);
    if (this.metadataDown) return;
    this.metadataDown = true;
    const e = err instanceof Error ? { name: err.name, message: err.message } : { err };
    this.o.log.error(
      { ...e },
      'Bot Framework OpenID metadata cannot be fetched: answering 503 until it can',
    );
  }

  private metadataUp(): void {
    if (!this.metadataDown) return;
    this.metadataDown = false;
    this.o.log.info({}, 'Bot Framework OpenID metadata reachable again');
  }
}
