/**
 * `ecebot probe imap|pop3|smtp|tls|https …`: one protocol conversation, printed step by step,
 * for a person debugging by hand (DESIGN.md "Commands").
 *
 * Exit codes: 0 the probe ended OK, 1 it did not, 2 bad input (nothing was probed). The access
 * token never appears in any output: every line goes through a Redactor that knows it.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { CODES } from '../knowledge/codes';
import {
  DEFAULT_DEADLINES,
  type Deadlines,
  type HostPort,
  type ProbeContext,
} from '../probes/context';
import { probeHttps } from '../probes/https';
import { probeImap } from '../probes/imap';
import { probePop3 } from '../probes/pop3';
import { probeSmtp } from '../probes/smtp';
import { probeTls } from '../probes/tls';
import type { MailObservation, Observation, Step } from '../model';
import { Redactor } from '../util/redact';
import { PROBE_USAGE } from './synopsis';

/** Where the command writes, and the environment it reads (ECEBOT_TOKEN). */
export interface ProbeIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

const PROTOCOLS = ['imap', 'pop3', 'smtp', 'tls', 'https'] as const;
type Protocol = (typeof PROTOCOLS)[number];

/** Office 365 ports (o365-facts.md §1.1). */
const DEFAULT_PORTS: Record<Protocol, number> = {
  imap: 993,
  pop3: 995,
  smtp: 587,
  tls: 443,
  https: 443,
};

// The usage text lives with the other commands' (./synopsis.ts), read without loading probes.
export { PROBE_USAGE };

/** Bad input: what is wrong, which flag, how to fix it. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Everything a probe needs, validated. */
interface ProbeRequest {
  protocol: Protocol;
  target: HostPort;
  url?: string;
  user?: string;
  token?: string;
  select?: string;
  sendTo?: string;
  starttls: boolean;
  json: boolean;
  ctx: ProbeContext;
}

function readText(path: string, flag: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(
      `${flag} ${path}: cannot read ${what} (${code})`,
      `check the path given to ${flag}`,
    );
  }
}

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new UsageError(
      `--port ${value} is not a port number`,
      'give --port a number from 1 to 65535',
    );
  }
  return port;
}

function parseDeadlines(value: string | undefined): Deadlines {
  if (value === undefined) return { ...DEFAULT_DEADLINES };
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 1) {
    throw new UsageError(
      `--timeout ${value} is not a number of milliseconds`,
      'e.g. --timeout 5000',
    );
  }
  const cap = (d: number) => Math.min(d, ms);
  return {
    dnsMs: cap(DEFAULT_DEADLINES.dnsMs),
    connectMs: cap(DEFAULT_DEADLINES.connectMs),
    tlsMs: cap(DEFAULT_DEADLINES.tlsMs),
    greetingMs: cap(DEFAULT_DEADLINES.greetingMs),
    commandMs: cap(DEFAULT_DEADLINES.commandMs),
    totalMs: ms,
  };
}

function parseResolve(values: string[]): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const v of values) {
    const m = /^([^=\s]+)=(.+)$/.exec(v);
    if (!m || !isIP(m[2]!)) {
      throw new UsageError(
        `--resolve ${v} is not NAME=IP`,
        'e.g. --resolve outlook.office365.com=127.0.0.1',
      );
    }
    hosts[m[1]!.toLowerCase()] = m[2]!;
  }
  return hosts;
}

function pickToken(
  values: { token?: string; 'token-file'?: string },
  env: NodeJS.ProcessEnv,
): string {
  if (values.token !== undefined && values['token-file'] !== undefined) {
    throw new UsageError(
      '--token and --token-file both given',
      'give the access token one way only',
    );
  }
  let token = values.token;
  if (values['token-file'] !== undefined) {
    token = readText(values['token-file'], '--token-file', 'the access token');
  }
  token = (token ?? env.ECEBOT_TOKEN ?? '').trim();
  if (!token) {
    throw new UsageError(
      'no access token',
      'give --token-file FILE (or set ECEBOT_TOKEN, or --token TOKEN)',
    );
  }
  return token;
}

/** Parse and validate argv into a request, or throw UsageError. */
function parseRequest(argv: string[], io: ProbeIo): ProbeRequest | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        user: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        ca: { type: 'string' },
        starttls: { type: 'boolean' },
        json: { type: 'boolean' },
        resolve: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        select: { type: 'string' },
        'send-to': { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message, 'run `ecebot probe --help` for the options');
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [first, second, ...extra] = positionals;
  if (!first || !(PROTOCOLS as readonly string[]).includes(first)) {
    throw new UsageError(
      first ? `unknown protocol ${JSON.stringify(first)}` : 'no protocol given',
      `say which: ecebot probe ${PROTOCOLS.join('|')} --host NAME …`,
    );
  }
  const protocol = first as Protocol;
  if (extra.length || (second !== undefined && protocol !== 'https')) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(extra[0] ?? second)}`,
      'options start with --, e.g. --host NAME',
    );
  }
  if (values.starttls && protocol !== 'tls') {
    throw new UsageError(
      `--starttls applies to \`probe tls\` only`,
      protocol === 'smtp' ? 'probe smtp always uses STARTTLS; drop --starttls' : 'drop --starttls',
    );
  }

  let url: string | undefined;
  let host = values.host;
  let port: number;
  if (protocol === 'https') {
    url = second ?? values.url;
    if (url === undefined) {
      if (!host) {
        throw new UsageError(
          'no URL',
          'give the URL (ecebot probe https https://ece.example.com/) or --host NAME',
        );
      }
      port = parsePort(values.port, DEFAULT_PORTS.https);
      url = `https://${isIP(host) === 6 ? `[${host}]` : host}${port === 443 ? '' : `:${port}`}/`;
    }
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UsageError(`${JSON.stringify(url)} is not a URL`, 'e.g. https://ece.example.com/');
    }
    if (u.protocol !== 'https:') {
      throw new UsageError(`${url} is not an https URL`, 'the ECE external URL must use https');
    }
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = Number(u.port || 443);
  } else {
    if (!host) {
      throw new UsageError(
        '--host is missing',
        `give the server, e.g. --host ${protocol === 'smtp' ? 'smtp' : 'outlook'}.office365.com`,
      );
    }
    const fallback = protocol === 'tls' && values.starttls ? 587 : DEFAULT_PORTS[protocol];
    port = parsePort(values.port, fallback);
  }

  let user: string | undefined;
  let token: string | undefined;
  if (protocol === 'imap' || protocol === 'pop3' || protocol === 'smtp') {
    user = values.user;
    if (!user)
      throw new UsageError(
        '--user is missing',
        'give the mailbox, e.g. --user support@example.com',
      );
    token = pickToken(values, io.env);
  }
  if (values['send-to'] !== undefined && protocol !== 'smtp') {
    throw new UsageError('--send-to applies to `probe smtp` only', 'drop --send-to');
  }
  if (values.select !== undefined && protocol !== 'imap') {
    throw new UsageError('--select applies to `probe imap` only', 'drop --select');
  }

  let ca: string | undefined;
  if (values.ca !== undefined) {
    ca = readText(values.ca, '--ca', 'the CA certificate');
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new UsageError(
        `--ca ${values.ca} holds no PEM certificate`,
        'give a PEM file (-----BEGIN CERTIFICATE-----)',
      );
    }
  }

  const ctx: ProbeContext = {
    vantage: 'cli',
    deadlines: parseDeadlines(values.timeout),
    hosts: parseResolve(values.resolve ?? []),
    redactor: new Redactor(token ? [token] : []),
  };
  if (ca) ctx.ca = ca;
  const request: ProbeRequest = {
    protocol,
    target: { host, port },
    starttls: !!values.starttls,
    json: !!values.json,
    ctx,
  };
  if (url) request.url = url;
  if (user) request.user = user;
  if (token) request.token = token;
  if (values.select) request.select = values.select;
  if (values['send-to']) request.sendTo = values['send-to'];
  return request;
}

/** Run the probe the request names. */
function runProbe(r: ProbeRequest): Promise<Observation> {
  const user = r.user ?? '';
  const accessToken = r.token ?? '';
  switch (r.protocol) {
    case 'imap':
      return probeImap(r.ctx, r.target, {
        user,
        accessToken,
        ...(r.select ? { select: r.select } : {}),
      });
    case 'pop3':
      return probePop3(r.ctx, r.target, { user, accessToken });
    case 'smtp':
      return probeSmtp(r.ctx, r.target, {
        user,
        accessToken,
        ...(r.sendTo ? { sendTo: r.sendTo } : {}),
      });
    case 'tls':
      return probeTls(r.ctx, r.target, r.starttls ? { starttls: 'smtp' } : {});
    case 'https':
      return probeHttps(r.ctx, r.url ?? `https://${r.target.host}/`);
  }
}

/** `  12.3 ms  authenticate  ok    S: A01 OK AUTHENTICATE completed.` */
function stepLine(step: Step): string {
  const ms = `${step.durationMs.toFixed(1).padStart(7)} ms`;
  const status = step.ok ? 'ok  ' : 'FAIL';
  const said = step.received?.length ? `S: ${step.received.at(-1)}` : '';
  const detail = [step.code, said || step.note].filter(Boolean).join('  ');
  return `${ms}  ${step.name.padEnd(12)}  ${status}  ${detail}`.trimEnd();
}

/** What worked, in a few words, for the verdict line. */
function summary(obs: Observation): string {
  switch (obs.kind) {
    case 'imap':
    case 'pop3':
    case 'smtp': {
      const f = (obs as MailObservation).mailboxFacts;
      const parts = [`XOAUTH2 login as ${obs.user} accepted`];
      const n = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
      if (f?.folders !== undefined) parts.push(n(f.folders, 'folder'));
      if (f?.messages !== undefined) parts.push(n(f.messages, 'message'));
      if (f?.sent) parts.push('test message accepted');
      return parts.join(', ');
    }
    case 'tls':
      return [
        obs.protocol,
        obs.cert ? `certificate valid until ${obs.cert.validTo.slice(0, 10)}` : undefined,
      ]
        .filter(Boolean)
        .join(', ');
    case 'https':
      return `HTTP ${obs.status ?? '?'}${obs.location ? ` → ${obs.location}` : ''}`;
    default:
      return '';
  }
}

function render(r: ProbeRequest, obs: Observation): string[] {
  if (r.json) {
    return [
      JSON.stringify({
        protocol: r.protocol,
        ok: obs.ok,
        code: obs.code,
        stage: obs.stage,
        server: obs.server ?? null,
        ms: obs.durationMs,
        steps: obs.steps,
      }),
    ];
  }
  const lines = [`probe ${r.protocol} ${obs.target}${r.user ? ` as ${r.user}` : ''}`];
  lines.push(...obs.steps.map(stepLine));
  const ms = `${obs.durationMs.toFixed(1)} ms`;
  if (obs.ok) {
    lines.push(`OK  ${summary(obs)} (${ms})`);
  } else {
    lines.push(`FAIL  ${obs.code} at ${obs.stage}: ${CODES[obs.code].meaning} (${ms})`);
    if (obs.server) lines.push(`      server said: ${obs.server}`);
  }
  return lines;
}

/** Values given to --token in argv (`--token T` or `--token=T`), to keep them out of errors. */
function tokensIn(argv: string[]): string[] {
  const found: string[] = [];
  argv.forEach((arg, i) => {
    if (argv[i - 1] === '--token') found.push(arg);
    else if (arg.startsWith('--token=')) found.push(arg.slice('--token='.length));
  });
  return found;
}

/** `ecebot probe …`: returns the exit code (0 OK, 1 probe failed, 2 bad input). */
export async function runProbeCommand(argv: string[], io: ProbeIo): Promise<number> {
  let request: ProbeRequest | 'help';
  try {
    request = parseRequest(argv, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The token may sit in argv (--token): keep it out of the message.
    const redact = new Redactor(tokensIn(argv));
    io.err(redact.text(`ecebot probe: ${err.message}`));
    io.err(redact.text(`  fix: ${err.fix}`));
    return 2;
  }
  if (request === 'help') {
    io.out(PROBE_USAGE);
    return 0;
  }
  const obs = await runProbe(request);
  const redactor = request.ctx.redactor;
  for (const line of render(request, obs)) io.out(redactor.text(line));
  return obs.ok ? 0 : 1;
}
