/**
 * The body of `/api/messages`, read before anything else looks at the request and before the
 * Bot Framework token is checked: so an unauthenticated caller can make ecebot hold at most
 * `limit` bytes, and no work beyond counting them. restify's bodyParser buffered without a limit,
 * inflated gzip (its limit counts compressed bytes) and wrote multipart parts to the temp
 * folder; Bot Framework activities are plain JSON (Bot Framework REST API: "Content-Type:
 * application/json"), so nothing else is needed.
 */
import type { Next, Request, Response } from 'restify';

/** The largest activity body accepted. Teams caps a message at about 28 KB; cards and
 * invoke payloads stay far below this. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Answer with a status and a one-line reason; nothing of the request is echoed. */
function refuse(res: Response, status: number, message: string, next: Next): void {
  res.send(status, { error: message });
  next(false);
}

/**
 * A restify handler that reads the request body as JSON into `req.body`, refusing before any
 * parsing: a `Content-Encoding` other than identity (415), a content type other than JSON (415),
 * more than `limit` bytes whether announced or chunked (413), and JSON that does not parse (400).
 */
export function jsonBody(limit = MAX_BODY_BYTES) {
  return (req: Request, res: Response, next: Next): void => {
    const encoding = String(req.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (encoding !== 'identity') {
      return refuse(res, 415, 'Content-Encoding is not accepted; send plain JSON', next);
    }
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type !== 'application/json') {
      return refuse(res, 415, 'Content-Type must be application/json', next);
    }
    const announced = Number(req.headers['content-length']);
    if (Number.isFinite(announced) && announced > limit) {
      return refuse(res, 413, `body larger than ${limit} bytes`, next);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      fn();
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        // Stop buffering; what is still in flight is read and dropped.
        chunks.length = 0;
        finish(() => refuse(res, 413, `body larger than ${limit} bytes`, next));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () =>
      finish(() => {
        try {
          (req as Request & { body: unknown }).body = JSON.parse(
            Buffer.concat(chunks).toString('utf8'),
          );
        } catch {
          // The parser's message would echo the caller's bytes: the status says enough.
          return refuse(res, 400, 'body is not valid JSON', next);
        }
        next();
      }),
    );
    req.on('error', err => finish(() => next(err)));
  };
}
