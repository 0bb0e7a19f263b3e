/**
 * Preparing a run: everything that can fail because of the input (unknown items, missing
 * secrets, an unreadable CA file) fails here, before any probe goes out.
 */
import { randomBytes } from 'node:crypto';
import { isItemId, itemIds } from '../checklist/items';
import type { ItemId } from '../model/items';
import { InputError } from '../inventory/errors';
import { suggest, type Inventory } from '../inventory/load';
import {
  resolveEnvironmentSecrets,
  SECRET_KINDS,
  type EnvironmentSecrets,
  type SecretKind,
} from '../inventory/secrets';
import type { Environment } from '../inventory/types';
import type { Deadlines, ProxyConfig } from '../probes/context';
import { proxySecrets } from '../probes/proxy';
import {
  mailboxTokens,
  type KeepRefreshToken,
  type MailboxToken,
  type StoredRefreshTokens,
} from '../store/tokens';
import { deadlinesOf, proxyOf, readCaFile } from '../tenant/context';
import { Redactor } from '../util/redact';
import { vantagesForItems } from './progress';

/** A run ready to execute. Holds secrets: never serialise it. */
export interface PreparedRun {
  id: string;
  env: Environment;
  secrets: EnvironmentSecrets;
  ca?: string;
  /** HTTP proxy for HTTPS, from the inventory or HTTPS_PROXY (../tenant/context.ts proxyOf). */
  proxy?: ProxyConfig;
  deadlines: Deadlines;
  items: ItemId[];
  redactor: Redactor;
  /** The refresh token each mailbox's read redeems, with whose grant it is (by lowercased address). */
  mailboxTokens: ReadonlyMap<string, MailboxToken>;
  /**
   * Keep the refresh token Entra rotated to when a mailbox's token was redeemed (the process
   * that redeems has the store); unset where nothing is kept (the CLI without a store).
   */
  keepRefreshToken?: (mailbox: string, token: MailboxToken, rotated: string) => Promise<void>;
}

/** Validate `--item` values against the catalogue, suggesting the closest id for typos. */
export function parseItems(raw: string[] | undefined): ItemId[] {
  const known = itemIds();
  if (!raw?.length) return known;
  const out: ItemId[] = [];
  for (const r of raw.flatMap(v => v.split(','))) {
    const id = r.trim().toLowerCase();
    if (!isItemId(id)) {
      const close = suggest(id, known);
      throw new InputError(
        `unknown checklist item ${JSON.stringify(r)}`,
        `${close ? `did you mean ${close}? ` : ''}items: ${known.join(', ')}`,
      );
    }
    if (!out.includes(id)) out.push(id);
  }
  // Keep the checklist's order whatever order they were given in.
  return known.filter(i => out.includes(i));
}

/** A short, sortable, unique run id: `<env>-<yyyymmddhhmmss>-<4 hex>`. */
export function newRunId(env: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${env}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export function prepareRun(
  env: Environment,
  inv: Inventory | undefined,
  opts: {
    items?: string[];
    vars: NodeJS.ProcessEnv;
    now?: Date;
    /**
     * Refresh tokens ecebot keeps itself (../store/tokens.ts): sign-in tokens, used where the
     * inventory has none, and successors of the inventory's copies of ECE's grants.
     */
    storedRefreshTokens?: StoredRefreshTokens;
    /** Where rotated refresh tokens are kept (the store of the process that redeems). */
    keepRefreshTokens?: KeepRefreshToken;
    /**
     * The kinds of secret to resolve, and no other (a worker: what its vantage point's reads
     * need, ./secrets-needed.ts). Without it every kind, for a process that makes every read.
     */
    needs?: Iterable<SecretKind>;
  },
): PreparedRun {
  const items = parseItems(opts.items);
  const needs = new Set(opts.needs ?? SECRET_KINDS);
  const secrets = resolveEnvironmentSecrets(env, inv, opts.vars, needs);
  // Tokens ecebot keeps are secrets too: a vantage point that redeems none is not given them.
  const tokens = needs.has('refreshTokens')
    ? mailboxTokens(env, secrets.refreshTokens, opts.storedRefreshTokens)
    : new Map<string, MailboxToken>();
  for (const [mailbox, t] of tokens) {
    // Whether a mailbox has a token at all is an inventory fact (`hasToken`) rules judge on.
    if (!secrets.refreshTokens.has(mailbox)) secrets.refreshTokens.set(mailbox, t.refreshToken);
  }
  const ca = readCaFile(env, inv);
  const proxy = proxyOf(env, inv, opts.vars);
  const deadlines = deadlinesOf(env);
  const redactor = new Redactor([
    secrets.appSecret ?? '',
    secrets.probeSecret ?? '',
    ...secrets.refreshTokens.values(),
    ...[...tokens.values()].map(t => t.refreshToken),
    // A private key, whole and line by line (a log may quote part of a PEM).
    ...pemSecrets(secrets.appCertificateKeyPem),
    ...proxySecrets(proxy),
  ]);
  const keep = opts.keepRefreshTokens;
  return {
    id: newRunId(env.name, opts.now ?? new Date()),
    env,
    secrets,
    ca,
    ...(proxy ? { proxy } : {}),
    deadlines,
    items,
    redactor,
    mailboxTokens: tokens,
    ...(keep
      ? {
          keepRefreshToken: (mailbox: string, token: MailboxToken, rotated: string) =>
            keep(env.name, mailbox, token, rotated),
        }
      : {}),
  };
}

/** A PEM private key and each line of its body, for the redactor. */
function pemSecrets(pem: string | undefined): string[] {
  if (!pem) return [];
  return [pem, ...pem.split(/\r?\n/).filter(l => l.length >= 16 && !l.startsWith('-----'))];
}

/**
 * Vantage points a run needs: the servers and `central` its items' declarations draw on
 * (`check --item version` needs none; a full run needs every server and `central`).
 */
export function vantagesOf(run: PreparedRun): string[] {
  return vantagesForItems(run.env, run.items);
}
