/**
 * A fake Bot Connector (the Teams service side of the Bot Framework REST API): a real HTTP
 * server on 127.0.0.1 that records every request the bot makes and answers like the
 * connector does (teams-bot-notes.md §6 "End-to-end over HTTP with a fake Bot Connector").
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the bot made. */
export interface Recorded {
  method: string;
  /** Decoded path, e.g. `/v3/conversations/19:abc@thread.tacv2/activities/act-1`. */
  path: string;
  conversationId?: string;
  activityId?: string;
  body: Record<string, unknown>;
  authorization?: string;
  /** The id the fake answered with (new activities and conversations). */
  answer?: string;
}

/** A team's channels, as GET /v3/teams/{id}/conversations lists them. */
export type Channels = Record<string, { id: string; name?: string }[]>;

export class FakeConnector {
  readonly requests: Recorded[] = [];
  private readonly events = new EventEmitter();
  private n = 0;

  private readonly server: http.Server;

  private constructor(readonly channels: Channels) {
    this.events.setMaxListeners(0);
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** The serviceUrl to put on activities. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  static async start(channels: Channels = {}): Promise<FakeConnector> {
    const fake = new FakeConnector(channels);
    await new Promise<void>(r => fake.server.listen(0, '127.0.0.1', r));
    return fake;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path);
      const rec: Recorded = {
        method: req.method ?? '',
        path,
        ...(m?.[1] ? { conversationId: m[1] } : {}),
        ...(m?.[2] ? { activityId: m[2] } : {}),
        body,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      };
      const send = (status: number, json: Record<string, unknown>) => {
        if (typeof json.id === 'string') rec.answer = json.id;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const teams = /^\/v3\/teams\/([^/]+)\/conversations$/.exec(path);
      if (m && req.method === 'POST') send(200, { id: `act-${++this.n}` });
      else if (m && req.method === 'PUT') send(200, { id: m[2] ?? '' });
      else if (path === '/v3/conversations' && req.method === 'POST')
        send(200, { id: `19:new-${++this.n}@thread.tacv2`, activityId: `act-${this.n}` });
      else if (teams && req.method === 'GET')
        send(200, { conversations: this.channels[teams[1]!] ?? [] });
      else send(404, { error: { code: 'NotFound', message: `no route ${req.method} ${path}` } });
      this.requests.push(rec);
      this.events.emit('request', rec);
    });
  }

  /** The messages posted into a conversation (from request `from` on). */
  postsTo(conversationId: string, from = 0): Recorded[] {
    return this.requests
      .slice(from)
      .filter(r => r.method === 'POST' && r.conversationId === conversationId);
  }

  /** The first recorded request (from `from` on) that matches, waiting for it up to `ms`. */
  waitFor(pred: (r: Recorded) => boolean, what: string, from = 0, ms = 30_000): Promise<Recorded> {
    const found = this.requests.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('request', on);
        reject(new Error(`fake connector: no request matching "${what}" within ${ms} ms`));
      }, ms);
      const on = (r: Recorded) => {
        if (!pred(r)) return;
        clearTimeout(timer);
        this.events.off('request', on);
        resolve(r);
      };
      this.events.on('request', on);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>(r => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

/** The Adaptive Card carried by a recorded send or update, if any. */
export function cardOf(r: { body: Record<string, unknown> }): Record<string, unknown> | undefined {
  const a = (
    r.body.attachments as { contentType: string; content: Record<string, unknown> }[] | undefined
  )?.[0];
  return a?.contentType === 'application/vnd.microsoft.card.adaptive' ? a.content : undefined;
}
