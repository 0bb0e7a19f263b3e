/**
 * Interop: the IMAP and POP3 probes against Dovecot 2.3, a standards-compliant server that is
 * not ours. Dovecot validates the lab's RS256 access tokens itself (oauth2 passdb, local JWT
 * validation), so a pass means the probes' SASL XOAUTH2/OAUTHBEARER, IMAP (RFC 9051/3501) and
 * POP3 (RFC 1939, 2449, 5034) conversations are understood by someone else's implementation,
 * and a refusal is Dovecot's own.
 *
 * Skipped (not failed) when /usr/sbin/dovecot is not installed; `.ci/run` installs it.
 */
import { createCa } from '../../src/lab/ca';
import { createKeys, OUTLOOK_AUDIENCES, type AccessClaims } from '../../src/lab/tokens';
import { DEFAULT_DEADLINES, type ProbeContext } from '../../src/probes/context';
import { probeImap } from '../../src/probes/imap';
import { probePop3 } from '../../src/probes/pop3';
import type { MailObservation } from '../../src/model';
import { xoauth2 } from '../../src/probes/xoauth2';
import { Redactor } from '../../src/util/redact';
import {
  DOVECOT_BINARY,
  dovecotInstalled,
  mintDovecotToken,
  startDovecot,
  type DovecotOptions,
  type DovecotServer,
} from './support/dovecot';

/** A name under .test (RFC 6761): it can never resolve for real; the hosts map sends it home. */
const HOST = 'mail.dovecot.test';
const USER = 'sales@example.com';
const TENANT = '5f0d6c7e-6b52-4d6a-9c3e-2a7f7d1c0b11';
const APP = '0c1e9a9b-3d8a-4f43-9e22-8b0f5a6c7d10';
const ISSUER = `https://sts.windows.net/${TENANT}/`;
const FOLDERS = ['Sent', 'Drafts', 'Deleted Items'];
const MESSAGES = [
  'From: customer@example.net\r\nTo: sales@example.com\r\nSubject: Quote\r\n' +
    'Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.net>\r\n\r\nHello.\r\n',
];

const ca = createCa();
const keys = createKeys();

/** Delegated IMAP/POP token for USER, as Entra would mint it (o365-facts.md §2.4). */
function claims(extra: Partial<AccessClaims> = {}): AccessClaims {
  return {
    aud: OUTLOOK_AUDIENCES[0]!,
    tid: TENANT,
    appid: APP,
    scp: 'IMAP.AccessAsUser.All POP.AccessAsUser.All',
    upn: USER,
    oid: '7d3f2c1a-0000-4000-8000-000000000001',
    amr: ['pwd'],
    idtyp: 'user',
    lifetimeMinutes: 60,
    ...extra,
  };
}

const GOOD = mintDovecotToken(keys, claims());
/** Same kid as the trusted key, so Dovecot finds a key and fails on the signature itself. */
const FORGED = mintDovecotToken({ ...createKeys(), kid: keys.kid }, claims());
/** Issued two hours ago for one hour. */
const EXPIRED = mintDovecotToken(
  keys,
  claims({ iat: Math.floor(Date.now() / 1000) - 7200, lifetimeMinutes: 60 }),
);
/** A good token for another mailbox (the workstation user's, a classic ECE mistake). */
const OTHER_USER = mintDovecotToken(keys, claims({ upn: 'jdoe@example.com' }));
/** A Graph token: right user, wrong audience. */
const GRAPH = mintDovecotToken(keys, claims({ aud: 'https://graph.microsoft.com' }));

const ALL_TOKENS = [GOOD, FORGED, EXPIRED, OTHER_USER, GRAPH];

function context(): ProbeContext {
  return {
    vantage: 'interop',
    deadlines: DEFAULT_DEADLINES,
    ca: ca.certPem,
    hosts: { [HOST]: '127.0.0.1' },
    redactor: new Redactor(),
  };
}

function options(mechanisms: string[]): DovecotOptions {
  return {
    hostName: HOST,
    ca,
    keys,
    issuers: [ISSUER],
    audience: OUTLOOK_AUDIENCES[0]!,
    user: USER,
    folders: FOLDERS,
    messages: MESSAGES,
    mechanisms,
  };
}

/** The OAUTHBEARER initial response imapflow sends for this token (RFC 7628 §3.1). */
function oauthbearer(port: number, token: string): string {
  const fields = [`n,a=${USER},`, `host=${HOST}`, `port=${port}`, `auth=Bearer ${token}`, '', ''];
  return Buffer.from(fields.join('\x01')).toString('base64');
}

/** Neither the token nor a SASL blob that carries it appears anywhere in the observation. */
function expectNoSecrets(obs: MailObservation, token: string): void {
  const json = JSON.stringify(obs);
  expect(json).not.toContain(token);
  // The JWT's signature alone is a secret too (the header and payload are not).
  expect(json).not.toContain(token.split('.')[2]!);
  expect(json).not.toContain(xoauth2(USER, token));
  expect(json).not.toContain(oauthbearer(obs.port, token));
}

/** Dovecot logged no error: the configuration is sound and nothing failed on its side. */
function expectCleanLog(dovecot: DovecotServer): void {
  expect(dovecot.log()).not.toMatch(/: (Error|Fatal|Panic): /);
}

const stepNames = (obs: MailObservation) => obs.steps.map(s => s.name);
const step = (obs: MailObservation, name: string) => obs.steps.find(s => s.name === name);

if (!dovecotInstalled()) {
  console.warn(
    `Dovecot interop tests skipped: ${DOVECOT_BINARY} is not installed ` +
      '(apt-get install dovecot-imapd dovecot-pop3d; .ci/run does this).',
  );
  test.skip('probes interoperate with Dovecot (dovecot not installed)', () => undefined);
} else {
  describe('Dovecot offering XOAUTH2 and OAUTHBEARER', () => {
    let dovecot: DovecotServer;
    beforeAll(async () => {
      dovecot = await startDovecot(options(['xoauth2', 'oauthbearer']));
    });
    afterAll(async () => {
      await dovecot?.stop();
    });

    const imap = (token: string) =>
      probeImap(
        context(),
        { host: HOST, port: dovecot.imapsPort },
        { user: USER, accessToken: token },
      );
    const pop3 = (token: string) =>
      probePop3(
        context(),
        { host: HOST, port: dovecot.pop3sPort },
        { user: USER, accessToken: token },
      );

    describe('probeImap', () => {
      test('a good token logs in, lists the folders and counts INBOX', async () => {
        const mark = dovecot.log().length;
        const obs = await imap(GOOD);
        expect(obs).toMatchObject({ kind: 'imap', ok: true, code: 'OK', stage: 'authenticate' });
        // Dovecot's tagged OK to AUTHENTICATE (it carries the post-login CAPABILITY code).
        expect(obs.server).toMatch(/^\S+ OK \[CAPABILITY [^\]]+\] Logged in$/);
        expect(obs.mailboxFacts).toEqual({
          folders: FOLDERS.length + 1,
          messages: MESSAGES.length,
        });
        // Dovecot announces its capabilities in the greeting's response code (RFC 9051 §7.1).
        expect(obs.capabilities).toEqual(expect.arrayContaining(['AUTH=XOAUTH2', 'SASL-IR']));
        expect(stepNames(obs)).toEqual(
          expect.arrayContaining([
            'dns',
            'connect',
            'tls',
            'greeting',
            'authenticate',
            'list',
            'select',
          ]),
        );
        // imapflow prefers OAUTHBEARER (RFC 7628) when offered; the transcript says so.
        expect(step(obs, 'authenticate')?.sent).toMatch(
          /^\S+ AUTHENTICATE OAUTHBEARER <redacted>$/,
        );
        await dovecot.waitForLog(
          /imap-login: Info: Login: user=<sales@example\.com>, method=OAUTHBEARER/,
          mark,
        );
        expectNoSecrets(obs, GOOD);
      });

      test('a token signed by another key is AUTH_FAILED in Dovecot words', async () => {
        const mark = dovecot.log().length;
        const obs = await imap(FORGED);
        expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
        expect(obs.server).toMatch(/^\S+ NO \[AUTHENTICATIONFAILED\] Authentication failed\.$/);
        // OAUTHBEARER's error challenge (RFC 7628 §3.2.2), decoded.
        expect(obs.oauthError).toEqual({ status: 'invalid_token' });
        expect(obs.mailboxFacts).toBeUndefined();
        await dovecot.waitForLog(/Local validation failed: Bad signature/, mark);
        expectNoSecrets(obs, FORGED);
      });

      test('an expired token is AUTH_FAILED', async () => {
        const mark = dovecot.log().length;
        const obs = await imap(EXPIRED);
        expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
        expect(obs.server).toMatch(/^\S+ NO \[AUTHENTICATIONFAILED\] /);
        await dovecot.waitForLog(/Local validation failed: Token has expired/, mark);
        expectNoSecrets(obs, EXPIRED);
      });

      test("another mailbox's token is AUTH_FAILED (Dovecot matches upn to the SASL user)", async () => {
        const mark = dovecot.log().length;
        const obs = await imap(OTHER_USER);
        expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
        await dovecot.waitForLog(/did not match 'jdoe@example\.com'/, mark);
        expectNoSecrets(obs, OTHER_USER);
      });

      test('a Graph token is AUTH_FAILED (audience)', async () => {
        const mark = dovecot.log().length;
        const obs = await imap(GRAPH);
        expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
        await dovecot.waitForLog(/client_id not found in aud field/, mark);
        expectNoSecrets(obs, GRAPH);
      });
    });

    describe('probePop3', () => {
      test('a good token logs in with XOAUTH2 in two steps and STAT counts INBOX', async () => {
        const mark = dovecot.log().length;
        const obs = await pop3(GOOD);
        expect(obs).toMatchObject({ kind: 'pop3', ok: true, code: 'OK', stage: 'authenticate' });
        expect(obs.server).toBe('+OK Logged in.');
        expect(obs.mailboxFacts).toEqual({ messages: MESSAGES.length });
        expect(obs.capabilities).toContain('SASL XOAUTH2 OAUTHBEARER');
        expect(stepNames(obs)).toEqual([
          'dns',
          'connect',
          'tls',
          'greeting',
          'capability',
          'authenticate',
          'stat',
          'quit',
        ]);
        const auth = step(obs, 'authenticate')!;
        expect(auth.sent).toBe('AUTH XOAUTH2\n<redacted>');
        // RFC 5034 §4: an empty challenge ("+ ") before the client's response.
        expect(auth.received).toEqual(['+ ', '+OK Logged in.']);
        await dovecot.waitForLog(
          /pop3-login: Info: Login: user=<sales@example\.com>, method=XOAUTH2/,
          mark,
        );
        expectNoSecrets(obs, GOOD);
      });

      test('a token signed by another key is AUTH_FAILED with the XOAUTH2 error decoded', async () => {
        const mark = dovecot.log().length;
        const obs = await pop3(FORGED);
        expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
        // RFC 3206 [AUTH]: the credentials were refused.
        expect(obs.server).toBe('-ERR [AUTH] Authentication failed.');
        expect(obs.oauthError).toEqual({ status: '401', schemes: 'bearer', scope: 'mail' });
        expect(obs.mailboxFacts).toBeUndefined();
        // After the refusal the session is still usable: the probe quits politely.
        expect(step(obs, 'quit')).toMatchObject({ ok: true });
        await dovecot.waitForLog(/Local validation failed: Bad signature/, mark);
        expectNoSecrets(obs, FORGED);
      });

      test('an expired token is AUTH_FAILED', async () => {
        const mark = dovecot.log().length;
        const obs = await pop3(EXPIRED);
        expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
        expect(obs.server).toBe('-ERR [AUTH] Authentication failed.');
        await dovecot.waitForLog(/Local validation failed: Token has expired/, mark);
        expectNoSecrets(obs, EXPIRED);
      });
    });

    test('Dovecot logged no errors', () => expectCleanLog(dovecot));
  });

  describe('Dovecot offering XOAUTH2 only, as Exchange Online does', () => {
    let dovecot: DovecotServer;
    beforeAll(async () => {
      dovecot = await startDovecot(options(['xoauth2']));
    });
    afterAll(async () => {
      await dovecot?.stop();
    });

    const imap = (token: string) =>
      probeImap(
        context(),
        { host: HOST, port: dovecot.imapsPort },
        { user: USER, accessToken: token },
      );

    test('probeImap logs in with AUTHENTICATE XOAUTH2 and SASL-IR', async () => {
      const mark = dovecot.log().length;
      const obs = await imap(GOOD);
      expect(obs).toMatchObject({ kind: 'imap', ok: true, code: 'OK' });
      expect(obs.mailboxFacts).toEqual({ folders: FOLDERS.length + 1, messages: MESSAGES.length });
      expect(obs.capabilities).not.toContain('AUTH=OAUTHBEARER');
      expect(step(obs, 'authenticate')?.sent).toMatch(/^\S+ AUTHENTICATE XOAUTH2 <redacted>$/);
      await dovecot.waitForLog(
        /imap-login: Info: Login: user=<sales@example\.com>, method=XOAUTH2/,
        mark,
      );
      expectNoSecrets(obs, GOOD);
    });

    test('probeImap answers the XOAUTH2 error challenge and reports AUTH_FAILED', async () => {
      const mark = dovecot.log().length;
      const obs = await imap(FORGED);
      expect(obs).toMatchObject({ ok: false, code: 'AUTH_FAILED', stage: 'authenticate' });
      expect(obs.server).toMatch(/^\S+ NO \[AUTHENTICATIONFAILED\] Authentication failed\.$/);
      // Google's XOAUTH2 error shape, as Dovecot sends it; the probe sent the empty answer.
      expect(obs.oauthError).toEqual({ status: '401', schemes: 'bearer', scope: 'mail' });
      expect(step(obs, 'authenticate')?.sent?.split('\n')).toHaveLength(2);
      await dovecot.waitForLog(/Local validation failed: Bad signature/, mark);
      expectNoSecrets(obs, FORGED);
    });

    test('Dovecot logged no errors', () => expectCleanLog(dovecot));
  });
}

// Every token above is a distinct secret; a mix-up in the fixtures would weaken the tests.
test('the fixture tokens are distinct', () => {
  expect(new Set(ALL_TOKENS).size).toBe(ALL_TOKENS.length);
});
