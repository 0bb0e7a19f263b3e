/**
 * Certificate credentials for a confidential client: the signed JWT ("client assertion") that
 * replaces a client secret at Entra's token endpoint (RFC 7521, RFC 7523 §2.2, `private_key_jwt`
 * in OpenID Connect Core §9). Built with node:crypto only, so workers on Windows servers need no
 * native module.
 *
 * The format follows Microsoft's "Microsoft identity platform application authentication
 * certificate credentials" (learn.microsoft.com/entra/identity-platform/certificate-credentials):
 * - header: `alg` PS256 (RS256 also accepted), `typ` JWT, `x5t#S256` the base64url SHA-256
 *   thumbprint of the certificate (`x5t`, the SHA-1 thumbprint, is the older form and is sent too
 *   for tenants that still look it up);
 * - claims: `aud` the token endpoint (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`),
 *   `iss` and `sub` the client id, `jti` a fresh GUID, `nbf`/`iat` now, `exp` a few minutes on
 *   (Entra refuses an assertion outside its time range: AADSTS700024, o365-facts.md §2.3).
 */
import {
  createHash,
  createPrivateKey,
  randomUUID,
  sign,
  constants,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';

/** The assertion type sent beside the JWT (RFC 7523 §2.2). */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How long an assertion is valid: Microsoft's examples use 5–10 minutes; the floor here. */
const ASSERTION_SECONDS = 300;

/** A certificate and its private key, checked to belong together. */
export interface ClientCertificate {
  /** The certificate (PEM), as uploaded to the app registration. */
  certPem: string;
  /** Its private key; never leaves this process. */
  key: KeyObject;
  /** base64url SHA-256 thumbprint of the DER certificate (`x5t#S256`). */
  x5tS256: string;
  /** base64url SHA-1 thumbprint (`x5t`). */
  x5t: string;
  /** When the certificate stops being valid (ISO 8601). */
  validTo: string;
}

/**
 * Read a certificate and its private key from PEM text. Throws an Error that says what is wrong
 * (never the key): not a certificate, not a private key, not RSA, or a key of another
 * certificate.
 */
export function loadClientCertificate(certPem: string, keyPem: string): ClientCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new Error('the certificate is not a PEM X.509 certificate');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new Error('the key is not a PEM private key (an encrypted key is not supported)');
  }
  // PS256 and RS256 are RSA signatures; Entra's certificate credentials are RSA keys.
  if (key.asymmetricKeyType !== 'rsa')
    throw new Error(`the key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not RSA`);
  if (!cert.checkPrivateKey(key)) throw new Error('the key does not belong to the certificate');
  return {
    certPem: cert.toString(),
    key,
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
    validTo: new Date(cert.validTo).toISOString(),
  };
}

/** What one assertion is for. */
export interface AssertionRequest {
  clientId: string;
  /** The token endpoint the assertion is sent to: its `aud`. */
  tokenEndpoint: string;
  /** Seconds since the epoch; now by default. */
  now?: number;
}

/** A signed client assertion (compact JWS, PS256). */
export function clientAssertion(c: ClientCertificate, r: AssertionRequest): string {
  const now = r.now ?? Math.floor(Date.now() / 1000);
  const header = { alg: 'PS256', typ: 'JWT', 'x5t#S256': c.x5tS256, x5t: c.x5t };
  const claims = {
    aud: r.tokenEndpoint,
    iss: r.clientId,
    sub: r.clientId,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + ASSERTION_SECONDS,
  };
  const input = `${b64(header)}.${b64(claims)}`;
  // PS256: RSASSA-PSS with SHA-256 and a salt as long as the hash (RFC 7518 §3.5).
  const signature = sign('sha256', Buffer.from(input), {
    key: c.key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  });
  return `${input}.${signature.toString('base64url')}`;
}

function b64(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}
