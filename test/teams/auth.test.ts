/**
 * Inbound authentication of `/api/messages` with MicrosoftAppId set: the real bot (restify +
 * CloudAdapter + botframework-connector's validator) checks Bot Framework tokens against keys
 * served from 127.0.0.1 (teams-bot-notes.md §1 "Offline test of the real validator").
 *
 * Microsoft's rules ("Authenticate requests from the Bot Connector service to your bot",
 * learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication):
 * a Bearer JWT signed with a key from the OpenID metadata, issuer https://api.botframework.com,
 * audience the bot's app id, not expired (5 minutes of clock skew), `serviceurl` equal to the
 * activity's, and a key endorsed for the activity's channel. Every other request is answered
 * 401 and never reaches the bot: nothing is posted to the connector, no run starts, no
 * conversation reference is kept. A valid token gets 200 and the bot answers, which shows the
 * setup accepts what it should, so every "nothing happened" below can fail.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parse, stringify } from 'yaml';
import { PasswordServiceClientCredentialFactory } from 'botframework-connector';
import { loadInventory, suggest, type Inventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { MemoryStore } from '../../src/store/memory';
import type { BotLog } from '../../src/teams/log';
import type { EmbeddedRunService } from '../../src/teams/run-service';
import type { BotServer } from '../../src/teams/server';
import { cardTexts } from './support/adaptive';
import { message } from './support/bot-client';
import { startBotRig, type BotRig } from './support/bot-rig';
import type { FakeConnector } from './support/fake-connector';
import { cardOf } from './support/fake-connector';
import {
  channelPayload,
  OpenIdServer,
  signingKey,
  signToken,
  unsignedToken,
  type ChannelClaims,
  type SigningKey,
} from './support/openid';

const APP_ID = '5d3f5a1e-0000-4000-8000-00000000b07a';
const APP_TENANT = '72f988bf-0000-4000-8000-000000000001';
/** What the bot's own calls to the connector carry instead of an Entra token. */
const OUTBOUND = 'Bearer outbound-token-from-the-offline-credentials';

type Credentials = Awaited<ReturnType<PasswordServiceClientCredentialFactory['createCredentials']>>;
type Request = Parameters<Credentials['signRequest']>[0];

/**
 * The password factory's app id rules, without asking login.microsoftonline.com for a token:
 * outbound calls to the fake connector carry a fixed bearer value instead.
 */
class OfflineCredentials extends PasswordServiceClientCredentialFactory {
  override async createCredentials(appId: string): Promise<Credentials> {
    if (!(await this.isValidAppId(appId))) throw new Error('Invalid appId.');
    return {
      signRequest: async (req: Request) => {
        req.headers.set('authorization', OUTBOUND);
        return req;
      },
    };
  }
}

/** A Bot Framework channel issuer that is not the public cloud's (US Government). */
const OTHER_ISSUER = 'https://api.botframework.us';
/** One of the issuers botframework-connector takes for the Bot Framework Emulator's. */
const EMULATOR_ISSUER = 'https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/';

let openid: OpenIdServer;
let teamsKey: SigningKey;
let webchatKey: SigningKey;
/** Listed nowhere: the metadata does not know it. */
let rogueKey: SigningKey;
let lab: Lab;
let inv: Inventory;
let fake: FakeConnector;
let store: MemoryStore;
let runs: EmbeddedRunService;
let bot: BotServer;
let rig: BotRig;
/** Runs that started, by id (every run reports progress as soon as it starts). */
const started = new Set<string>();
/** Everything the bot and the libraries under it logged. */
const logged: string[] = [];

const record =
  (level: string) =>
  (...args: unknown[]) =>
    logged.push(`${level} ${args.map(a => (typeof a === 'string' ? a : inspect(a))).join(' ')}`);

const LOG: BotLog = { info: record('info'), warn: record('warn'), error: record('error') };

beforeAll(async () => {
  // botbuilder logs refused requests with console.error; keep them to search for tokens.
  for (const level of ['log', 'warn', 'error'] as const)
    jest.spyOn(console, level).mockImplementation(record(`console.${level}`));
  teamsKey = signingKey(['msteams']);
  webchatKey = signingKey(['webchat']);
  rogueKey = signingKey(['msteams']);
  openid = await OpenIdServer.start([teamsKey, webchatKey]);
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  // The activities come from the bot's own tenant, as an MSP's people would: the inventory
  // lets that tenant see the lab's environment (docs/security.md, inventory `tenants`).
  const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: Record<string, Record<string, unknown>>;
  };
  doc.environments.lab!.tenants = [lab.tenant.tenantId, APP_TENANT];
  const file = join(lab.dir, 'auth.yaml');
  writeFileSync(file, stringify(doc));
  inv = loadInventory(file);
  rig = await startBotRig(() => inv, {
    server: {
      // If one of the channel overrides is set, botbuilder takes the whole set as given
      // (botFrameworkAuthenticationFactory.ts), so all of them are named. The login URL and scope
      // are the public cloud's; the offline credentials never use them.
      vars: {
        MicrosoftAppId: APP_ID,
        MicrosoftAppPassword: 'not-a-real-secret',
        MicrosoftAppType: 'SingleTenant',
        MicrosoftAppTenantId: APP_TENANT,
        ToBotFromChannelOpenIdMetadataUrl: openid.channelMetadataUrl,
        ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
        ToBotFromEmulatorOpenIdMetadataUrl: openid.emulatorMetadataUrl,
        ToChannelFromBotLoginUrl: `https://login.microsoftonline.com/${APP_TENANT}`,
        ToChannelFromBotOAuthScope: 'https://api.botframework.com',
        OAuthUrl: 'https://api.botframework.com',
        CallerId: 'urn:botframework:azure',
        ValidateAuthority: 'true',
        // With an app id, stored references are followed only on listed connector hosts: the
        // fake connector's (src/notify/service-url.ts).
        ECEBOT_SERVICE_URL_HOSTS: '127.0.0.1',
      },
      credentials: new OfflineCredentials(APP_ID, 'not-a-real-secret', APP_TENANT),
      host: '127.0.0.1',
      log: LOG,
    },
  });
  ({ fake, store, runs, bot } = rig);
  runs.onProgress(p => started.add(p.runId));
});

afterAll(async () => {
  await bot?.idle();
  await rig?.close();
  await lab?.stop();
  await openid?.close();
  jest.restoreAllMocks();
});

/** POST an activity with the given Authorization header (none when undefined). */
async function postWith(
  activity: object,
  authorization: string | undefined,
): Promise<{ status: number; text: string }> {
  const res = await fetch(bot.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined ? { authorization } : {}),
    },
    body: JSON.stringify(activity),
  });
  return { status: res.status, text: await res.text() };
}

/** The claims of a token the connector would send for an activity to this bot. */
const good = (over: Partial<ChannelClaims> = {}): Record<string, unknown> =>
  channelPayload({ aud: APP_ID, serviceurl: fake.url, ...over });

const now = () => Math.floor(Date.now() / 1000);

describe('a valid Bot Framework token', () => {
  test('gets 200, and the bot answers through the connector with its own credentials', async () => {
    const conversationId = 'a:1auth-valid';
    const from = fake.requests.length;
    const token = signToken(teamsKey, good());
    const res = await postWith(
      message(fake.url, { conversationId }, 'check lab version'),
      `Bearer ${token}`,
    );

    expect(res.status).toBe(200);
    // The validator took the keys from our metadata, not from login.botframework.com.
    expect(openid.requests).toEqual(['/v1/.well-known/openidconfiguration', '/v1/keys']);
    // The handler ran: the running card went to the connector, signed with the bot's own
    // (offline) credentials rather than the inbound token ...
    const replies = fake.postsTo(conversationId, from);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.authorization).toBe(OUTBOUND);
    expect(cardTexts(cardOf(replies[0]!)!).join('\n')).toMatch(/Running|Queued/);
    // ... a run started, and the conversation reference was kept.
    expect(started.size).toBe(1);
    expect(await store.getConversation(conversationId)).toBeDefined();

    // Let the run finish and its card update go out, so the cases below start from rest.
    await runs.wait([...started][0]!);
    await bot.idle();
    expect(
      fake.requests.slice(from).some(r => r.method === 'PUT' && r.authorization === OUTBOUND),
    ).toBe(true);
    expect(logged.join('\n')).not.toContain(token);
  });
});

/**
 * Refused requests: a name, the Authorization header (built once the keys exist) and the
 * validator's reason, which the 401 body carries, so each case fails for the reason it names.
 */
const REFUSED: [string, () => string | undefined, RegExp][] = [
  ['no Authorization header', () => undefined, /no Authorization header/],
  ['an empty Authorization header', () => '', /no Authorization header/],
  ['a Bearer value that is not a JWT', () => 'Bearer not-a-jwt', /not a signed JWT/],
  [
    'a valid token under another scheme',
    () => `Basic ${signToken(teamsKey, good())}`,
    /not a Bearer token/,
  ],
  // RFC 8725 §2.1, §3.1: an unsecured token must not pass, even naming a listed key.
  [
    'an unsigned token (alg none) naming a listed key',
    () => `Bearer ${unsignedToken(good(), { kid: teamsKey.kid })}`,
    /signing algorithm is not RS256/,
  ],
  [
    'an unsigned token (alg none) without a key id',
    () => `Bearer ${unsignedToken(good())}`,
    /signing algorithm is not RS256/,
  ],
  [
    'a token signed by another key under a listed key id',
    () => `Bearer ${signToken({ kid: teamsKey.kid, privateKey: rogueKey.privateKey }, good())}`,
    /invalid signature/,
  ],
  [
    'a token signed with a key id the metadata does not list',
    () => `Bearer ${signToken(rogueKey, good())}`,
    /Signing Key could not be retrieved/,
  ],
  [
    'a token whose signature was cut off',
    () => `Bearer ${signToken(teamsKey, good()).replace(/\.[^.]+$/, '.')}`,
    /no signature/,
  ],
  [
    'a token whose claims were changed after signing',
    () => {
      const [h, , s] = signToken(teamsKey, good({ aud: 'another-app' })).split('.');
      return `Bearer ${h}.${Buffer.from(JSON.stringify(good())).toString('base64url')}.${s}`;
    },
    /invalid signature/,
  ],
  // Expired an hour ago: well past the validator's 5 minutes of clock tolerance.
  [
    'an expired token',
    () => `Bearer ${signToken(teamsKey, good({ iat: now() - 7200 }))}`,
    /token has expired/,
  ],
  [
    'a token not valid before an hour from now',
    () => `Bearer ${signToken(teamsKey, good({ iat: now() + 3600 }))}`,
    /not yet valid/,
  ],
  [
    'a token for another app (aud)',
    () => `Bearer ${signToken(teamsKey, good({ aud: '00000000-0000-4000-8000-0000000000ff' }))}`,
    /audience is not this bot/,
  ],
  [
    'a token from another issuer',
    () => `Bearer ${signToken(teamsKey, good({ iss: OTHER_ISSUER }))}`,
    /issuer is not a Bot Framework issuer/,
  ],
  // Checked against the Emulator's metadata (here: no keys), never against the channel's.
  [
    'a token claiming the Emulator’s issuer',
    () =>
      `Bearer ${signToken(teamsKey, { ...good({ iss: EMULATOR_ISSUER }), ver: '1.0', appid: APP_ID })}`,
    /Signing Key could not be retrieved/,
  ],
  [
    'a token whose serviceurl is another connector’s',
    () =>
      `Bearer ${signToken(teamsKey, good({ serviceurl: 'https://smba.trafficmanager.net/emea/' }))}`,
    /ServiceUrl claim do not match/,
  ],
  [
    'a token signed with a key not endorsed for msteams',
    () => `Bearer ${signToken(webchatKey, good())}`,
    /Could not validate endorsement/,
  ],
];

describe('refused with 401, and no handler runs', () => {
  test.each(REFUSED.map(([name, header, reason], i) => [name, header, reason, i] as const))(
    '%s',
    async (_name, header, reason, i) => {
      const conversationId = `a:1auth-refused-${i}`;
      const authorization = header();
      const fromRequests = fake.requests.length;
      const fromLog = logged.length;
      const runsBefore = started.size;

      const res = await postWith(
        message(fake.url, { conversationId }, 'check lab version'),
        authorization,
      );
      await bot.idle();

      expect(res.status).toBe(401);
      expect(res.text).toMatch(reason);
      expect(fake.requests.slice(fromRequests)).toEqual([]);
      expect(started.size).toBe(runsBefore);
      expect(await store.getConversation(conversationId)).toBeUndefined();
      // The refusal is logged (so the log below is really searched), the token never is: not
      // in the answer, not in the log.
      expect(logged.slice(fromLog).join('\n')).toMatch(reason);
      const token = authorization?.replace(/^\S+ /, '') ?? '';
      if (token.length > 20) {
        const said = `${res.text}\n${logged.slice(fromLog).join('\n')}`;
        expect(said).not.toContain(token);
        for (const part of token.split('.').filter(p => p.length > 20))
          expect(said).not.toContain(part);
      }
    },
  );
});
