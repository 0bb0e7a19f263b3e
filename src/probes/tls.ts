/**
 * The TLS probe and the `tls` step the mail and HTTPS probes share (checklist item `network`).
 *
 * Implicit TLS for 443/993/995; for SMTP submission on 587 the STARTTLS upgrade of RFC 3207
 * first (220 banner, EHLO, STARTTLS offered?, STARTTLS, then the handshake). Certificates are
 * checked by Node against the real host name sent as SNI, with the context's extra CA added to
 * Node's roots; certificate checks are never switched off. The certificate facts are reported
 * even when Node refuses the certificate (src/probes/cert.ts).
 */
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { trustOptions, type HostPort, type ProbeContext } from './context';
import { CertCapture, describeCert } from './cert';
import { isCertVerifyCode, isTlsVersionCode, smtpCode, tlsFailureCode } from './mail-codes';
import { proxyFor, tunnelStep } from './proxy';
import {
  LineReader,
  ProbeRun,
  connectStep,
  hostPort,
  lineErrorCode,
  recordLineHead,
  resolveStep,
  runGuarded,
} from './tcp';
import type { CertFacts, TlsObservation } from '../model';

/** TLS versions below 1.2, as getProtocol() names them. */
const LEGACY_VERSIONS = new Set(['SSLv3', 'TLSv1', 'TLSv1.1']);

/** What a TLS handshake established (or, on failure, the certificate it saw). */
export interface TlsOutcome {
  /** The secured socket; undefined when the handshake failed (the run holds the failure). */
  socket?: TLSSocket;
  cert?: CertFacts;
  protocol?: string;
  cipher?: string;
}

/**
 * The `tls` step: a TLS handshake over `plain` for the host `name`, within the TLS deadline.
 * `name` is sent as SNI (unless it is an IP literal) and is the name the certificate must carry.
 */
export function tlsStep(run: ProbeRun, plain: net.Socket, name: string): Promise<TlsOutcome> {
  const ms = run.ctx.deadlines.tlsMs;
  const capture = new CertCapture();
  const options: tls.ConnectionOptions = {
    socket: plain,
    host: name,
    ...trustOptions(run.ctx),
    checkServerIdentity: capture.checkServerIdentity,
  };
  // RFC 6066 §3: SNI carries host names only, never address literals.
  if (!net.isIP(name)) options.servername = name;
  const step = run.open('tls', `TLS handshake${options.servername ? ` (SNI ${name})` : ''}`);
  return new Promise(resolve => {
    const socket = tls.connect(options);
    capture.watch(socket);
    run.own(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      step.finish({ ok: false, code: 'TIMEOUT', note: `no TLS handshake within ${ms} ms` });
      resolve({ cert: capture.facts('HANDSHAKE_TIMEOUT') });
    }, ms);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      const cert = capture.facts();
      const protocol = socket.getProtocol() ?? undefined;
      const cipher = socket.getCipher()?.standardName;
      const parts = [protocol, cipher, cert ? describeCert(cert) : undefined];
      if (protocol && LEGACY_VERSIONS.has(protocol)) {
        // We offer 1.2 and 1.3; a peer that still settles on 1.0/1.1 (a client started with
        // --tls-min-v1.0) refuses 1.2: Microsoft 365 no longer accepts that (TLS_VERSION_REFUSED).
        step.finish({
          ok: false,
          code: 'TLS_VERSION_REFUSED',
          note: `${parts.filter(Boolean).join(', ')}; the server chose ${protocol}, below TLS 1.2`,
        });
      } else {
        step.finish({ ok: true, note: parts.filter(Boolean).join(', ') });
      }
      const outcome: TlsOutcome = { socket };
      if (cert) outcome.cert = cert;
      if (protocol) outcome.protocol = protocol;
      if (cipher) outcome.cipher = cipher;
      resolve(outcome);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = tlsFailureCode(err.code);
      const cert = capture.facts(err.code ?? 'TLS_ERROR');
      const why = isCertVerifyCode(err.code)
        ? 'certificate refused'
        : isTlsVersionCode(err.code)
          ? 'no TLS version in common: the peer refused TLS 1.2 and 1.3 (only older TLS would do)'
          : 'handshake failed';
      const note = [`${why}: ${err.code ?? ''} ${err.message}`.trim(), cert && describeCert(cert)];
      step.finish({ ok: false, code, note: note.filter(Boolean).join('; ') });
      resolve(cert ? { cert } : {});
    });
  });
}

/** The name we greet with in EHLO: our address literal (RFC 5321 §4.1.3, §4.1.4). */
export function ehloName(socket: net.Socket): string {
  const ip = socket.localAddress ?? '127.0.0.1';
  return net.isIPv6(ip) ? `[IPv6:${ip}]` : `[${ip}]`;
}

/** Read one SMTP reply (RFC 5321 §4.2.1: `NNN-` continues, `NNN ` ends) within `ms`. */
async function smtpReply(reader: LineReader, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  const lines: string[] = [];
  for (;;) {
    const line = await reader.line(Math.max(end - Date.now(), 1));
    lines.push(line);
    if (!/^\d{3}-/.test(line)) return lines;
  }
}

/** One SMTP exchange as a step: send `command` (unless greeting), read the reply. */
async function smtpExchange(
  run: ProbeRun,
  reader: LineReader,
  name: string,
  command: string | undefined,
  ms: number,
): Promise<string[] | undefined> {
  const step = run.open(name, command);
  if (command) reader.write(command);
  try {
    const reply = await smtpReply(reader, ms);
    step.received.push(...reply);
    const verb = name === 'greeting' ? 'CONNECT' : name === 'ehlo' ? 'EHLO' : 'STARTTLS';
    const code = smtpCode(verb, reply.join('\n'));
    step.finish({ ok: code === 'OK', code });
    return code === 'OK' ? reply : undefined;
  } catch (err) {
    recordLineHead(step, err);
    step.finish({
      ok: false,
      code: lineErrorCode(err, name === 'greeting' ? 'greeting' : 'answer'),
      note: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
}

/**
 * RFC 3207 up to the handshake: the 220 banner, EHLO (STARTTLS must be offered), STARTTLS and
 * its 220. Resolves true when the socket is ready for the TLS handshake.
 */
export async function smtpStartTls(run: ProbeRun, socket: net.Socket): Promise<boolean> {
  const { greetingMs, commandMs } = run.ctx.deadlines;
  const reader = new LineReader(socket);
  try {
    if (!(await smtpExchange(run, reader, 'greeting', undefined, greetingMs))) return false;
    const ehlo = await smtpExchange(run, reader, 'ehlo', `EHLO ${ehloName(socket)}`, commandMs);
    if (!ehlo) return false;
    if (!ehlo.some(line => /^250[ -]STARTTLS\b/i.test(line))) {
      // RFC 3207 §4: a server that can upgrade lists STARTTLS in its EHLO reply.
      run.failWith({ code: 'STARTTLS_UNAVAILABLE', stage: 'ehlo', server: ehlo.at(-1) });
      const step = run.rec.steps.at(-1);
      if (step) step.note = 'the EHLO reply does not offer STARTTLS';
      return false;
    }
    return !!(await smtpExchange(run, reader, 'starttls', 'STARTTLS', commandMs));
  } finally {
    reader.detach();
  }
}

/** Options for probeTls. */
export interface TlsProbeOptions {
  /** Upgrade with SMTP STARTTLS (RFC 3207) before the handshake, as on port 587. */
  starttls?: 'smtp';
  /**
   * An HTTPS endpoint: go through the context's HTTP proxy (CONNECT tunnel) when one is set and
   * NO_PROXY does not exempt the host, as ECE's HTTPS calls do. Mail ports never set this.
   */
  https?: boolean;
}

/** Probe TLS on `target`: resolve, connect, (SMTP STARTTLS,) handshake; report the certificate. */
export async function probeTls(
  ctx: ProbeContext,
  target: HostPort,
  opts: TlsProbeOptions = {},
): Promise<TlsObservation> {
  const run = new ProbeRun(ctx);
  const seen: TlsOutcome = {};
  let server: string | undefined;
  const proxy = opts.https && !opts.starttls ? proxyFor(ctx, target) : undefined;
  await runGuarded(run, async () => {
    let socket: net.Socket | undefined;
    if (proxy) {
      // The proxy resolves the name; TLS with the real server still runs here, end to end.
      socket = await tunnelStep(run, proxy, target);
    } else {
      const resolution = await resolveStep(run, target.host);
      if (!resolution) return;
      socket = await connectStep(run, resolution.addresses[0]!, target.port);
    }
    if (!socket) return;
    if (opts.starttls === 'smtp') {
      if (!(await smtpStartTls(run, socket))) return;
      server = run.rec.steps.at(-1)?.received?.at(-1);
    }
    Object.assign(seen, await tlsStep(run, socket, target.host));
    seen.socket?.end();
  });
  const obs: TlsObservation = {
    ...run.base(
      'tls',
      hostPort(target),
      server === undefined ? { stage: 'tls' } : { stage: 'tls', server },
    ),
    kind: 'tls',
    host: target.host,
    port: target.port,
    starttls: opts.starttls === 'smtp',
  };
  if (proxy) obs.proxy = proxy.origin;
  if (seen.protocol) obs.protocol = seen.protocol;
  if (seen.cipher) obs.cipher = seen.cipher;
  if (seen.cert) obs.cert = seen.cert;
  return obs;
}
