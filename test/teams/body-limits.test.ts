/**
 * What reaches `/api/messages` before the Bot Framework token is checked: a compressed body, a
 * body that is not JSON, or more than 256 KB (announced or chunked) is refused before it is
 * parsed, so an unauthenticated caller cannot make the bot inflate, buffer or store it.
 * Activities are JSON (Bot Framework REST API: `Content-Type: application/json`).
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { loadInventory, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { MAX_BODY_BYTES } from '../../src/teams/json-body';
import { message } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';

let lab: Lab;
let inv: Inventory;
let rig: BotRig;
const started = new Set<string>();

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  inv = loadInventory(lab.info.inventory);
  rig = await startBotRig(() => inv);
  rig.runs.onProgress(p => started.add(p.runId));
});
afterAll(async () => {
  await rig?.bot.idle();
  await rig?.close();
  await lab?.stop();
});

/** POST raw bytes with the given headers; chunked (no Content-Length) when `chunked`. */
function post(
  body: Buffer,
  headers: Record<string, string>,
  chunked = false,
): Promise<{ status: number; text: string }> {
  const url = new URL(rig.bot.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: chunked ? headers : { ...headers, 'content-length': String(body.length) },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
      },
    );
    // The server may answer and stop reading before the whole body is sent.
    req.on('error', err =>
      (err as NodeJS.ErrnoException).code === 'EPIPE' ||
      (err as NodeJS.ErrnoException).code === 'ECONNRESET'
        ? undefined
        : reject(err),
    );
    if (chunked) {
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
      req.end();
    } else req.end(body);
  });
}

const activity = (text: string) =>
  Buffer.from(JSON.stringify(message(rig.fake.url, { conversationId: 'a:1limits' }, text)));

describe('the body of /api/messages', () => {
  test('a gzip body is refused without being inflated (415), whatever it holds', async () => {
    // 20 MB of zeros inflate from about 20 KB: a decompression bomb for a parser that inflates.
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x30));
    expect(bomb.length).toBeLessThan(MAX_BODY_BYTES);
    const before = process.memoryUsage().rss;
    const from = rig.fake.requests.length;
    const res = await post(bomb, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(415);
    expect(rig.fake.requests.length).toBe(from);
    expect(process.memoryUsage().rss - before).toBeLessThan(20 * 1024 * 1024);
  });

  test('more than 256 KB of JSON is refused, announced (413) or chunked (413)', async () => {
    const big = Buffer.from(JSON.stringify({ type: 'message', text: 'x'.repeat(2 * 1024 * 1024) }));
    const from = rig.fake.requests.length;
    expect((await post(big, { 'content-type': 'application/json' })).status).toBe(413);
    expect((await post(big, { 'content-type': 'application/json' }, true)).status).toBe(413);
    expect(rig.fake.requests.length).toBe(from);
    expect(started.size).toBe(0);
  });

  test('multipart and other non-JSON types are refused (415) and nothing is written', async () => {
    const boundary = 'x-ecebot-test';
    const multipart = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n${'A'.repeat(100_000)}\r\n--${boundary}--\r\n`,
    );
    const res = await post(multipart, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    });
    expect(res.status).toBe(415);
    expect(
      (await post(Buffer.from('a=1'), { 'content-type': 'application/x-www-form-urlencoded' }))
        .status,
    ).toBe(415);
    expect(started.size).toBe(0);
  });

  test('JSON that does not parse is 400, and its bytes are not echoed', async () => {
    const res = await post(Buffer.from('{"type":"message","text":"<b>'), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('<b>');
  });

  test('an ordinary activity still gets through, chunked or not', async () => {
    const a = await post(activity('help'), { 'content-type': 'application/json; charset=utf-8' });
    expect(a.status).toBe(200);
    const b = await post(activity('help'), { 'content-type': 'application/json' }, true);
    expect(b.status).toBe(200);
  });
});
