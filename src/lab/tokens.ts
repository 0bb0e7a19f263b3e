/**
 * The lab's token authority: RS256 keys, minting Entra-shaped access tokens and verifying them
 * the way Exchange Online and Graph do (signature, expiry, audience). Claims follow
 * o365-facts.md §2.4: Exchange tokens are v1.0 JWTs issued by https://sts.windows.net/{tid}/.
 */
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** The lab's signing key pair and its JWK (served at /discovery/v2.0/keys). */
export interface LabKeys {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Record<string, unknown>;
}

export function createKeys(): LabKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID().replace(/-/g, '').slice(0, 27);
  const jwk = {
    ...publicKey.export({ format: 'jwk' }),
    kid,
    use: 'sig',
    kty: 'RSA',
    alg: 'RS256',
  };
  return { kid, privateKey, publicKey, jwk };
}

/** Claims of an access token the lab mints. */
export interface AccessClaims {
  aud: string;
  tid: string;
  appid: string;
  /** Delegated: space-separated scopes. */
  scp?: string;
  /** App-only: app roles. */
  roles?: string[];
  upn?: string;
  oid?: string;
  amr?: string[];
  idtyp?: 'app' | 'user';
  lifetimeMinutes: number;
  /** Issue time; defaults to now. */
  iat?: number;
}

/** Mint a signed v1.0 access token. */
export function mintAccessToken(keys: LabKeys, c: AccessClaims): string {
  const iat = c.iat ?? Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    aud: c.aud,
    iss: `https://sts.windows.net/${c.tid}/`,
    iat,
    nbf: iat,
    exp: iat + c.lifetimeMinutes * 60,
    tid: c.tid,
    appid: c.appid,
    appidacr: '1',
    ver: '1.0',
    uti: randomUUID().replace(/-/g, ''),
  };
  if (c.scp) payload.scp = c.scp;
  if (c.roles) payload.roles = c.roles;
  if (c.upn) {
    payload.upn = c.upn;
    payload.unique_name = c.upn;
    payload.name = c.upn.split('@')[0];
  }
  if (c.oid) payload.oid = c.oid;
  // Entra always sets `sub` (pairwise per app); strict validators such as Dovecot require it.
  payload.sub = createHash('sha256')
    .update(`${c.appid}:${c.oid ?? c.upn ?? c.appid}`)
    .digest('base64url')
    .slice(0, 43);
  if (c.amr) payload.amr = c.amr;
  if (c.idtyp) payload.idtyp = c.idtyp;
  return jwt.sign(payload, keys.privateKey, { algorithm: 'RS256', keyid: keys.kid });
}

/** A v2.0 id_token for delegated grants (msal reads oid, tid, preferred_username, name). */
export function mintIdToken(
  keys: LabKeys,
  o: { issuerOrigin: string; tid: string; clientId: string; oid: string; upn: string },
): string {
  const iat = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      iss: `${o.issuerOrigin}/${o.tid}/v2.0`,
      aud: o.clientId,
      iat,
      nbf: iat,
      exp: iat + 3600,
      tid: o.tid,
      oid: o.oid,
      sub: o.oid,
      preferred_username: o.upn,
      name: o.upn.split('@')[0],
      ver: '2.0',
    },
    keys.privateKey,
    { algorithm: 'RS256', keyid: keys.kid },
  );
}

/** Outcome of verifying a bearer token. */
export type Verified =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'audience' };

/** Verify signature (RS256 only: `alg: none` and HS256 are refused), expiry and audience. */
export function verifyAccessToken(keys: LabKeys, token: string, audiences: string[]): Verified {
  try {
    const claims = jwt.verify(token, keys.publicKey, { algorithms: ['RS256'] });
    if (typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed' };
    const aud = (claims as Record<string, unknown>).aud;
    if (typeof aud !== 'string' || !audiences.includes(aud))
      return { ok: false, reason: 'audience' };
    return { ok: true, claims: claims as Record<string, unknown> };
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) return { ok: false, reason: 'expired' };
    if (err instanceof jwt.JsonWebTokenError && /malformed|jwt must be/.test(err.message))
      return { ok: false, reason: 'malformed' };
    return { ok: false, reason: 'signature' };
  }
}

/** Audiences Exchange Online accepts for delegated IMAP/POP/SMTP tokens (o365-facts.md §1.6). */
export const OUTLOOK_AUDIENCES = ['https://outlook.office.com', 'https://outlook.office365.com'];
