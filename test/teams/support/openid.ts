/**
 * A stand-in for the Bot Framework's token authority (login.botframework.com): a real HTTP
 * server on 127.0.0.1 that serves the OpenID metadata `{issuer, jwks_uri}` and the signing
 * keys with their channel endorsements, and the tokens it would sign (RS256, made here with
 * node:crypto). botframework-connector fetches the metadata, then `jwks_uri`, and checks
 * channel tokens against those keys (teams-bot-notes.md §1 "Production JWT validation";
 * Microsoft: "Authenticate requests from the Bot Connector service to your bot").
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The issuer of Bot Connector → bot tokens in the public cloud. */
export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';

/** An RSA signing key and the JWK the metadata lists for it. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** `{kty, kid, n, e, endorsements}`: the shape of a key at login.botframework.com. */
  jwk: Record<string, unknown>;
}

/** A new RSA-2048 key, endorsed for the given channels (`msteams` for Teams). */
export function signingKey(endorsements: string[] = ['msteams']): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID().replace(/-/g, '');
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { kid, privateKey, jwk: { kty: 'RSA', use: 'sig', kid, n, e, endorsements } };
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * A compact JWS signed with RS256 (RFC 7515 §3.1, RFC 7518 §3.3): `alg` and `kid` in the
 * header unless `header` says otherwise.
 */
export function signToken(
  key: Pick<SigningKey, 'kid' | 'privateKey'>,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64url({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header })}.${b64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input), key.privateKey).toString('base64url');
  return `${input}.${signature}`;
}

/** An unsecured JWT (`alg: none`, empty signature; RFC 7519 §6), which a validator must refuse. */
export function unsignedToken(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  return `${b64url({ alg: 'none', typ: 'JWT', ...header })}.${b64url(payload)}.`;
}

/** Claims of a Bot Connector token, as the connector sends them to the bot. */
export interface ChannelClaims {
  /** The bot's MicrosoftAppId. */
  aud: string;
  /** The activity's serviceUrl. */
  serviceurl: string;
  iss?: string;
  /** Seconds since the epoch; defaults to now. */
  iat?: number;
  /** Lifetime in seconds; the connector's tokens last an hour. */
  lifetime?: number;
}

/** The payload of a channel token. */
export function channelPayload(c: ChannelClaims): Record<string, unknown> {
  const iat = c.iat ?? Math.floor(Date.now() / 1000);
  return {
    serviceurl: c.serviceurl,
    nbf: iat,
    exp: iat + (c.lifetime ?? 3600),
    iat,
    iss: c.iss ?? BOT_FRAMEWORK_ISSUER,
    aud: c.aud,
  };
}

/** The metadata server. */
export class OpenIdServer {
  /** Paths requested, in order (proves the validator fetched the keys from here). */
  readonly requests: string[] = [];
  private readonly server: http.Server;

  private constructor(private readonly keys: SigningKey[]) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** Serve the given keys (the emulator metadata lists none). */
  static async start(keys: SigningKey[]): Promise<OpenIdServer> {
    const s = new OpenIdServer(keys);
    await new Promise<void>(r => s.server.listen(0, '127.0.0.1', r));
    return s;
  }

  private get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** For ToBotFromChannelOpenIdMetadataUrl. */
  get channelMetadataUrl(): string {
    return `${this.base}/v1/.well-known/openidconfiguration`;
  }

  /**
   * For ToBotFromEmulatorOpenIdMetadataUrl: a metadata document whose key set is empty, so
   * a token that claims to come from the Emulator can be checked without leaving the machine
   * and is never accepted.
   */
  get emulatorMetadataUrl(): string {
    return `${this.base}/emulator/.well-known/openid-configuration`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = (req.url ?? '').split('?')[0]!;
    this.requests.push(path);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/v1/.well-known/openidconfiguration')
      json({ issuer: BOT_FRAMEWORK_ISSUER, jwks_uri: `${this.base}/v1/keys` });
    else if (path === '/v1/keys') json({ keys: this.keys.map(k => k.jwk) });
    else if (path === '/emulator/.well-known/openid-configuration')
      json({
        issuer: 'https://login.microsoftonline.com/',
        jwks_uri: `${this.base}/emulator/keys`,
      });
    else if (path === '/emulator/keys') json({ keys: [] });
    else {
      res.writeHead(404);
      res.end();
    }
  }

  async close(): Promise<void> {
    await new Promise<void>(r => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}
