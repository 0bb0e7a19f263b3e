/**
 * Checklist item 8, network: from every ECE server (services and application), DNS and TCP/TLS
 * to login.microsoftonline.com and login.microsoft.com on 443, smtp.office365.com:587
 * (STARTTLS) and outlook.office365.com:993/995 — the technote's "ports at least" (checklist.md
 * item 8). The first token is created on an application server and every refresh, the
 * retriever and the dispatcher run on the services server; application servers also send
 * alarm mail.
 *
 * Also judged here: a server that lets only TLS below 1.2 through (TLS_VERSION_REFUSED), an
 * inventory that points at Microsoft's legacy-TLS endpoints (TLS_LEGACY_ENDPOINT), and the
 * HTTP proxy HTTPS goes through (PROXY_*: the proxy's refusal, never "a firewall").
 */
import type { Code, Observation } from '../model';
import { fact, fromObservation, outcomePhrase } from './evidence';
import { judge, part, type Part, type Rule } from './rule';
import type { Text } from '../model/items';
import { APPLICATION, EVERY_SERVER, SERVICES, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'Network: URLs and ports', nl: 'Netwerk: URL’s en poorten' };

type NetObservation = Extract<Observation, { kind: 'dns' | 'tcp' | 'tls' }>;
type MailObservation = Extract<Observation, { kind: 'imap' | 'pop3' | 'smtp' }>;

/**
 * Refusals only a mail server's words reveal, about the TLS on the path rather than the login:
 * Exchange Online's "421 4.7.66 TLS 1.0 and 1.1 are not supported" (o365-facts.md §8) and a
 * server that asks for privacy (RFC 5530 PRIVACYREQUIRED, RFC 3207 530). The connection probes
 * negotiate TLS 1.2+ themselves and cannot see them.
 */
const MAIL_TLS_CODES: ReadonlySet<Code> = new Set<Code>([
  'MAIL_TLS_VERSION_REFUSED',
  'MAIL_TLS_REQUIRED',
]);

function isNet(o: Observation): o is NetObservation {
  return o.kind === 'dns' || o.kind === 'tcp' || o.kind === 'tls';
}

function isMailTls(o: Observation): o is MailObservation {
  return (
    (o.kind === 'imap' || o.kind === 'pop3' || o.kind === 'smtp') && MAIL_TLS_CODES.has(o.code)
  );
}

/** A mail conversation refused for its TLS: a failure of the path to that host:port. */
function judgeMailTls(o: MailObservation): Part {
  const host = o.host ?? o.target.replace(/:\d+$/, '');
  const label = o.port ? `${host}:${o.port}` : host;
  return part(
    'fail',
    o.code,
    `${label} ${outcomePhrase(o.code)} (${o.kind.toUpperCase()} ${o.stage}) from ${o.vantage}`,
    [fromObservation(o)],
    {
      failedOn: [o.vantage],
      fix: { vantage: o.vantage, host, ...servicePorts(o.kind, o.port) },
    },
  );
}

/** `host:port`, or the host for a DNS lookup. */
function where(o: NetObservation): { label: string; host: string; port?: number } {
  if (o.kind === 'dns') return { label: o.host ?? o.target, host: o.host ?? o.target };
  const host = o.host ?? o.target.replace(/:\d+$/, '');
  const port = o.port ?? Number(/:(\d+)$/.exec(o.target)?.[1]);
  return {
    label: Number.isFinite(port) ? `${host}:${port}` : host,
    host,
    ...(Number.isFinite(port) ? { port } : {}),
  };
}

/**
 * Microsoft's opt-in endpoints for POP3/IMAP4 clients that only speak TLS 1.0/1.1
 * (pop-legacy.office365.com, imap-legacy.office365.com; 21Vianet: *-legacy.partner.outlook.cn),
 * per "Opt in to the Exchange Online endpoint for legacy TLS clients using POP3 or IMAP4"
 * (https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/opt-in-exchange-online-endpoint-for-legacy-tls-using-pop3-or-imap4),
 * and smtp-legacy.office365.com (o365-facts.md §1.1). Microsoft retires legacy TLS for POP3 and
 * IMAP4 between 1 July and 31 December 2026 (Microsoft 365 message center MC1293480, as
 * mirrored at https://mc.merill.net/message/MC1293480): ECE must not depend on them.
 */
const LEGACY_HOST = /^[a-z0-9-]+-legacy\.(office365\.com|partner\.outlook\.cn)\.?$/i;

/** Each Microsoft 365 service's port (checklist item 8: 443, 587, 993, 995). */
const SERVICE_PORT = { https: 443, smtp: 587, imap: 993, pop3: 995 } as const;

/**
 * The ports a fix names: the service's own, and the one the check reached only when it differs
 * (the lab serves every endpoint on a port of its own).
 */
export function servicePorts(
  service: keyof typeof SERVICE_PORT | undefined,
  reached: number | undefined,
): { port?: number; probedPort?: number } {
  const own = service ? SERVICE_PORT[service] : undefined;
  if (own === undefined) return reached !== undefined ? { port: reached } : {};
  return reached !== undefined && reached !== own
    ? { port: own, probedPort: reached }
    : { port: own };
}

/** Mail ports: never carried by an HTTP proxy. */
const MAIL_PORTS = new Set([587, 993, 995]);

/** Codes that say a connection did not get through at all (where a proxy might be blamed). */
const UNREACHED = new Set<string>([
  'CONNECT_REFUSED',
  'CONNECT_TIMEOUT',
  'CONNECT_RESET',
  'TIMEOUT',
  'GREETING_TIMEOUT',
  'DNS_NOT_FOUND',
  'DNS_TIMEOUT',
  'DNS_SERVER_FAILURE',
]);

function judgeOne(o: NetObservation, proxyOn: ReadonlyMap<string, string>): Part {
  const w = where(o);
  const evidence = [fromObservation(o)];
  if (o.code === 'CHECK_CRASHED') {
    return part(
      'error',
      'CHECK_CRASHED',
      `the ${o.kind} probe of ${w.label} crashed on ${o.vantage}`,
      evidence,
      { failedOn: [o.vantage] },
    );
  }
  // A handshake that completed with a certificate Node did not trust is still a failure.
  const code = o.ok && o.kind === 'tls' && o.cert?.trusted === false ? 'TLS_CERT_INVALID' : o.code;
  if (code === 'OK') return part('pass', 'OK', `${w.label} ok from ${o.vantage}`, evidence);
  const fix = {
    vantage: o.vantage,
    host: w.host,
    ...servicePorts(o.kind === 'tls' ? o.service : undefined, w.port),
  };
  let failed = code === o.code ? evidence : [fromObservation(o, { code, ok: false })];
  const proxy = proxyOn.get(o.vantage);
  if (proxy && fix.port !== undefined && MAIL_PORTS.has(fix.port) && UNREACHED.has(code)) {
    // HTTPS from this server goes through a proxy; mail ports cannot (an HTTP proxy carries
    // HTTPS only), so they need their own direct route through the firewall.
    failed = failed.map(e => ({
      ...e,
      text: `${e.text}; mail port ${fix.port} does not go through the HTTP proxy ${proxy}: it needs a direct route`,
    }));
  }
  return part('fail', code, `${w.label} ${outcomePhrase(code)} from ${o.vantage}`, failed, {
    failedOn: [o.vantage],
    fix,
  });
}

export const network: Rule = ({ env, observations }) => {
  const names = new Set(env.servers.map(s => s.name));
  const seen = observations.filter(isNet).filter(o => names.has(o.vantage));
  const proxyOn = new Map<string, string>();
  for (const o of seen) if (o.kind === 'tls' && o.proxy) proxyOn.set(o.vantage, o.proxy);
  const parts = [
    ...seen.map(o => judgeOne(o, proxyOn)),
    ...observations
      .filter(isMailTls)
      .filter(o => names.has(o.vantage))
      .map(judgeMailTls),
  ];
  for (const e of env.endpointHosts ?? []) {
    if (!LEGACY_HOST.test(e.host)) continue;
    const code = 'TLS_LEGACY_ENDPOINT';
    parts.push(
      part(
        'fail',
        code,
        `${e.host} (${e.field}) is a legacy-TLS endpoint Microsoft retires in 2026`,
        [fact(e.field, `Inventory: ${e.field}.host = ${e.host}`, false, code)],
        { fix: { host: e.host } },
      ),
    );
  }
  for (const s of env.servers) {
    if (!seen.some(o => o.vantage === s.name)) {
      parts.push(
        part('skip', 'NO_WORKER', `nothing observed from ${s.name}`, [], {
          fix: { vantage: s.name },
        }),
      );
    }
  }
  const targets = [...new Set(seen.filter(o => o.kind !== 'dns').map(o => where(o).label))];
  const from = [...new Set(seen.map(o => o.vantage))];
  return judge('network', TITLE.en, env, parts, {
    passSummary: `${targets.join(', ')} reachable from ${from.join(', ')}`,
    emptySummary: 'No ECE servers in the inventory.',
  });
};

/** Checklist item: Network: URLs and ports. */
export const item: ItemDeclaration = {
  id: 'network',
  title: TITLE,
  reads: [
    { read: 'network', on: EVERY_SERVER },
    // Exchange Online's TLS-version refusal ("421 4.7.66") and a server asking for privacy
    // show only in the mail conversations: from the services server, and the SMTP login from
    // application servers.
    { read: 'mailbox-login', on: SERVICES },
    { read: 'mailbox-send', on: APPLICATION },
  ],
  rule: network,
};
