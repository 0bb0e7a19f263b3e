/**
 * A Notifier that posts Bot Framework activities over HTTP to the conversation's own
 * `serviceUrl` (always the stored, regional one: teams-bot-notes.md §2):
 * `POST {serviceUrl}/v3/conversations/{id}/activities` to send and
 * `PUT …/activities/{activityId}` to update in place (Bot Framework Connector REST API).
 * The token (when auth is on) comes from a provider the Teams layer passes in.
 *
 * Redis is a trust boundary: the stored reference is checked with a schema and its serviceUrl
 * followed only on the connector hosts of ./service-url.ts, because the token goes with every
 * request to whatever host the reference names.
 */
import { z } from 'zod';
import type { Store } from '../store/types';
import { serviceUrlRefusal, UntrustedServiceUrlError, type ServiceUrlPolicy } from './service-url';
import { SendError, type Message, type Notifier, type SendResult } from './types';

/** The parts of a stored conversation reference this notifier reads (bounds are ours). */
const referenceSchema = z.object({
  serviceUrl: z.string().min(1).max(2048),
  conversation: z.object({ id: z.string().min(1).max(1024) }),
  bot: z
    .object({ id: z.string().min(1).max(1024), name: z.string().max(1024).optional() })
    .optional(),
});
type Reference = z.infer<typeof referenceSchema>;

/** Options of the HTTP notifier. */
export interface ConnectorNotifierOptions {
  store: Pick<Store, 'getConversation'>;
  /** Bearer token for the connector (Bot Framework app token); none for a local emulator. */
  token?: () => Promise<string | undefined>;
  /** Per request deadline (default 15 s). */
  timeoutMs?: number;
  /** The serviceUrl hosts followed (serviceUrlPolicyFrom). */
  serviceUrls: ServiceUrlPolicy;
  /** Told about refused references (conversation key, reason; never the token or the URL). */
  onRefused?: (conversation: string, reason: string) => void;
}

/** Parse `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function activity(ref: Reference, m: Message, id?: string): Record<string, unknown> {
  return {
    type: 'message',
    ...(id ? { id } : {}),
    conversation: { id: ref.conversation.id },
    ...(ref.bot ? { from: ref.bot } : {}),
    ...(m.text ? { text: m.text } : {}),
    ...(m.card
      ? {
          attachments: [
            { contentType: 'application/vnd.microsoft.card.adaptive', content: m.card },
          ],
        }
      : {}),
  };
}

export class ConnectorNotifier implements Notifier {
  constructor(private readonly opts: ConnectorNotifierOptions) {}

  private async reference(conversation: string): Promise<Reference> {
    const raw = await this.opts.store.getConversation(conversation);
    if (raw === undefined || raw === null)
      // Not retryable: nothing will make an unknown conversation appear.
      throw new SendError(`no stored conversation reference for ${conversation}`, 404);
    const parsed = referenceSchema.safeParse(raw);
    // Not retryable either; the failing fields are named, their values never repeated.
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map(i => i.path.join('.') || '(record)'))];
      const reason = `stored reference is malformed (${fields.join(', ')})`;
      this.opts.onRefused?.(conversation, reason);
      throw new SendError(`${reason} for ${conversation}; not followed`, 400);
    }
    const reason = serviceUrlRefusal(parsed.data.serviceUrl, this.opts.serviceUrls);
    if (reason) {
      this.opts.onRefused?.(conversation, reason);
      throw new SendError(new UntrustedServiceUrlError(conversation, reason).message, 403);
    }
    return parsed.data;
  }

  private async call(
    method: 'POST' | 'PUT',
    ref: Reference,
    path: string,
    body: unknown,
  ): Promise<Record<string, unknown>> {
    const base = ref.serviceUrl.endsWith('/') ? ref.serviceUrl : `${ref.serviceUrl}/`;
    const url = new URL(path, base);
    const token = await this.opts.token?.();
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
    } catch (err) {
      // No answer at all (refused, reset, timeout): status 0, retried by the outbox.
      throw new SendError(`${method} ${url.pathname}: ${(err as Error).message}`, 0);
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // A non-JSON body is kept in the message below.
    }
    if (!res.ok) {
      const e = json.error as { code?: string; message?: string } | undefined;
      throw new SendError(
        `${method} ${url.pathname}: HTTP ${res.status}${e?.code ? ` ${e.code}` : ''}${e?.message ? `: ${e.message}` : text && !e ? `: ${text.slice(0, 200)}` : ''}`,
        res.status,
        retryAfterMs(res.headers.get('retry-after')),
        e?.code,
      );
    }
    return json;
  }

  async send(conversation: string, message: Message): Promise<SendResult> {
    const ref = await this.reference(conversation);
    const path = `v3/conversations/${encodeURIComponent(ref.conversation.id)}/activities`;
    const r = await this.call('POST', ref, path, activity(ref, message));
    return typeof r.id === 'string' ? { activityId: r.id } : {};
  }

  async update(conversation: string, activityId: string, message: Message): Promise<void> {
    const ref = await this.reference(conversation);
    const path = `v3/conversations/${encodeURIComponent(ref.conversation.id)}/activities/${encodeURIComponent(activityId)}`;
    await this.call('PUT', ref, path, activity(ref, message, activityId));
  }
}
