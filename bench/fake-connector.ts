/**
 * A fast fake Bot Connector for the benchmarks: a real HTTP server on 127.0.0.1 that answers
 * `POST /v3/conversations/{id}/activities` and `PUT …/activities/{activityId}` as the connector
 * does, with keep-alive and as little work per request as possible (bodies are read only for
 * conversations someone waits on), so it keeps up with the bot under load.
 *
 * It can enforce Teams' rate limits (msteams-docs, bots/how-to/rate-limit; teams-bot-notes.md
 * §2 "Teams rate limits"): per bot per conversation 7 sends in 1 s, 8 in 2 s, 60 in 30 s and
 * 1800 in an hour, and a global per-app-per-tenant limit, answering 429 with `Retry-After`
 * beyond them as Teams does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One sliding window: at most `max` accepted requests in any `ms`. */
export interface Window {
  max: number;
  ms: number;
}

/** Rate limits the fake enforces. */
export interface Limits {
  perConversation: Window[];
  /** Requests per second for the whole app in the tenant, every conversation together. */
  globalPerSecond: number;
}

/**
 * Teams' limits. The global figure is 30 per second: the docs say 30 in one place and 50 in
 * another (teams-bot-notes.md §2), so the stricter one.
 */
export const TEAMS_LIMITS: Limits = {
  perConversation: [
    { max: 7, ms: 1000 },
    { max: 8, ms: 2000 },
    { max: 60, ms: 30_000 },
    { max: 1800, ms: 3_600_000 },
  ],
  globalPerSecond: 30,
};

/** What a watcher learns about a request. */
export interface Arrival {
  method: string;
  /** performance.now() when the whole body had arrived. */
  at: number;
  body: string;
}

/** Recent request times, oldest first, dropping those older than the longest window. */
class Times {
  private readonly t: number[] = [];
  private head = 0;
  constructor(private readonly keepMs: number) {}

  add(now: number): void {
    this.t.push(now);
  }

  /** How many are newer than `now - ms`, after forgetting those beyond the longest window. */
  countSince(now: number, ms: number): number {
    while (this.head < this.t.length && this.t[this.head]! <= now - this.keepMs) this.head++;
    if (this.head > 1024) {
      this.t.splice(0, this.head);
      this.head = 0;
    }
    let n = 0;
    for (let i = this.t.length - 1; i >= this.head && this.t[i]! > now - ms; i--) n++;
    return n;
  }

  /** The time of the n-th newest entry (1 = newest). */
  nth(n: number): number {
    return this.t[this.t.length - n]!;
  }
}

const ACTIVITIES = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/;

export class BenchConnector {
  /** Accepted POSTs (new activities) and PUTs (updates in place). */
  posts = 0;
  puts = 0;
  /** Requests answered 429. */
  refused = 0;
  /** Accepted POSTs per conversation id (counted only while `countPerConversation`). */
  readonly postsByConversation = new Map<string, number>();
  countPerConversation = false;
  /** Limits in force; none by default. */
  limits: Limits | undefined;

  private readonly server: http.Server;
  private readonly watchers = new Map<string, (a: Arrival) => void>();
  private global = new Times(1000);
  private perConversation = new Map<string, Times>();
  private n = 0;

  private constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    // The bot's client keeps connections open between sends; so does Teams' front door.
    this.server.keepAliveTimeout = 60_000;
  }

  static async start(): Promise<BenchConnector> {
    const c = new BenchConnector();
    await new Promise<void>(r => c.server.listen(0, '127.0.0.1', r));
    return c;
  }

  /** The serviceUrl to put on activities. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Call `fn` with the next request for a conversation (id as the bot sends it, decoded). */
  watch(conversationId: string, fn: (a: Arrival) => void): void {
    this.watchers.set(conversationId, fn);
  }

  /** Start counting afresh (limits' windows included). */
  reset(): void {
    this.posts = this.puts = this.refused = 0;
    this.postsByConversation.clear();
    this.global = new Times(1000);
    this.perConversation = new Map();
  }

  /** Seconds until the request would fit, or 0 when it fits now. */
  private wait(conversation: string, now: number): number {
    const l = this.limits;
    if (!l) return 0;
    let until = 0;
    if (this.global.countSince(now, 1000) >= l.globalPerSecond)
      until = this.global.nth(l.globalPerSecond) + 1000;
    let mine = this.perConversation.get(conversation);
    if (!mine) {
      mine = new Times(Math.max(...l.perConversation.map(w => w.ms)));
      this.perConversation.set(conversation, mine);
    }
    for (const w of l.perConversation)
      if (mine.countSince(now, w.ms) >= w.max) until = Math.max(until, mine.nth(w.max) + w.ms);
    return until ? Math.max(1, Math.ceil((until - now) / 1000)) : 0;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = ACTIVITIES.exec(req.url ?? '');
    const conversation = m ? decodeURIComponent(m[1]!) : '';
    const watcher = m ? this.watchers.get(conversation) : undefined;
    let body = '';
    if (watcher) {
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
    } else req.resume();
    req.on('end', () => {
      const now = performance.now();
      if (!m || (req.method !== 'POST' && req.method !== 'PUT')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"NotFound","message":"no such route"}}');
        return;
      }
      const after = this.wait(conversation, now);
      if (after) {
        this.refused++;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(after) });
        res.end('{"error":{"code":"TooManyRequests","message":"rate limit"}}');
        return;
      }
      if (this.limits) {
        this.global.add(now);
        this.perConversation.get(conversation)!.add(now);
      }
      if (watcher) {
        this.watchers.delete(conversation);
        watcher({ method: req.method, at: now, body });
      }
      let id: string;
      if (req.method === 'POST') {
        this.posts++;
        if (this.countPerConversation)
          this.postsByConversation.set(
            conversation,
            (this.postsByConversation.get(conversation) ?? 0) + 1,
          );
        id = `act-${++this.n}`;
      } else {
        this.puts++;
        id = m[2] ?? '';
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"id":${JSON.stringify(id)}}`);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>(r => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}
