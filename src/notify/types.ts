/**
 * Proactive messages, transport-neutral. The Teams layer implements `Notifier` (e.g. with
 * botbuilder's `continueConversationAsync`); ./connector.ts implements it over HTTP against the
 * Bot Framework connector, which a local fake connector can stand in for in tests.
 */

/**
 * One alert as data, for channels that take JSON rather than cards (./webhook.ts). It holds
 * what the alert card shows and nothing more: no secret, no evidence, no mailbox.
 */
export interface NotifyEvent {
  /** Stable per run, kind and item: a receiver that sees it twice has seen a retry. */
  id: string;
  kind: 'alert' | 'reminder' | 'recovery';
  environment: string;
  item: string;
  /** The finding's main code (`OK` on a recovery). */
  code: string;
  status: string;
  /** The finding's one-line summary, in English (as the alert card). */
  summary: string;
  runId: string;
  /** When the run finished (ISO 8601). */
  time: string;
}

/** What to post: an Adaptive Card, a text, or both (the text is the notification preview). */
export interface Message {
  card?: Record<string, unknown>;
  text?: string;
  /** The alert as data, for a webhook; Teams ignores it. */
  event?: NotifyEvent;
}

/** What a send answers. */
export interface SendResult {
  /** Id of the posted activity, to update it in place later. */
  activityId?: string;
}

/** Sends and updates messages in stored conversations (keys from Store.saveConversation). */
export interface Notifier {
  send(conversation: string, message: Message): Promise<SendResult>;
  update(conversation: string, activityId: string, message: Message): Promise<void>;
}

/**
 * A channel refused or failed a send. `status` is the HTTP status; 429, 412, 502 and 504 are
 * worth retrying (Teams rate-limit doc), honouring `retryAfterMs` when the channel gave one.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfterMs?: number,
    /** The channel's own error code (`error.code` of the body), e.g. `TooManyRequests`. */
    readonly channelCode?: string,
    /**
     * Whether sending again may help, when the channel's rules differ from Teams' (a webhook
     * retries every 5xx and 429, ./webhook.ts); by {@link RETRY_STATUSES} when unset.
     */
    readonly retry?: boolean,
  ) {
    super(message);
    this.name = this.constructor.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Statuses Microsoft says to retry with back-off (msteams-docs, bots/how-to/rate-limit). */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 412, 502, 504]);

/** Whether an error from a Notifier is worth retrying. */
export function retryable(err: unknown): boolean {
  if (err instanceof SendError)
    return err.retry ?? (RETRY_STATUSES.has(err.status) || err.status === 0);
  // A network failure (reset, refused) before any answer: the send may be retried.
  return true;
}
