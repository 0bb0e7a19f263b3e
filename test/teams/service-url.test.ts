/**
 * Redis is a trust boundary: a conversation reference read back from it is checked, and its
 * serviceUrl followed only on the Bot Framework / Teams connector hosts, because botbuilder signs
 * every outbound call with the bot's token whatever the host (teams-bot-notes.md, 2026-12).
 *
 * Hosts, from Microsoft's pages: public cloud `https://smba.trafficmanager.net/<region>/`
 * (learn.microsoft.com/en-us/answers/questions/533809/caching-service-url-for-bot-framework: "the
 * base part of the Service URL is … https://smba.trafficmanager.net/. The region part … would
 * change"); GCC / GCC High / DoD from the Agents SDK's TeamsServiceEndpoints
 * (microsoft.github.io/Agents-for-js/variables/_microsoft_agents-hosting.TeamsServiceEndpoints.html).
 *
 * A "thief" is a real HTTP server on 127.0.0.1 standing in for a host someone wrote into Redis:
 * with an app id set it is not on the list, and it must never see a request (nor the token).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { PasswordServiceClientCredentialFactory } from 'botframework-connector';
import { ConnectorNotifier } from '../../src/notify/connector';
import {
  serviceUrlPolicyFrom,
  serviceUrlRefusal,
  UntrustedServiceUrlError,
} from '../../src/notify/service-url';
import { SendError } from '../../src/notify/types';
import { MemoryStore } from '../../src/store/memory';
import { Proactive, UnknownConversationError } from '../../src/teams/proactive';

const APP_ID = '00000000-0000-4000-8000-00000000a99d';
const TOKEN = 'Bearer outbound-token-that-must-stay-home';

type Credentials = Awaited<ReturnType<PasswordServiceClientCredentialFactory['createCredentials']>>;
type Req = Parameters<Credentials['signRequest']>[0];

/** The password factory's app id rules, signing with a fixed value instead of asking Entra. */
class OfflineCredentials extends PasswordServiceClientCredentialFactory {
  override async createCredentials(appId: string): Promise<Credentials> {
    if (!(await this.isValidAppId(appId))) throw new Error('Invalid appId.');
    return {
      signRequest: async (req: Req) => {
        req.headers.set('authorization', TOKEN);
        return req;
      },
    };
  }
}

interface Thief {
  url: string;
  seen: { path: string; authorization?: string }[];
  close(): Promise<void>;
}

async function startThief(): Promise<Thief> {
  const seen: Thief['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({
      path: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'stolen-1' }));
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/emea/`,
    seen,
    close: () => new Promise(r => server.close(() => r())),
  };
}

const record = (serviceUrl: unknown) => ({
  reference: {
    serviceUrl,
    channelId: 'msteams',
    conversation: { id: '19:abc@thread.tacv2', conversationType: 'channel' },
    bot: { id: `28:${APP_ID}`, name: 'ecebot' },
  },
  kind: 'channel',
  tenantId: '72f988bf-0000-4000-8000-000000000001',
});

const card = { type: 'AdaptiveCard', version: '1.5', body: [] } as never;

function recordingLog() {
  const lines: { obj: object; msg?: string }[] = [];
  const push = (obj: object, msg?: string) => lines.push({ obj, ...(msg ? { msg } : {}) });
  return { lines, log: { info: push, warn: push, error: push } };
}

function proactive(store: MemoryStore, vars: NodeJS.ProcessEnv, log = recordingLog().log) {
  const auth = new ConfigurationBotFrameworkAuthentication(
    { MicrosoftAppId: APP_ID },
    new OfflineCredentials(APP_ID, 'not-a-real-secret'),
  );
  return new Proactive(new CloudAdapter(auth), APP_ID, store, {
    serviceUrls: serviceUrlPolicyFrom({ MicrosoftAppId: APP_ID, ...vars }),
    log,
  });
}

describe('the host rule (pure)', () => {
  const pub = serviceUrlPolicyFrom({ MicrosoftAppId: APP_ID });
  test.each([
    'https://smba.trafficmanager.net/emea/',
    'https://smba.trafficmanager.net/amer/',
    'https://smba.trafficmanager.net/teams/',
    'https://SMBA.trafficmanager.net/apac/',
  ])('public cloud %s is followed', url => {
    expect(serviceUrlRefusal(url, pub)).toBeUndefined();
  });
  test.each([
    ['http://smba.trafficmanager.net/emea/', /https/],
    ['https://smba.trafficmanager.net.evil.example/emea/', /not a Bot Framework connector host/],
    ['https://evil.example/smba.trafficmanager.net/', /not a Bot Framework connector host/],
    ['https://smba.trafficmanager.net@evil.example/', /credentials/],
    ['https://smba.infra.gcc.teams.microsoft.com/teams', /not a Bot Framework connector host/],
    ['http://127.0.0.1:3978/', /loopback/],
    ['not a url', /not a URL/],
    [42, /no serviceUrl/],
  ])('%s is refused', (url, why) => {
    expect(serviceUrlRefusal(url, pub)).toMatch(why);
  });
  test('a sovereign cloud lists its host; the public one is then no longer followed', () => {
    const gcch = serviceUrlPolicyFrom({
      MicrosoftAppId: APP_ID,
      ECEBOT_SERVICE_URL_HOSTS: 'smba.infra.gov.teams.microsoft.us',
    });
    expect(serviceUrlRefusal('https://smba.infra.gov.teams.microsoft.us/teams', gcch)).toBe(
      undefined,
    );
    expect(serviceUrlRefusal('https://smba.trafficmanager.net/emea/', gcch)).toMatch(/not a Bot/);
  });
  test('a malformed host list is a clear error at start', () => {
    expect(() => serviceUrlPolicyFrom({ ECEBOT_SERVICE_URL_HOSTS: 'https://x/, y' })).toThrow(
      /ECEBOT_SERVICE_URL_HOSTS: "https:\/\/x\/" is not a host name/,
    );
  });
});

describe('Proactive follows only trusted stored references', () => {
  let thief: Thief;
  beforeEach(async () => {
    thief = await startThief();
  });
  afterEach(async () => {
    await thief.close();
  });

  test('a reference tampered to another host is refused, logged without secrets, never contacted', async () => {
    const store = new MemoryStore();
    await store.saveConversation('19:abc@thread.tacv2', record(thief.url));
    const rec = recordingLog();
    const err = await proactive(store, {}, rec.log)
      .send('19:abc@thread.tacv2', card)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntrustedServiceUrlError);
    expect(thief.seen).toEqual([]);
    const logged = JSON.stringify(rec.lines);
    expect(logged).toContain('UNTRUSTED_SERVICE_URL');
    expect(logged).toContain('127.0.0.1');
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain('/emea/');
  });

  test('the same reference on a listed host is followed, signed (what the check keeps from others)', async () => {
    const store = new MemoryStore();
    await store.saveConversation('19:abc@thread.tacv2', record(thief.url));
    await proactive(store, { ECEBOT_SERVICE_URL_HOSTS: '127.0.0.1' }).send(
      '19:abc@thread.tacv2',
      card,
    );
    expect(thief.seen.map(s => s.authorization)).toEqual([TOKEN]);
  });

  test('a new channel post to an untrusted serviceUrl is refused before any request', async () => {
    const err = await proactive(new MemoryStore(), {})
      .postToChannel(thief.url, '19:abc@thread.tacv2', undefined, card)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntrustedServiceUrlError);
    expect(thief.seen).toEqual([]);
  });

  test.each([
    [
      'conversation id not a string',
      { ...record('x'), reference: { serviceUrl: 'x', conversation: { id: {} } } },
    ],
    ['unknown kind', { ...record('https://smba.trafficmanager.net/emea/'), kind: 'admin' }],
    ['not an object', 'https://smba.trafficmanager.net/emea/'],
  ])('a malformed record (%s) is not followed and its fields are logged', async (_, bad) => {
    const store = new MemoryStore();
    await store.saveConversation('19:abc@thread.tacv2', bad);
    const rec = recordingLog();
    const err = await proactive(store, { ECEBOT_SERVICE_URL_HOSTS: '127.0.0.1' }, rec.log)
      .send('19:abc@thread.tacv2', card)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownConversationError);
    expect(JSON.stringify(rec.lines)).toContain('MALFORMED_CONVERSATION_RECORD');
    expect(thief.seen).toEqual([]);
  });
});

describe('ConnectorNotifier follows only trusted stored references', () => {
  let thief: Thief;
  beforeEach(async () => {
    thief = await startThief();
  });
  afterEach(async () => {
    await thief.close();
  });

  const notifier = (store: MemoryStore, hosts?: string) => {
    const refused: string[] = [];
    const n = new ConnectorNotifier({
      store,
      token: async () => TOKEN.slice('Bearer '.length),
      serviceUrls: serviceUrlPolicyFrom({
        MicrosoftAppId: APP_ID,
        ...(hosts ? { ECEBOT_SERVICE_URL_HOSTS: hosts } : {}),
      }),
      onRefused: (c, reason) => refused.push(`${c}: ${reason}`),
    });
    return { n, refused };
  };

  test('a tampered host gets a non-retryable refusal and no request', async () => {
    const store = new MemoryStore();
    await store.saveConversation('c1', record(thief.url).reference);
    const { n, refused } = notifier(store);
    const err = await n.send('c1', { text: 'hello' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendError);
    expect((err as SendError).status).toBe(403);
    expect(thief.seen).toEqual([]);
    expect(refused.join()).toMatch(/^c1: host 127\.0\.0\.1 is loopback/);
    expect(refused.join()).not.toContain(TOKEN.slice('Bearer '.length));
  });

  test('listed, it is followed with the token (what the check keeps from others)', async () => {
    const store = new MemoryStore();
    await store.saveConversation('c1', record(thief.url).reference);
    await notifier(store, '127.0.0.1').n.send('c1', { text: 'hello' });
    expect(thief.seen.map(s => s.authorization)).toEqual([TOKEN]);
  });

  test('a malformed reference is refused, naming the field only', async () => {
    const store = new MemoryStore();
    await store.saveConversation('c1', { serviceUrl: thief.url, conversation: { id: 7 } });
    const { n, refused } = notifier(store, '127.0.0.1');
    const err = await n.send('c1', { text: 'hello' }).catch((e: unknown) => e);
    expect((err as SendError).status).toBe(400);
    expect(refused).toEqual(['c1: stored reference is malformed (conversation.id)']);
    expect(thief.seen).toEqual([]);
  });
});
