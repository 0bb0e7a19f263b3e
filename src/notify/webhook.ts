/**
 * A Notifier that posts alerts as signed JSON to webhooks the inventory names (environment
 * `webhooks`), for PagerDuty, Jira Service Management or ServiceNow routing. It runs behind the
 * same durable outbox as Teams (./outbox.ts), which retries what this notifier marks retryable.
 *
 * Signing (docs/overview-and-webhook.md): `X-Ecebot-Timestamp` is the Unix time in seconds and
 * `X-Ecebot-Signature` is `sha256=` and the lowercase hex HMAC-SHA256, keyed with the webhook's
 * secret, of `<timestamp>.<raw body>`. The `sha256=` hex form is GitHub's (docs.github.com,
 * "Validating webhook deliveries", X-Hub-Signature-256); signing the timestamp with the body is
 * Stripe's (stripe-ruby `Stripe::Webhook::Signature.compute_signature`, `"#{t}.#{payload}"`),
 * so a receiver can refuse an old delivery replayed with its signature.
 *
 * Retries: no answer (refused, reset, our deadline), 429 and every 5xx are retried, honouring
 * Retry-After (RFC 9110 §10.2.3); a redirect and any other 4xx are not: the receiver said no,
 * and a redirect is not followed since only the inventory chooses where alerts go.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../inventory/errors';
import type { Inventory } from '../inventory/load';
import { webhookUrlRefusal } from '../inventory/schema';
import { resolveSecret } from '../inventory/secrets';
import type { Decision } from './alerts';
import { retryAfterMs } from './connector';
import { SendError, type Message, type Notifier, type NotifyEvent, type SendResult } from './types';

/**
 * Outbox conversation keys of webhooks start with this. A key that merely looks like one can
 * reach nothing else: the notifier posts only to the URL the inventory gives that name.
 */
export const WEBHOOK_KEY_PREFIX = 'webhook:';

/** The outbox conversation key of an environment's webhook. */
export function webhookKey(environment: string, name: string): string {
  return `${WEBHOOK_KEY_PREFIX}${environment}:${name}`;
}

/** The environment and webhook name of a key, or undefined when it is not a webhook's. */
export function parseWebhookKey(key: string): { environment: string; name: string } | undefined {
  const m = /^webhook:([a-z0-9][a-z0-9_-]*):([a-z0-9][a-z0-9_-]*)$/.exec(key);
  return m ? { environment: m[1]!, name: m[2]! } : undefined;
}

/** Every webhook key of an environment (none when it has no webhooks or is unknown). */
export function webhookKeysOf(inv: Inventory, environment: string): string[] {
  return (inv.environments.get(environment)?.webhooks ?? []).map(h =>
    webhookKey(environment, h.name),
  );
}

/** The signature header's value: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** One event per decision: what the alert card says about each item, as data. */
export function webhookEvents(
  environment: string,
  run: { id: string; finishedAt: string },
  decisions: readonly Decision[],
): NotifyEvent[] {
  return decisions.map(d => ({
    id: `${d.kind}-${run.id}-${d.item}`,
    kind: d.kind,
    environment,
    item: d.item,
    code: d.finding.code,
    status: d.finding.status,
    summary: d.finding.summary,
    runId: run.id,
    time: run.finishedAt,
  }));
}

/** The event as it may leave: a queued job is Redis data, checked like any outside input. */
const eventSchema = z.strictObject({
  id: z.string().min(1).max(512),
  kind: z.enum(['alert', 'reminder', 'recovery']),
  environment: z.string().min(1).max(128),
  item: z.string().min(1).max(128),
  code: z.string().min(1).max(128),
  status: z.string().min(1).max(32),
  summary: z.string().max(4096),
  runId: z.string().min(1).max(256),
  time: z.string().min(1).max(64),
});

/** Options of the webhook notifier. */
export interface WebhookNotifierOptions {
  inventory: () => Inventory;
  /** Where `env:` secret references are read. */
  vars: NodeJS.ProcessEnv;
  /** Per request deadline (default 10 s). */
  timeoutMs?: number;
  now?: () => Date;
}

/** Statuses a webhook is sent again after: too many requests, and any server error. */
function retryStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export class WebhookNotifier implements Notifier {
  constructor(private readonly opts: WebhookNotifierOptions) {}

  /** The URL and secret of a key; a key or webhook the inventory does not know is final. */
  private target(conversation: string): { url: string; secret: string } {
    const key = parseWebhookKey(conversation);
    const inv = this.opts.inventory();
    const env = key && inv.environments.get(key.environment);
    const i = env?.webhooks?.findIndex(h => h.name === key!.name) ?? -1;
    const hook = env?.webhooks?.[i];
    if (!env || !hook)
      throw new SendError(
        `${conversation} is not a webhook of the inventory`,
        404,
        undefined,
        undefined,
        false,
      );
    // Checked again here, not only when the inventory was loaded: this is where the URL is used.
    const refusal = webhookUrlRefusal(hook.url);
    if (refusal)
      throw new SendError(
        `webhook ${key!.name} of ${env.name}: the URL ${refusal}`,
        400,
        undefined,
        undefined,
        false,
      );
    try {
      return {
        url: hook.url,
        secret: resolveSecret(hook.secret, env, inv, ['webhooks', i, 'secret'], this.opts.vars),
      };
    } catch (err) {
      // The message names the reference and the field, never a value (./inventory/secrets.ts).
      if (!(err instanceof InputError)) throw err;
      throw new SendError(
        `webhook ${key!.name} of ${env.name}: ${err.field ? `${err.field}: ` : ''}${err.message}${err.hint ? ` (fix: ${err.hint})` : ''}`,
        400,
        undefined,
        undefined,
        false,
      );
    }
  }

  async send(conversation: string, message: Message): Promise<SendResult> {
    const { url, secret } = this.target(conversation);
    const parsed = eventSchema.safeParse(message.event);
    if (!parsed.success)
      throw new SendError(
        `the message for ${conversation} holds no valid alert event; not sent`,
        400,
        undefined,
        undefined,
        false,
      );
    const body = JSON.stringify(parsed.data);
    const timestamp = Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ecebot-webhook',
          'x-ecebot-delivery': parsed.data.id,
          'x-ecebot-timestamp': String(timestamp),
          'x-ecebot-signature': webhookSignature(secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      // No answer at all: status 0, retried by the outbox. The URL's host is the inventory's.
      throw new SendError(
        `POST to webhook ${conversation}: ${(err as Error).message}`,
        0,
        undefined,
        undefined,
        true,
      );
    }
    // The receiver's words are not kept: a 4xx body may echo what it was sent.
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return {};
    const redirect = res.status >= 300 && res.status < 400;
    throw new SendError(
      `POST to webhook ${conversation}: HTTP ${res.status}${redirect ? ' (redirects are not followed: put the final URL in the inventory)' : ''}`,
      res.status,
      retryAfterMs(res.headers.get('retry-after')),
      undefined,
      retryStatus(res.status),
    );
  }

  update(conversation: string): Promise<void> {
    // A webhook delivery cannot be edited; nothing queues updates for one.
    return Promise.reject(
      new SendError(
        `${conversation}: a webhook delivery cannot be updated`,
        400,
        undefined,
        undefined,
        false,
      ),
    );
  }
}

/**
 * One notifier for the outbox: webhook keys (`webhook:ENV:NAME`) go to `webhooks`, every other
 * conversation to `teams`.
 */
export function routeNotifier(teams: Notifier, webhooks: Notifier): Notifier {
  const pick = (c: string) => (c.startsWith(WEBHOOK_KEY_PREFIX) ? webhooks : teams);
  return {
    send: (c, m) => pick(c).send(c, m),
    update: (c, id, m) => pick(c).update(c, id, m),
  };
}
