/**
 * A Notifier that posts Bot Framework activities over HTTP to the conversation's own
 * `serviceUrl` (always the stored, regional one: teams-bot-notes.md §2):
 * `POST {serviceUrl}/v3/conversations/{id}/activities` to send and
 * `PUT …/activities/{activityId}` to update in place (Bot Framework Connector REST API).
 * The token (when auth is on) comes from a provider the Teams layer passes in.
 */
import type { Store } from '../store/types';
import { SendError, type Message, type Notifier, type SendResult } from './types';

/** The parts of a stored conversation reference this notifier reads. */
interface Reference {
  serviceUrl: string;
  conversation: { id: string };
  bot?: { id: string; name?: string };
}

/** Options of the HTTP notifier. */
export interface ConnectorNotifierOptions {
  store: Pick<Store, 'getConversation'>;
  /** Bearer token for the connector (Bot Framework app token); none for a local emulator. */
  token?: () => Promise<string | undefined>;
  /** Per request deadline (default 15 s). */
  timeoutMs?: number;
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
    const ref = (await this.opts.store.getConversation(conversation)) as Reference | undefined;
    if (!ref?.serviceUrl || !ref.conversation?.id)
      // Not retryable: nothing will make an unknown conversation appear.
      throw new SendError(`no stored conversation reference for ${conversation}`, 404);
    return ref;
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
