/**
 * Reading a JWT's claims without verifying it. ecebot is the token's client, not its audience:
 * it cannot check the signature of a token meant for Exchange, and does not need to. It reads
 * the claims to judge who the token is for and what it allows (o365-facts.md §2.4, §2.6).
 * Only the claims in `TokenClaims` are kept, so nothing else a token carries reaches evidence.
 */
import type { TokenClaims } from '../model';

const STRING_CLAIMS = [
  'iss',
  'scp',
  'upn',
  'unique_name',
  'preferred_username',
  'oid',
  'tid',
  'appid',
  'azp',
  'idtyp',
  'ver',
] as const;
const NUMBER_CLAIMS = ['iat', 'nbf', 'exp'] as const;
const LIST_CLAIMS = ['roles', 'amr'] as const;

/**
 * The claims of a compact JWS (RFC 7515 §7.1: `header.payload.signature`), or undefined when
 * `token` is not one (opaque tokens, broken base64url, a payload that is not a JSON object).
 */
export function decodeClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  let payload: unknown;
  try {
    // base64url without padding (RFC 7515 §2); Node's decoder accepts it as is.
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  const claims: TokenClaims = {};
  // RFC 7519 §4.1.3 allows `aud` to be an array; Entra sends one string.
  const aud = Array.isArray(p.aud) ? p.aud.find(a => typeof a === 'string') : p.aud;
  if (typeof aud === 'string') claims.aud = aud;
  for (const k of STRING_CLAIMS) {
    const v = p[k];
    if (typeof v === 'string') claims[k] = v;
  }
  for (const k of NUMBER_CLAIMS) {
    const v = p[k];
    if (typeof v === 'number' && Number.isFinite(v)) claims[k] = v;
  }
  for (const k of LIST_CLAIMS) {
    const v = p[k];
    if (Array.isArray(v)) claims[k] = v.filter((x): x is string => typeof x === 'string');
  }
  return claims;
}

/** `exp - iat` in whole minutes, when both are present (o365-facts.md §2.5). */
export function lifetimeMinutes(claims: TokenClaims | undefined): number | undefined {
  if (claims?.exp === undefined || claims.iat === undefined) return undefined;
  return Math.round((claims.exp - claims.iat) / 60);
}
