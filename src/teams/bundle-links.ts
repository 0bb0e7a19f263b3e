/**
 * The support bundle in Teams (docs/support-bundle.md): the run card's "Support bundle" button
 * (admins only) answers with a card for the admin who pressed it alone (an invoke's answer goes
 * only to the client that asked, teams-bot-notes.md §3), holding a short-lived, single-use,
 * unguessable download link on the bot's own HTTP server and the CLI command that makes the
 * same bundle. Nothing is posted to the conversation.
 *
 * - The link is `ECEBOT_PUBLIC_URL/bundles/<token>`: 256 random bits (base64url); only its
 *   SHA-256 is kept, so a memory dump holds no usable link. It lives 10 minutes.
 * - `GET` shows a small page with a Download button and consumes nothing: link scanners and
 *   previews that fetch a URL posted in chat must not spend it. `POST` spends it and sends the
 *   zip, built then from the stored run (src/bundle/bundle.ts). A spent, expired or unknown
 *   token gets the same 404.
 * - Without ECEBOT_PUBLIC_URL there is no link: the card names the CLI command instead.
 *
 * The links are kept in this process: with several replicas, the POST must reach the replica
 * that made the link (the docs say so); a link lost with a restart is asked for again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type * as restify from 'restify';
import { buildBundle, bundleFileName, knownSecretsOf, storedRun } from '../bundle/bundle';
import { messages, type Lang } from '../i18n';
import { InputError } from '../inventory/errors';
import type { Inventory } from '../inventory/load';
import type { AdaptiveCard } from '../render/card-data';
import { escapeMarkdown } from '../render/escape';
import type { Store } from '../store/types';
import type { BotLog } from './log';

/** How long a link works. */
export const BUNDLE_LINK_TTL_MS = 10 * 60_000;
/** Links outstanding at most; the oldest go first. */
const MAX_LINKS = 1000;
/** A token as made here: 32 random bytes in base64url (RFC 4648 §5), 43 characters. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * `ECEBOT_PUBLIC_URL`: where people's browsers reach this bot (`https://bot.example.com`, the
 * same host that fronts /api/messages). https only, except plain http on a loopback address
 * (local trials). Undefined when unset; a bad value stops the start-up.
 */
export function publicUrlFrom(vars: NodeJS.ProcessEnv): URL | undefined {
  const raw = vars.ECEBOT_PUBLIC_URL?.trim();
  if (!raw) return undefined;
  const how =
    'set ECEBOT_PUBLIC_URL to the https address people reach the bot at, like https://ecebot.example.com';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`ECEBOT_PUBLIC_URL ${JSON.stringify(raw)} is not a URL`, how);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) !== 0 && /^(127\.|::1$)/.test(host));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new InputError(
      `ECEBOT_PUBLIC_URL ${JSON.stringify(raw)} is not https (plain http only on 127.0.0.1)`,
      how,
    );
  if (url.username || url.password || url.search || url.hash)
    throw new InputError('ECEBOT_PUBLIC_URL carries credentials, a query or a fragment', how);
  return url;
}

/** One outstanding link. */
interface Link {
  runId: string;
  expiresAt: number;
  /** Who asked (for the log of the download). */
  by: string;
}

/** What the links need. */
export interface BundleLinksOptions {
  store: Store;
  inventory: () => Inventory;
  /** Where the environments' secret references are resolved (to cut their values out). */
  vars: NodeJS.ProcessEnv;
  publicUrl: URL | undefined;
  log: BotLog;
  now: () => Date;
  ttlMs?: number;
}

/** An offered link. */
export interface BundleOffer {
  url: string;
  expiresAt: Date;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** The bot's bundle links. */
export class BundleLinks {
  private readonly links = new Map<string, Link>();
  private readonly ttl: number;

  constructor(private readonly o: BundleLinksOptions) {
    this.ttl = o.ttlMs ?? BUNDLE_LINK_TTL_MS;
  }

  /** Whether links can be offered (ECEBOT_PUBLIC_URL is set). */
  get enabled(): boolean {
    return !!this.o.publicUrl;
  }

  private prune(): void {
    const t = this.o.now().getTime();
    for (const [k, v] of this.links) if (v.expiresAt <= t) this.links.delete(k);
    while (this.links.size >= MAX_LINKS) this.links.delete(this.links.keys().next().value!);
  }

  /** A new link to the bundle of `runId` (already checked: stored, visible, asked by an admin). */
  offer(runId: string, by: string): BundleOffer | undefined {
    if (!this.o.publicUrl) return undefined;
    this.prune();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.o.now().getTime() + this.ttl;
    this.links.set(hashOf(token), { runId, expiresAt, by });
    const base = this.o.publicUrl.href.replace(/\/+$/, '');
    return { url: `${base}/bundles/${token}`, expiresAt: new Date(expiresAt) };
  }

  /** The live link of a token, without spending it. */
  private peek(token: unknown): Link | undefined {
    if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
    const link = this.links.get(hashOf(token));
    if (!link) return undefined;
    if (link.expiresAt <= this.o.now().getTime()) {
      this.links.delete(hashOf(token));
      return undefined;
    }
    return link;
  }

  /** Spend a token: its link, once. */
  private take(token: unknown): Link | undefined {
    const link = this.peek(token);
    if (link) this.links.delete(hashOf(token as string));
    return link;
  }

  /** Add `GET` and `POST /bundles/:token` to the bot's server. */
  routes(server: restify.Server): void {
    const gone = (res: restify.Response) => {
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.sendRaw(
        404,
        'This download link is unknown, used or expired: ask for the bundle again.\n',
      );
    };
    server.get(
      '/bundles/:token',
      (req: restify.Request, res: restify.Response, next: restify.Next) => {
        const link = this.peek(req.params?.token);
        if (!link) {
          gone(res);
          return next();
        }
        res.setHeader('cache-control', 'no-store');
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.setHeader('content-security-policy', "default-src 'none'; form-action 'self'");
        res.setHeader('referrer-policy', 'no-referrer');
        res.setHeader('x-content-type-options', 'nosniff');
        const name = bundleFileName(link.runId);
        res.sendRaw(
          200,
          `<!doctype html><meta charset="utf-8"><title>${name}</title>` +
            `<p>ecebot support bundle: <b>${name}</b></p>` +
            '<form method="post"><button type="submit">Download (works once)</button></form>\n',
        );
        return next();
      },
    );
    server.post('/bundles/:token', async (req: restify.Request, res: restify.Response) => {
      const link = this.take(req.params?.token);
      if (!link) {
        gone(res);
        return;
      }
      try {
        const run = await storedRun(this.o.store, link.runId);
        if (!run) {
          gone(res);
          return;
        }
        const inv = this.o.inventory();
        const env = inv.environments.get(run.environment);
        const bundle = buildBundle({
          run,
          env,
          knownSecrets: env ? await knownSecretsOf(env, inv, this.o.vars, this.o.store) : [],
          createdAt: this.o.now(),
        });
        this.o.log.info({ runId: run.id, by: link.by }, 'support bundle downloaded');
        res.setHeader('cache-control', 'no-store');
        res.setHeader('content-type', 'application/zip');
        res.setHeader('content-disposition', `attachment; filename="${bundle.fileName}"`);
        res.setHeader('x-content-type-options', 'nosniff');
        res.sendRaw(200, bundle.bytes);
      } catch (err) {
        this.o.log.error({ err, runId: link.runId }, 'building a support bundle failed');
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.sendRaw(500, 'The bundle could not be built; the error is in the bot log.\n');
      }
    });
  }
}

/**
 * The answer to the button, for the admin who pressed it: the link (when there is one), the
 * CLI command, and a way back to the run's card.
 */
export function bundleCard(
  lang: Lang,
  runId: string,
  offer: BundleOffer | undefined,
  minutes: number,
): AdaptiveCard {
  const m = messages(lang);
  const id = escapeMarkdown(runId);
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: m.bundleTitle(id), weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'TextBlock', text: offer ? m.bundleReady(minutes) : m.bundleNoLink, wrap: true },
      {
        type: 'TextBlock',
        text: m.bundleCli(`ecebot bundle ${runId}`),
        wrap: true,
        isSubtle: true,
      },
    ],
    actions: [
      ...(offer ? [{ type: 'Action.OpenUrl', title: m.bundleDownload, url: offer.url }] : []),
      { type: 'Action.Execute', title: m.backToRun, verb: 'showRun', data: { runId } },
    ],
  };
}
