/**
 * Starting the whole lab: a simulated Entra ID, Graph, Exchange admin API, Exchange Online
 * IMAP/POP3/SMTP and an ECE web server, all on 127.0.0.1 with certificates from a CA made for
 * this lab, plus the inventory, secrets and CA files that make `ecebot check lab` run against it.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createCa, type LabCa } from './ca';
import { LabClock } from './clock';
import { startEceRetriever, type EceRetriever } from './ece-retriever';
import { startEceServer } from './ece-server';
import { startEntraServer } from './entra-server';
import { startExoServer } from './exo-server';
import { startFault } from './fault-servers';
import type { Fault, LabEndpoint } from './faults';
import { startGraphServer } from './graph-server';
import { startImapServer } from './imap-server';
import { startDelayedForwarder } from './latency';
import { startPop3Server } from './pop3-server';
import type { LabInventoryKnobs, Scenario } from './scenarios';
import type { LabState, RunningServer } from './server-types';
import { startSmtpServer } from './smtp-server';
import { healthyTenant, refreshTokenOf, type LabTenant } from './tenant';
import { createKeys, mintAccessToken } from './tokens';

/** Host names the lab answers for (all mapped to 127.0.0.1 in the inventory's hosts map). */
export const LAB_HOSTS = {
  login: 'login.microsoftonline.com',
  graph: 'graph.microsoft.com',
  exo: 'outlook.office365.com',
  imap: 'outlook.office365.com',
  pop3: 'outlook.office365.com',
  smtp: 'smtp.office365.com',
  ece: 'ece.example.com',
} as const satisfies Record<LabEndpoint, string>;

/** The ECE servers of the lab's inventory (its vantage points). */
export const LAB_VANTAGES = ['services-1', 'app-1'] as const;

/** What `ecebot lab --json` prints, and what tests use. */
export interface LabInfo {
  env: 'lab';
  inventory: string;
  ca: string;
  scenarios: string[];
  /**
   * What each scenario breaks, and what a correct check reports for it (item, status, code), so
   * a failure can be looked for with `ecebot probe` or `ecebot check --item`.
   */
  breaks: {
    scenario: string;
    description: string;
    item?: string;
    status?: string;
    code?: string;
  }[];
  /** Keyed as the lab's services are named: entra (login.microsoftonline.com), graph, exo, imap, pop3, smtp, ece. */
  endpoints: Record<'entra' | Exclude<LabEndpoint, 'login'>, { host: string; port: number }>;
  /** Ready-made Outlook access tokens per mailbox, for curl and `ecebot probe`. */
  tokens: Record<string, string>;
}

export interface Lab {
  info: LabInfo;
  tenant: LabTenant;
  dir: string;
  /** Every token and device code the lab's Entra ID handed out so far (for leak searches). */
  issued: readonly string[];
  /** The lab's clock: move it forward to age refresh tokens (90 days → AADSTS700082). */
  clock: LabClock;
  /** The lab's ECE redeeming its own tokens on a schedule, when started (`eceRetriever`). */
  eceRetriever?: EceRetriever;
  stop(): Promise<void>;
}

export interface LabOptions {
  scenarios: Scenario[];
  /** Extra network faults beyond the scenarios' (`ecebot lab --fault`). */
  faults?: Fault[];
  /** Folder for the inventory, CA and secrets; a new temp folder by default. */
  dir?: string;
  now?: Date;
  /** Client secret values to use instead of random ones (the ECE app's, ecebot's own app's). */
  secrets?: { eceApp?: string; probeApp?: string };
  /**
   * Run a lab ECE that redeems its mailboxes' refresh tokens every `everyMinutes` lab-minutes
   * at the lab's Entra (./ece-retriever.ts), filling the sign-in log as the real ECE does. Off
   * when unset.
   */
  eceRetriever?: { everyMinutes: number; checkMs?: number };
  /** The lab clock to use (a new one, at real time, by default). */
  clock?: LabClock;
  /**
   * One-way delay in milliseconds on every lab endpoint (./latency.ts), so each round trip pays
   * twice it, as across a WAN to Microsoft 365. None by default.
   */
  latencyMs?: number;
}

/**
 * Entra's sign-in service answers as login.microsoftonline.com and as login.microsoft.com (an
 * alias in its instance-discovery metadata, o365-facts.md §1.1); the lab's Entra does too, so the
 * network read's probe of the alias reaches it.
 */
export const LOGIN_ALIAS = 'login.microsoft.com';

/** Servers a fault applies to, with the certificate names they present. */
function certNames(endpoint: LabEndpoint): string[] {
  return endpoint === 'login' ? [LAB_HOSTS.login, LOGIN_ALIAS] : [LAB_HOSTS[endpoint]];
}

async function startFaults(
  faults: Fault[],
  ports: Record<LabEndpoint, number>,
  ca: LabCa,
  servers: RunningServer[],
) {
  const byServer: Record<string, Record<string, { host: string; port: number }>> = {};
  for (const f of faults) {
    const s = await startFault(
      f.kind,
      { port: ports[f.endpoint] },
      { ca, names: certNames(f.endpoint), ...(f.delayMs ? { delayMs: f.delayMs } : {}) },
    );
    servers.push(s);
    (byServer[f.vantage] ??= {})[f.endpoint] = { host: LAB_HOSTS[f.endpoint], port: s.port };
  }
  return byServer;
}

/** Start the lab with the given scenarios applied (later ones win where they overlap). */
export async function startLab(opts: LabOptions): Promise<Lab> {
  const now = opts.now ?? new Date();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ecebot-lab-'));
  mkdirSync(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  const ca = createCa();
  const keys = createKeys();
  const servers: RunningServer[] = [];
  const clock = opts.clock ?? new LabClock();
  let retriever: EceRetriever | undefined;
  const stop = async () => {
    await retriever?.stop();
    await Promise.allSettled(servers.map(s => s.close()));
    // A folder the lab made itself holds the lab's secrets, keys and CA: it goes when the lab
    // does. One the caller named (`ecebot lab --dir`) is theirs to keep.
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The ECE server starts first: the app registration's redirect URI needs its port.
    const eceTls = opts.scenarios.some(s => s.eceCertExpired)
      ? ca.issue({
          names: [LAB_HOSTS.ece],
          notBefore: new Date(now.getTime() - 400 * 86400000),
          notAfter: new Date(now.getTime() - 5 * 86400000),
        })
      : ca.issue({ names: [LAB_HOSTS.ece] });
    // With a latency, clients reach each server through a delaying forwarder (./latency.ts).
    const front = async (s: RunningServer): Promise<RunningServer> => {
      if (!opts.latencyMs) return s;
      const f = await startDelayedForwarder(s.port, opts.latencyMs);
      servers.push(f);
      return f;
    };
    const eceServer = await startEceServer({ tls: eceTls });
    servers.push(eceServer);
    const ece = await front(eceServer);
    const externalUrl = `https://${LAB_HOSTS.ece}:${ece.port}`;

    const tenant = healthyTenant(externalUrl, now);
    if (opts.secrets?.eceApp) tenant.eceApp.secrets[0]!.value = opts.secrets.eceApp;
    if (opts.secrets?.probeApp) tenant.probeApp.secret = opts.secrets.probeApp;
    // The refresh tokens ECE holds, read before scenarios change whose they are (wrong-user-token).
    const d = tenant.domain;
    const rtSupport = refreshTokenOf(tenant, `support@${d}`)!;
    const rtService = refreshTokenOf(tenant, `svc-ece@${d}`)!;
    // A well-kept ECE: 12.6(1) with ES10, which Cisco's UCCE 15.0(1) Features Guide names ("ECE
    // ES10 or later on ECE 12.6(1)"); old-es (ES0) and older-es (ES3) go below it.
    const knobs: LabInventoryKnobs = { version: '12.6(1)', es: 10, externalUrl: true };
    for (const s of opts.scenarios) {
      s.tenant?.(tenant, now);
      s.inventory?.(knobs);
    }
    const issued: string[] = [];
    const state: LabState = { tenant, keys, issued, clock };
    const imapDelayMs = Math.max(0, ...opts.scenarios.map(s => s.imapDelayMs ?? 0));

    const exoTls = ca.issue({ names: [LAB_HOSTS.exo] });
    const [entra, graph, exo, imap, pop3, smtp] = await Promise.all([
      startEntraServer({ state, tls: ca.issue({ names: certNames('login') }) }),
      startGraphServer({ state, tls: ca.issue({ names: [LAB_HOSTS.graph] }) }),
      startExoServer({ state, tls: exoTls }),
      startImapServer({ state, tls: exoTls, ...(imapDelayMs ? { delayMs: imapDelayMs } : {}) }),
      startPop3Server({ state, tls: exoTls }),
      startSmtpServer({ state, tls: ca.issue({ names: [LAB_HOSTS.smtp] }) }),
    ]);
    servers.push(entra, graph, exo, imap, pop3, smtp);
    const fronts = await Promise.all([entra, graph, exo, imap, pop3, smtp].map(front));
    const port = (i: number) => fronts[i]!.port;
    const ports: Record<LabEndpoint, number> = {
      login: port(0),
      graph: port(1),
      exo: port(2),
      imap: port(3),
      pop3: port(4),
      smtp: port(5),
      ece: ece.port,
    };
    const faultsByServer = await startFaults(
      [...opts.scenarios.flatMap(s => s.faults ?? []), ...(opts.faults ?? [])],
      ports,
      ca,
      servers,
    );

    // Files: CA, secrets (0600), inventory.
    const caPath = join(dir, 'ca.pem');
    writeFileSync(caPath, ca.certPem);
    const secret = (name: string, value: string) => {
      writeFileSync(join(dir, 'secrets', name), `${value}\n`, { mode: 0o600 });
      return `file:secrets/${name}`;
    };
    const ep = (e: LabEndpoint) => ({ host: LAB_HOSTS[e], port: ports[e] });
    const env = {
      description: `ecebot lab (scenario: ${opts.scenarios.map(s => s.name).join(', ') || 'healthy'})`,
      ece: { version: knobs.version, es: knobs.es, ...(knobs.externalUrl ? { externalUrl } : {}) },
      servers: [
        {
          name: 'services-1',
          role: 'services',
          ...(faultsByServer['services-1'] ? { endpoints: faultsByServer['services-1'] } : {}),
        },
        {
          name: 'app-1',
          role: 'application',
          ...(faultsByServer['app-1'] ? { endpoints: faultsByServer['app-1'] } : {}),
        },
      ],
      tenant: { id: tenant.tenantId, domain: d },
      app: {
        clientId: tenant.eceApp.appId,
        secret: secret('ece-app-secret', tenant.eceApp.secrets[0]!.value),
      },
      probe: {
        clientId: tenant.probeApp.appId,
        secret: secret('probe-app-secret', tenant.probeApp.secret),
      },
      // ecebot's own public-client app for `signin ENV MAILBOX` (never ECE's app).
      signin: { clientId: tenant.signinApp.appId },
      mailboxes: [
        {
          address: `support@${d}`,
          access: 'mailbox',
          retrieve: 'imap',
          refreshToken: secret('support.refresh-token', rtSupport),
          sendTest: true,
        },
        {
          address: `sales@${d}`,
          access: 'shared',
          account: `svc-ece@${d}`,
          retrieve: 'pop3',
          refreshToken: secret('svc-ece.refresh-token', rtService),
        },
      ],
      endpoints: {
        login: ep('login'),
        graph: ep('graph'),
        exo: ep('exo'),
        imap: ep('imap'),
        pop3: ep('pop3'),
        smtp: ep('smtp'),
        caFile: 'ca.pem',
        hosts: Object.fromEntries(
          [...new Set([...Object.values(LAB_HOSTS), LOGIN_ALIAS])].map(h => [h, '127.0.0.1']),
        ),
      },
      // Loopback answers in microseconds: short deadlines keep fault scenarios quick.
      budget: {
        dnsMs: 1000,
        connectMs: 1500,
        tlsMs: 1500,
        greetingMs: 3000,
        commandMs: 3000,
        totalMs: 12000,
        slowMs: 500,
      },
    };
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(
      inventory,
      `# Written by \`ecebot lab\`; run: ecebot check lab --config ${inventory}\n${stringify({ environments: { lab: env } })}`,
    );

    const outlookToken = (upn: string) => {
      const u = tenant.users.find(x => x.userPrincipalName === upn);
      return mintAccessToken(keys, {
        aud: 'https://outlook.office.com',
        tid: tenant.tenantId,
        appid: tenant.eceApp.appId,
        scp: 'IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send',
        upn,
        ...(u ? { oid: u.id } : {}),
        amr: ['pwd'],
        lifetimeMinutes: tenant.eceApp.accessTokenLifetimeMinutes,
      });
    };
    const info: LabInfo = {
      env: 'lab',
      inventory,
      ca: caPath,
      scenarios: opts.scenarios.map(s => s.name),
      breaks: opts.scenarios.map(s => ({
        scenario: s.name,
        description: s.description,
        ...(s.expect ? { item: s.expect.item, status: s.expect.status, code: s.expect.code } : {}),
      })),
      endpoints: Object.fromEntries(
        (Object.keys(ports) as LabEndpoint[]).map(k => [k === 'login' ? 'entra' : k, ep(k)]),
      ) as LabInfo['endpoints'],
      tokens: {
        [`support@${d}`]: outlookToken(`support@${d}`),
        [`sales@${d}`]: outlookToken(`svc-ece@${d}`),
      },
    };
    if (opts.eceRetriever) {
      // ECE holds its own copies of the grants: the same tokens the inventory was given, which
      // ECE then replaces with each redemption's newest (ecebot's copies are not touched).
      const outlook = 'https://outlook.office.com';
      retriever = startEceRetriever({
        entraPort: entra.port,
        ca: ca.certPem,
        tenantId: tenant.tenantId,
        clientId: tenant.eceApp.appId,
        secret: () => tenant.eceApp.secrets[0]?.value ?? '',
        grants: [
          {
            mailbox: `support@${d}`,
            refreshToken: rtSupport,
            scopes: [`${outlook}/IMAP.AccessAsUser.All`, `${outlook}/SMTP.Send`],
          },
          {
            mailbox: `sales@${d}`,
            refreshToken: rtService,
            scopes: [`${outlook}/POP.AccessAsUser.All`, `${outlook}/SMTP.Send`],
          },
        ],
        everyMinutes: opts.eceRetriever.everyMinutes,
        clock,
        ...(opts.eceRetriever.checkMs ? { checkMs: opts.eceRetriever.checkMs } : {}),
      });
    }
    return {
      info,
      tenant,
      dir,
      issued,
      clock,
      ...(retriever ? { eceRetriever: retriever } : {}),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
