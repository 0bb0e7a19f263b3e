/**
 * What pino removes from every log line of `ecebot serve` and `ecebot worker` (anchors.md C,
 * lesson 5: secrets never reach a log). One list, so the bot, the workers and the tests that
 * prove it all use the same paths.
 *
 * Paths are pino's (fast-redact) syntax, matched against the logged object after its
 * serializers ran; `*` is one level of any key. HTTP header names are case-insensitive
 * (RFC 9110 §5.1), and libraries log them both ways, so each header is listed in both spellings.
 */

/** Paths pino replaces with `REDACT_CENSOR`. */
const REDACT_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  'Authorization',
  '*.Authorization',
  // A request logged whole: `{ req: { headers: { authorization } } }`.
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'clientSecret',
  '*.clientSecret',
  // The same secrets under their OAuth 2.0 wire names (RFC 6749 §2.3.1, §5.1, §6).
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'client_secret',
  '*.client_secret',
  // The connector's RestError carries the request it failed on, bearer header included.
  'err.request.headers',
  'err.response.request.headers',
  // Axios errors (Bot Framework's token and skill clients) carry the request configuration and
  // the raw request, whose `_header` is the header block as sent, bearer token included.
  'err.config.headers',
  'err.request._header',
  'err.response.config.headers',
  'err.response.request._header',
];

/** What a redacted value reads as. */
export const REDACT_CENSOR = '<redacted>';

/** pino's `redact` option with the list above. */
export function logRedaction(): { paths: string[]; censor: string } {
  return { paths: [...REDACT_PATHS], censor: REDACT_CENSOR };
}
