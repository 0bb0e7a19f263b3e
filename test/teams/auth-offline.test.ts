/**
 * Inbound tokens when the Bot Framework's OpenID metadata cannot be fetched (a machine without
 * internet, an outage of login.botframework.com). The metadata URL points at 127.0.0.1: a port
 * that accepts and drops every connection (counting them) or a closed one.
 *
 * Expectations: a token that cannot be a Bot Connector token for this bot is refused with 401
 * without any fetch (Microsoft, "Authenticate requests from the Bot Connector service to your
 * bot": RS256, issuer https://api.botframework.com, audience our app id, not expired; RFC 8725
 * §3.1: the algorithm is ours to fix, `none` never passes). A token that could be one, while the
 * keys cannot be fetched, is a temporary failure on our side: 503 (RFC 9110 §15.6.4) with a
 * fixed text, never the fetch error (host, port, errno), and one log line per outage.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import type { Inventory } from '../../src/inventory/load';
import type { BotLog } from '../../src/teams/log';
import { startBotRig, type BotRig } from './support/bot-rig';
import { message } from './support/bot-client';
import { channelPayload, signingKey, signToken, unsignedToken } from './support/openid';

const APP_ID = '5d3f5a1e-0000-4000-8000-00000000b07a';
const APP_TENANT = '72f988bf-0000-4000-8000-000000000001';
const ISSUER = 'https://api.botframework.com';
const key = signingKey(['msteams']);
const now = () => Math.floor(Date.now() / 1000);
/** No environment: every request below is refused before the bot would look at one. */
const EMPTY = { environments: new Map() } as unknown as Inventory;

/** A TCP port that accepts connections and closes them at once, counting them. */
async function droppingPort(): Promise<{
  port: number;
  count: () => number;
  close(): Promise<void>;
}> {
  let n = 0;
  const server = net.createServer(s => {
    n++;
    s.destroy();
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    count: () => n,
    close: () => new Promise(r => server.close(() => r())),
  };
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise(r => server.close(r));
  return port;
}

function varsFor(metadataUrl: string): NodeJS.ProcessEnv {
  return {
    MicrosoftAppId: APP_ID,
    MicrosoftAppPassword: 'not-a-real-secret',
    MicrosoftAppType: 'SingleTenant',
    MicrosoftAppTenantId: APP_TENANT,
    ToBotFromChannelOpenIdMetadataUrl: metadataUrl,
    ToBotFromChannelTokenIssuer: ISSUER,
    ToBotFromEmulatorOpenIdMetadataUrl: metadataUrl,
    ToChannelFromBotLoginUrl: `https://login.microsoftonline.com/${APP_TENANT}`,
    ToChannelFromBotOAuthScope: 'https://api.botframework.com',
    OAuthUrl: 'https://api.botframework.com',
    CallerId: 'urn:botframework:azure',
    ValidateAuthority: 'true',
  };
}

function recorder(): { log: BotLog; lines: string[] } {
  const lines: string[] = [];
  const rec =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push(`${level} ${msg ?? ''} ${inspect(obj)}`);
    };
  return { lines, log: { info: rec('info'), warn: rec('warn'), error: rec('error') } };
}

async function postWith(
  url: string,
  authorization: string,
): Promise<{ status: number; text: string; retryAfter: string | null }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(
      message('https://smba.trafficmanager.net/emea/', { conversationId: 'a:1' }, 'help'),
    ),
  });
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get('retry-after') };
}

const claims = (over: Record<string, unknown> = {}) => ({
  ...channelPayload({ aud: APP_ID, serviceurl: 'https://smba.trafficmanager.net/emea/' }),
  ...over,
});

/** What a fetch error would say: never in an answer. */
const INTERNAL =
  /ECONNREFUSED|ECONNRESET|socket hang up|FetchError|127\.0\.0\.1|request to |openid/i;

beforeAll(() => {
  // botbuilder may print to the console; keep test output clean.
  for (const level of ['log', 'warn', 'error'] as const)
    jest.spyOn(console, level).mockImplementation(() => undefined);
});
afterAll(() => jest.restoreAllMocks());

describe('refused locally with 401, without fetching the metadata', () => {
  let drop: Awaited<ReturnType<typeof droppingPort>>;
  let rig: BotRig;
  const { log, lines } = recorder();
  beforeAll(async () => {
    drop = await droppingPort();
    rig = await startBotRig(() => EMPTY, {
      server: {
        vars: varsFor(`http://127.0.0.1:${drop.port}/v1/.well-known/openidconfiguration`),
        host: '127.0.0.1',
        log,
      },
    });
  });
  afterAll(async () => {
    await rig?.close();
    await drop?.close();
  });

  const CASES: [string, () => string][] = [
    ['an unsigned token (alg none)', () => unsignedToken(claims(), { kid: key.kid })],
    ['an HS256 token', () => signToken(key, claims(), { alg: 'HS256' })],
    ['an RS384 token', () => signToken(key, claims(), { alg: 'RS384' })],
    ['a token without a signature', () => signToken(key, claims()).replace(/[^.]+$/, '')],
    ['a token from another issuer', () => signToken(key, claims({ iss: 'https://evil.example' }))],
    ['a token for another app', () => signToken(key, claims({ aud: 'another-app' }))],
    ['a token without aud', () => signToken(key, claims({ aud: undefined }))],
    ['a token expired an hour ago', () => signToken(key, claims({ exp: now() - 3600 }))],
    ['a token without exp', () => signToken(key, claims({ exp: undefined }))],
    ['a token valid only in an hour', () => signToken(key, claims({ nbf: now() + 3600 }))],
    [
      'a token whose payload is not JSON',
      () => `${signToken(key, claims()).split('.')[0]}.bm90IGpzb24.c2ln`,
    ],
  ];

  test.each(CASES)('%s', async (_name, token) => {
    const res = await postWith(rig.bot.url, `Bearer ${token()}`);
    expect(res.status).toBe(401);
    expect(res.text).not.toMatch(INTERNAL);
    // Decided before anything was fetched.
    expect(drop.count()).toBe(0);
  });

  test('a token that could be valid does reach the metadata (so the count above can grow)', async () => {
    const res = await postWith(rig.bot.url, `Bearer ${signToken(key, claims())}`);
    expect(res.status).toBe(503);
    expect(drop.count()).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/cannot be fetched/);
  });
});

describe('metadata unreachable: 503 with a fixed text, logged once', () => {
  test('a closed port: every request 503, no internal text, one error line', async () => {
    const port = await closedPort();
    const { log, lines } = recorder();
    const rig = await startBotRig(() => EMPTY, {
      server: {
        vars: varsFor(`http://127.0.0.1:${port}/v1/.well-known/openidconfiguration`),
        host: '127.0.0.1',
        log,
        // Retry at once, so each request really tries to fetch and fails.
        metadataRetryAfterMs: 0,
      },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await postWith(rig.bot.url, `Bearer ${signToken(key, claims())}`);
        expect(res.status).toBe(503);
        expect(res.text).not.toMatch(INTERNAL);
        expect(JSON.parse(res.text)).toEqual({ error: expect.stringMatching(/try again later/) });
        expect(res.retryAfter).toMatch(/^\d+$/);
      }
      expect(lines.filter(l => /cannot be fetched/.test(l))).toHaveLength(1);
    } finally {
      await rig.close();
    }
  });

  test('after a failure, requests within the retry window do not fetch again', async () => {
    const drop = await droppingPort();
    const rig = await startBotRig(() => EMPTY, {
      server: {
        vars: varsFor(`http://127.0.0.1:${drop.port}/v1/.well-known/openidconfiguration`),
        host: '127.0.0.1',
        metadataRetryAfterMs: 60_000,
      },
    });
    try {
      expect((await postWith(rig.bot.url, `Bearer ${signToken(key, claims())}`)).status).toBe(503);
      const after = drop.count();
      expect(after).toBeGreaterThan(0);
      for (let i = 0; i < 3; i++)
        expect((await postWith(rig.bot.url, `Bearer ${signToken(key, claims())}`)).status).toBe(
          503,
        );
      expect(drop.count()).toBe(after);
    } finally {
      await rig.close();
      await drop.close();
    }
  });

  test('a deadline we chose: metadata that never answers gives 503', async () => {
    // Accepts and holds the connection without answering.
    const held: net.Socket[] = [];
    const server = net.createServer(s => held.push(s));
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const rig = await startBotRig(() => EMPTY, {
      server: {
        vars: varsFor(`http://127.0.0.1:${port}/v1/.well-known/openidconfiguration`),
        host: '127.0.0.1',
        metadataDeadlineMs: 300,
      },
    });
    try {
      const res = await postWith(rig.bot.url, `Bearer ${signToken(key, claims())}`);
      expect(res.status).toBe(503);
      expect(held.length).toBeGreaterThan(0);
    } finally {
      for (const s of held) s.destroy();
      await rig.close();
      await new Promise(r => server.close(r));
    }
  });
});
