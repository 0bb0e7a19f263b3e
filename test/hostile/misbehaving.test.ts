/**
 * Misbehaving servers: the lab's hostile fault kinds (a silent server, one byte per second,
 * garbage instead of TLS, 100,000 `* LIST` lines, a 10 MB SMTP greeting) and broken DNS
 * (SERVFAIL, no answer, NXDOMAIN). Each probe ends by its own deadline or bound with the code
 * that says what happened; a whole `ecebot check` in a child process with these faults still
 * reports all nine checklist items, within a memory budget.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { itemIds } from '../../src/checklist/items';
import { parseFault } from '../../src/lab/faults';
import { HUGE_LIST_LINES } from '../../src/lab/hostile-servers';
import { LAB_VANTAGES, startLab, type Lab } from '../../src/lab/index';
import type { ProbeContext } from '../../src/probes/context';
import { probeDns } from '../../src/probes/dns';
import { probeImap } from '../../src/probes/imap';
import { probePop3 } from '../../src/probes/pop3';
import { probeSmtp } from '../../src/probes/smtp';
import { KEPT_LINES, MAX_LINE_BYTES } from '../../src/probes/tcp';
import { probeTls } from '../../src/probes/tls';
import type { MailObservation, Observation } from '../../src/model';
import { ecebot, ROOT } from '../cli/support';
import { startDnsResponder, type DnsResponder } from '../probes/support/dns-responder';
import { labContext } from '../probes/support/context';

/** The faults this file sets up, per vantage point (one fault per vantage and endpoint). */
const FAULTS = [
  'services-1:imap:huge-list',
  'services-1:smtp:huge-greeting',
  'services-1:pop3:trickle',
  'app-1:imap:garbage',
  'app-1:smtp:trickle',
  'app-1:pop3:blackhole',
];

type Endpoints = Record<string, { host: string; port: number }>;

let lab: Lab;
let byVantage: Record<string, Endpoints>;
let ca: string;
let domain: string;

beforeAll(async () => {
  lab = await startLab({ scenarios: [], faults: FAULTS.map(f => parseFault(f, LAB_VANTAGES)) });
  const inv = parse(readFileSync(lab.info.inventory, 'utf8')) as {
    environments: { lab: { servers: { name: string; endpoints?: Endpoints }[] } };
  };
  byVantage = Object.fromEntries(
    inv.environments.lab.servers.map(s => [s.name, s.endpoints ?? {}]),
  );
  ca = readFileSync(lab.info.ca, 'utf8');
  domain = lab.tenant.domain;
});
afterAll(() => lab?.stop());

/** A probe context trusting the lab CA, with the lab's names on loopback and short deadlines. */
function ctx(deadlines: Partial<ProbeContext['deadlines']> = {}): ProbeContext {
  return labContext(undefined, { ca, deadlines: { totalMs: 4000, ...deadlines } });
}

/** The endpoint a fault put in front of `vantage`. */
const at = (vantage: string, endpoint: string) => byVantage[vantage]![endpoint]!;

/** The token and user for a mailbox of the lab. */
function login(mailbox: 'support' | 'sales') {
  const user = `${mailbox}@${domain}`;
  return { user, accessToken: lab.info.tokens[user]! };
}

/** Every step ended (none left open) and the outcome is the given code at the given stage. */
function expectEnded(obs: Observation, code: string, stage: string): void {
  expect({ code: obs.code, stage: obs.stage, ok: obs.ok }).toEqual({ code, stage, ok: false });
  const step = obs.steps.find(s => s.name === stage);
  expect(step).toMatchObject({ ok: false, code });
  expect(typeof step!.durationMs).toBe('number');
}

describe('protocol-level hostile servers', () => {
  test('a 10 MB SMTP greeting is cut at 64 KiB: REPLY_TOO_LONG with the first bytes as the server words', async () => {
    const obs = await probeSmtp(ctx(), at('services-1', 'smtp'), login('support'));
    expectEnded(obs, 'REPLY_TOO_LONG', 'greeting');
    const greeting = obs.steps.find(s => s.name === 'greeting')!;
    expect(greeting.received).toHaveLength(1);
    expect(greeting.received![0]).toMatch(/^220 smtp\.office365\.com x{100}/);
    expect(greeting.received![0]!.length).toBeLessThan(1000);
    expect(greeting.note).toMatch(/RFC 5321 §4\.5\.3\.1\.5/);
    expect(obs.server).toMatch(/^220 smtp\.office365\.com x+… \(\d+\+ more bytes\)$/);
    // The bound is ours, not nodemailer's 1 MiB: the conversation never went past the greeting.
    expect(obs.steps.map(s => s.name)).toEqual(['dns', 'connect', 'greeting']);
    expect(JSON.stringify(obs).length).toBeLessThan(MAX_LINE_BYTES);
  });

  test('the STARTTLS check of the network item cuts the same greeting (LineReader bound)', async () => {
    const obs = await probeTls(ctx(), at('services-1', 'smtp'), { starttls: 'smtp' });
    expectEnded(obs, 'REPLY_TOO_LONG', 'greeting');
    const greeting = obs.steps.find(s => s.name === 'greeting')!;
    expect(greeting.received![0]).toMatch(/^220 smtp\.office365\.com x+… \(\d+ more characters\)$/);
    expect(JSON.stringify(obs).length).toBeLessThan(MAX_LINE_BYTES);
  });

  test('100,000 untagged LIST lines are counted, not kept: the transcript stays bounded', async () => {
    const obs = (await probeImap(
      ctx({ totalMs: 15000, commandMs: 10000 }),
      at('services-1', 'imap'),
      {
        ...login('support'),
      },
    )) as MailObservation;
    expect({ ok: obs.ok, code: obs.code }).toEqual({ ok: true, code: 'OK' });
    expect(obs.mailboxFacts!.folders).toBeGreaterThan(HUGE_LIST_LINES);
    const list = obs.steps.find(s => s.name === 'list')!;
    expect(list.ok).toBe(true);
    expect(list.received!.length).toBeLessThanOrEqual(KEPT_LINES + 1);
    expect(list.received![0]).toMatch(/^\* LIST \(\\HasNoChildren\) "\/" "Flood\/Folder 0"$/);
    expect(list.received!.at(-1)).toMatch(/^\S+ OK\b/);
    expect(list.note).toMatch(/^\d+ more server lines not kept$/);
    expect(JSON.stringify(obs).length).toBeLessThan(64 * 1024);
    // The rest of the session went on normally after the flood.
    expect(obs.steps.map(s => s.name)).toEqual(expect.arrayContaining(['select', 'logout']));
  });

  test('garbage instead of TLS fails the handshake (IMAP, implicit TLS)', async () => {
    const obs = await probeImap(ctx(), at('app-1', 'imap'), login('support'));
    expectEnded(obs, 'TLS_HANDSHAKE_FAILED', 'tls');
  });

  test('garbage instead of an SMTP greeting is a protocol error with the server words', async () => {
    const port = at('app-1', 'imap').port;
    const obs = await probeSmtp(ctx(), { host: 'smtp.office365.com', port }, login('support'));
    expectEnded(obs, 'PROTOCOL_ERROR', 'greeting');
    expect(obs.server).toMatch(/^\uFFFD|^ÿ/);
  });
});

describe('slow and silent servers end by the deadlines', () => {
  test('one byte per second (SMTP): the greeting deadline fires although bytes keep coming', async () => {
    const obs = await probeSmtp(ctx({ greetingMs: 1500 }), at('app-1', 'smtp'), login('support'));
    expectEnded(obs, 'GREETING_TIMEOUT', 'greeting');
  });

  test('one byte per second (POP3, implicit TLS): the handshake deadline fires, TIMEOUT at tls', async () => {
    const obs = await probePop3(ctx({ tlsMs: 1500 }), at('services-1', 'pop3'), login('sales'));
    expectEnded(obs, 'TIMEOUT', 'tls');
  });

  test('one byte per second with long phase deadlines: the total deadline ends the probe', async () => {
    const obs = await probeSmtp(
      ctx({ greetingMs: 30000, commandMs: 30000, tlsMs: 30000, totalMs: 2500 }),
      at('app-1', 'smtp'),
      login('support'),
    );
    expectEnded(obs, 'TIMEOUT', 'greeting');
    expect(obs.steps.find(s => s.name === 'greeting')!.note).toMatch(/total deadline of 2500 ms/);
  });

  test('a server that accepts and never answers (POP3, implicit TLS): TIMEOUT at tls', async () => {
    const obs = await probePop3(ctx(), at('app-1', 'pop3'), login('sales'));
    // The silent server never answers the ClientHello: the handshake deadline ends it.
    expectEnded(obs, 'TIMEOUT', 'tls');
  });
});

describe('DNS failures through endpoints.dnsServers', () => {
  let dns: DnsResponder;
  beforeAll(async () => {
    dns = await startDnsResponder({
      servfail: ['smtp.office365.com'],
      silent: ['outlook.office365.com'],
      nxdomain: ['login.microsoftonline.com'],
    });
  });
  afterAll(() => dns?.close());

  const dnsCtx = () =>
    labContext(undefined, { ca, hosts: {}, dnsServers: [dns.server], deadlines: { dnsMs: 700 } });

  test.each([
    ['smtp.office365.com', 'DNS_SERVER_FAILURE'],
    ['outlook.office365.com', 'DNS_TIMEOUT'],
    ['login.microsoftonline.com', 'DNS_NOT_FOUND'],
  ])('%s: %s', async (host, code) => {
    const obs = await probeDns(dnsCtx(), host);
    expectEnded(obs, code, 'dns');
    expect(dns.asked).toContain(host);
  });

  test('a mail probe stops at its dns step with the DNS code', async () => {
    const obs = await probeSmtp(
      dnsCtx(),
      { host: 'smtp.office365.com', port: 587 },
      login('support'),
    );
    expectEnded(obs, 'DNS_SERVER_FAILURE', 'dns');
    expect(obs.steps.map(s => s.name)).toEqual(['dns']);
  });
});

/** The memory budget of a whole check (see the test). */
const RSS_BUDGET = 200 * 1024 * 1024;

describe('a whole check against these servers, in a child process', () => {
  let dns: DnsResponder;
  beforeAll(async () => {
    dns = await startDnsResponder({ servfail: ['ece.example.com'] });
  });
  afterAll(() => dns?.close());

  /**
   * Budget: a healthy lab check peaks around 100-130 MB RSS (Node itself is ~45 MB, the
   * libraries ~40 MB). 200 MB leaves room for that and for the runtime's heap growth, and is
   * far below what buffering the 10 MB greeting (as UTF-16 strings, copied per chunk) and
   * 100,000 folder objects and transcript lines would take.
   */
  test('all nine items are reported, and peak RSS stays under 200 MB', async () => {
    const inv = parse(readFileSync(lab.info.inventory, 'utf8')) as {
      environments: { lab: Record<string, unknown> & { endpoints: Record<string, unknown> } };
    };
    const env = inv.environments.lab;
    // The ECE server name goes to the failing DNS server instead of the hosts map.
    const hosts = { ...(env.endpoints.hosts as Record<string, string>) };
    delete hosts['ece.example.com'];
    env.endpoints = {
      ...env.endpoints,
      hosts,
      dnsServers: [dns.server],
    };
    env.budget = {
      dnsMs: 800,
      connectMs: 1000,
      tlsMs: 1500,
      greetingMs: 1500,
      commandMs: 8000,
      totalMs: 12000,
      slowMs: 500,
    };
    // Beside the lab's own inventory, so its relative secret and CA references still hold.
    const config = join(lab.dir, 'inventory-hostile.yaml');
    writeFileSync(config, stringify(inv));
    const rssFile = join(lab.dir, 'maxrss');
    const result = await ecebot(['check', 'lab', '--config', config, '--local', '--json'], {
      env: {
        NODE_OPTIONS: `-r ${join(ROOT, 'test/support/loopback-guard.js')} -r ${join(__dirname, 'support/max-rss.js')}`,
        ECEBOT_MAXRSS_FILE: rssFile,
      },
    });
    expect(result.stderr).toBe('');
    const run = JSON.parse(result.stdout) as {
      findings: { item: string; status: string; evidence: { code: string; vantage: string }[] }[];
    };
    expect(run.findings.map(f => f.item).sort()).toEqual(itemIds().sort());
    const codes = run.findings.flatMap(f => f.evidence.map(e => `${e.vantage} ${e.code}`));
    expect(codes).toEqual(
      expect.arrayContaining([
        // huge-greeting (SMTP submission and the STARTTLS check)
        'services-1 REPLY_TOO_LONG',
        // trickle: POP3's handshake from services-1, SMTP's greeting from app-1
        'services-1 TIMEOUT',
        'app-1 GREETING_TIMEOUT',
        // SERVFAIL for the ECE name from both servers
        'services-1 DNS_SERVER_FAILURE',
        'app-1 DNS_SERVER_FAILURE',
      ]),
    );
    const maxRss = Number(readFileSync(rssFile, 'utf8'));
    console.log(
      `ecebot check against hostile servers: peak RSS ${Math.round(maxRss / 1048576)} MB`,
    );
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(RSS_BUDGET);
  });
});
