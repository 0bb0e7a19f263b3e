/**
 * A fake Bot Framework connector on 127.0.0.1: accepts `POST /v3/conversations/{id}/activities`
 * and `PUT …/activities/{activityId}`, records what it accepted, and can answer a scripted
 * status first (429 with Retry-After, 502…) for a conversation.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface Received {
  conversation: string;
  method: string;
  activityId?: string;
  activity: { text?: string; attachments?: { content: Record<string, unknown> }[] };
  at: number;
}

export interface FakeConnector {
  url: string;
  received: Received[];
  /** Requests answered with an error status, per conversation. */
  refused: { conversation: string; status: number }[];
  /** Answer these statuses (in order) to the next requests for a conversation. */
  script(conversation: string, statuses: { status: number; retryAfter?: string }[]): void;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise(resolve => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}

export async function startFakeConnector(): Promise<FakeConnector> {
  const received: Received[] = [];
  const refused: FakeConnector['refused'] = [];
  const scripts = new Map<string, { status: number; retryAfter?: string }[]>();
  let n = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await body(req);
      const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(req.url ?? '');
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      const conversation = decodeURIComponent(m[1]!);
      const next = scripts.get(conversation)?.shift();
      if (next) {
        refused.push({ conversation, status: next.status });
        res.writeHead(next.status, {
          'content-type': 'application/json',
          ...(next.retryAfter ? { 'retry-after': next.retryAfter } : {}),
        });
        res.end(
          JSON.stringify({
            error: {
              code: next.status === 429 ? 'TooManyRequests' : 'ServiceError',
              message: 'scripted',
            },
          }),
        );
        return;
      }
      const activityId = m[2] ? decodeURIComponent(m[2]) : `act-${++n}`;
      received.push({
        conversation,
        method: req.method ?? '',
        activityId,
        activity: JSON.parse(text) as Received['activity'],
        at: Date.now(),
      });
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: activityId }));
    })();
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    refused,
    script: (c, s) => scripts.set(c, [...(scripts.get(c) ?? []), ...s]),
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
