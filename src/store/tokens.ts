/**
 * Refresh tokens ecebot keeps itself, per environment and mailbox, sealed by the store:
 *
 * - `rt:<env>:<mailbox>`: ecebot's own test token, from a Teams `signin ENV MAILBOX` through
 *   ecebot's public-client sign-in app (inventory `signin`). The sealed value is the refresh
 *   token. It is redeemed with the sign-in app and no secret.
 * - `rt-ece:<env>:<mailbox>`: the newest successor of ECE's grant that the inventory holds a
 *   copy of (`mailboxes[].refreshToken`), with a fingerprint of that copy. It is redeemed with
 *   ECE's app and its secret or certificate, and only while the inventory still holds the same
 *   copy: a token regenerated in ECE and pasted into the inventory starts a new line.
 *
 * Entra hands out a new refresh token on every redemption and the old one keeps its own 90-day
 * lifetime ("Refresh tokens replace themselves with a fresh token upon every use … The Microsoft
 * identity platform doesn't revoke old refresh tokens", learn.microsoft.com/entra/
 * identity-platform/refresh-tokens; "when you keep using refresh token A, the token will expire
 * after 90 days", Microsoft Q&A 1665481). So whoever redeems keeps the newest one, always: a
 * copy that is never replaced dies 90 days after it was issued (AADSTS700082) however often it
 * is redeemed. The process that redeems (the services server's worker, or the bot in-process)
 * keeps the rotated token through `refreshTokenKeeper`; the bot writes sign-in tokens.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Environment } from '../inventory/types';
import { parseStored, StoredDataError } from '../redis/stored';
import type { Store } from './types';

/** Whose grant a refresh token is, which decides the client that redeems it. */
export type TokenOrigin = 'ece' | 'signin';

/** A refresh token a run redeems for one mailbox. Holds a secret: never log or serialise it. */
export interface MailboxToken {
  refreshToken: string;
  /**
   * `ece`: ECE's grant (the inventory's copy, or ecebot's newest successor of it), redeemed with
   * ECE's confidential app. `signin`: ecebot's own sign-in grant, redeemed with ecebot's
   * public-client sign-in app and no secret.
   */
  origin: TokenOrigin;
  /** The app registration the grant belongs to (it must redeem it). */
  clientId: string;
  /** `ece` only: fingerprint of the inventory copy this token descends from. */
  lineage?: string;
}

/** What the store keeps for an environment, by lowercased mailbox address. */
export interface StoredRefreshTokens {
  /** ecebot's own sign-in tokens. */
  signin: Map<string, string>;
  /** Newest successors of ECE's grants, with the fingerprint of the inventory copy. */
  ece: Map<string, { refreshToken: string; lineage: string }>;
  /**
   * Mailboxes whose kept token could not be read (sealed with another ECEBOT_SECRET_KEY,
   * altered, or the store failed), with why, in words that quote no value. Only those
   * mailboxes go without a kept token; the rest of the part runs.
   */
  unreadable?: Map<string, string>;
}

/** Keep the refresh token Entra handed out when `token` was redeemed. Resolves even on failure. */
export type KeepRefreshToken = (
  environment: string,
  mailbox: string,
  token: MailboxToken,
  rotated: string,
) => Promise<void>;

/** The store key of ecebot's own sign-in token. */
export function refreshTokenKey(environment: string, mailbox: string): string {
  return `rt:${environment}:${mailbox.toLowerCase()}`;
}

/** The store key of the newest successor of ECE's grant. */
export function eceRefreshTokenKey(environment: string, mailbox: string): string {
  return `rt-ece:${environment}:${mailbox.toLowerCase()}`;
}

/**
 * A fingerprint of an inventory refresh token (SHA-256, base64url): tells whether a kept
 * successor descends from the copy the inventory holds now. Kept inside the sealed value only.
 */
export function lineageOf(inventoryToken: string): string {
  return createHash('sha256').update(inventoryToken, 'utf8').digest('base64url');
}

/** What the store keeps for an environment's mailboxes. */
export async function storedRefreshTokens(
  store: Pick<Store, 'getSecret'>,
  env: Environment,
): Promise<StoredRefreshTokens> {
  const out: StoredRefreshTokens = { signin: new Map(), ece: new Map() };
  // One mailbox's stale or undecryptable token must not cost the others theirs: each read is
  // on its own, and a failure is noted for that mailbox only.
  const unreadable = new Map<string, string>();
  const read = async (address: string, key: string): Promise<string | undefined> => {
    try {
      return await store.getSecret(key);
    } catch (err) {
      // SecretBox.open names the secret and the cause, never the value (./crypto.ts).
      if (!unreadable.has(address)) unreadable.set(address, (err as Error).message);
      return undefined;
    }
  };
  for (const m of env.mailboxes) {
    const address = m.address.toLowerCase();
    const rt = await read(address, refreshTokenKey(env.name, address));
    if (rt) out.signin.set(address, rt);
    const key = eceRefreshTokenKey(env.name, address);
    const ece = await read(address, key);
    const parsed = ece ? parseEce(ece, key) : undefined;
    if (parsed instanceof StoredDataError) {
      // Not ours (an older or altered value): the inventory's copy is used instead.
      if (!unreadable.has(address)) unreadable.set(address, parsed.message);
    } else if (parsed) out.ece.set(address, parsed);
  }
  if (unreadable.size) out.unreadable = unreadable;
  return out;
}

/** The sealed value of `rt-ece:…` (opened, so authentic; its shape is still checked). */
const eceTokenSchema = z.object({
  refreshToken: z.string().min(1).max(100_000),
  lineage: z.string().min(1).max(200),
});

function parseEce(
  raw: string,
  key: string,
): { refreshToken: string; lineage: string } | StoredDataError {
  try {
    return parseStored(eceTokenSchema, raw, `store secret ${key}`, 'a kept refresh token');
  } catch (err) {
    if (err instanceof StoredDataError) return err;
    throw err;
  }
}

/**
 * The refresh tokens a run redeems, by lowercased address: the inventory's copy of ECE's grant
 * (or its kept successor, while the inventory holds the same copy), else ecebot's own sign-in
 * token. The inventory wins, as before: it names the grant ECE itself uses.
 */
export function mailboxTokens(
  env: Environment,
  inventory: ReadonlyMap<string, string>,
  stored: StoredRefreshTokens | undefined,
): Map<string, MailboxToken> {
  const out = new Map<string, MailboxToken>();
  for (const m of env.mailboxes) {
    const address = m.address.toLowerCase();
    const copy = inventory.get(address);
    if (copy) {
      const lineage = lineageOf(copy);
      const kept = stored?.ece.get(address);
      out.set(address, {
        refreshToken: kept?.lineage === lineage ? kept.refreshToken : copy,
        origin: 'ece',
        clientId: env.app.clientId,
        lineage,
      });
      continue;
    }
    const own = stored?.signin.get(address);
    // Without a `signin` app (a token kept before it existed) the token is still redeemed as a
    // public client: Entra's answer then says what to fix, and the fix is to sign in again.
    if (own)
      out.set(address, {
        refreshToken: own,
        origin: 'signin',
        clientId: env.signin?.clientId ?? env.app.clientId,
      });
  }
  return out;
}

/** Keep a token from a sign-in (the bot, after checking whose token it is). */
export async function keepSigninToken(
  store: Pick<Store, 'putSecret'>,
  environment: string,
  mailbox: string,
  refreshToken: string,
): Promise<void> {
  await store.putSecret(refreshTokenKey(environment, mailbox), refreshToken);
}

/** What the keeper logs through (pino-style). */
export interface KeeperLog {
  warn(obj: object, msg: string): void;
}

/**
 * Keeps rotated refresh tokens in `store`, sealed as every secret. A store that cannot write
 * (Redis away, no ECEBOT_SECRET_KEY) is logged, never thrown: the run's evidence stands, and the
 * token redeemed this time stays valid until its own expiry. The log names the environment and
 * mailbox, never a token.
 */
export function refreshTokenKeeper(
  store: Pick<Store, 'putSecret'>,
  log: KeeperLog,
): KeepRefreshToken {
  return async (environment, mailbox, token, rotated) => {
    try {
      if (token.origin === 'signin') {
        await keepSigninToken(store, environment, mailbox, rotated);
      } else if (token.lineage) {
        await store.putSecret(
          eceRefreshTokenKey(environment, mailbox),
          JSON.stringify({ refreshToken: rotated, lineage: token.lineage }),
        );
      }
    } catch (err) {
      log.warn(
        { environment, mailbox, origin: token.origin, err: (err as Error).message },
        'the rotated refresh token could not be kept; the one redeemed stays valid until it expires',
      );
    }
  };
}
