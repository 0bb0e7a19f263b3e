/**
 * Getting a connection, and the frame every network probe runs in.
 *
 * - `ProbeRun` holds one probe's steps, its first failure (which decides the observation), the
 *   redactor that knows this probe's secrets, and every socket to destroy at the end.
 * - `runGuarded` enforces the probe's total deadline on top of the per-phase ones, so a probe
 *   always resolves within `deadlines.totalMs` (plus the time to tear sockets down).
 * - `resolveStep` and `connectStep` are the `dns` and `connect` steps every probe starts with.
 * - `LineReader` reads CRLF-terminated lines (POP3, SMTP before STARTTLS) under a deadline.
 *
 * Probes never throw for an expected failure: a refused port or a silent server becomes a
 * failed step with a code, and the observation carries it.
 */
import net from 'node:net';
import type { Code } from '../model';
import type { Redactor } from '../util/redact';
import { StepRecorder, type StepResult } from '../util/steps';
import type { HostPort, ProbeContext } from './context';
import { socketCode } from './mail-codes';
import { ResolveError, resolveHost, type Resolution } from './net';
import type { ObservationBase, ObservationKind, Step, TcpObservation } from '../model';

/** The failure that decided a probe's outcome. */
export interface Failure {
  code: Code;
  /** The step it happened in. */
  stage: string;
  /** The server's own words, when it said something. */
  server?: string;
}

/** How many server lines a step keeps from its start (the last line is always kept too). */
export const KEPT_LINES = 40;
/** How many characters of one server line a step keeps. */
const KEPT_LINE_CHARS = 1000;

/** A server line cut to KEPT_LINE_CHARS, saying how much was left out. */
function truncateLine(line: string, max = KEPT_LINE_CHARS): string {
  return line.length > max ? `${line.slice(0, max)}… (${line.length - max} more characters)` : line;
}

/**
 * The server's lines of one step, bounded: the first KEPT_LINES and the last one, each cut to
 * KEPT_LINE_CHARS, plus a count of the lines left out. A hostile or broken server can answer
 * one command with 100,000 lines (an IMAP server may send untagged responses at any time,
 * RFC 9051 §7); the transcript still shows how it started and ended, at a bounded size.
 */
export class ReceivedLines {
  private readonly head: string[] = [];
  private last?: string;
  /** Lines seen but not kept (neither in the head nor the last one). */
  omitted = 0;

  /** `redactor` masks secrets before a line is cut, so a cut never leaves half a secret. */
  constructor(private readonly redactor: Redactor) {}

  /** Record lines in arrival order. */
  push(...lines: string[]): void {
    for (const line of lines) {
      const kept = truncateLine(this.redactor.text(line));
      if (this.head.length < KEPT_LINES) {
        this.head.push(kept);
        continue;
      }
      if (this.last !== undefined) this.omitted += 1;
      this.last = kept;
    }
  }

  /** How many lines arrived. */
  get length(): number {
    return this.head.length + (this.last !== undefined ? 1 : 0) + this.omitted;
  }

  /** The last line received (`at(-1)`), or undefined; other indexes count from the kept head. */
  at(index: number): string | undefined {
    if (index === -1) return this.last ?? this.head.at(-1);
    return index >= 0 ? this.head[index] : undefined;
  }

  /** The kept lines in order. */
  toArray(): string[] {
    return this.last !== undefined ? [...this.head, this.last] : [...this.head];
  }
}

/** A step in progress: collects what was sent and received until it is finished. */
export class OpenStep {
  readonly sent: string[] = [];
  readonly received: ReceivedLines;
  private finished?: Step;

  constructor(
    readonly name: string,
    private readonly run: ProbeRun,
    private readonly done: (result: StepResult) => Step,
  ) {
    this.received = new ReceivedLines(run.redactor);
  }

  /** Whether finish() was called (or the probe ended around it). */
  get isFinished(): boolean {
    return !!this.finished || this.run.isClosed;
  }

  /**
   * Finish the step. A failed step becomes the probe's failure unless one was recorded before
   * or `decisive` is false (a LOGOUT that times out after the login worked decides nothing).
   */
  finish(result: { ok: boolean; code?: Code; note?: string }, decisive = true): Step | undefined {
    if (this.finished || this.run.isClosed) return this.finished;
    let note = result.note;
    if (this.received.omitted) {
      const more = `${this.received.omitted} more server lines not kept`;
      note = note ? `${note}; ${more}` : more;
    }
    const step = this.done({
      ...result,
      ...(note !== undefined ? { note } : {}),
      received: this.received.toArray(),
    });
    if (this.sent.length) step.sent = this.run.redactor.text(this.sent.join('\n'));
    this.finished = step;
    if (!result.ok && decisive) {
      this.run.failWith({
        code: result.code ?? 'PROTOCOL_ERROR',
        stage: this.name,
        server: this.received.at(-1),
      });
    }
    this.run.stepFinished(this);
    return step;
  }
}

/** Anything that can be torn down when the probe ends. */
type Disposable = { destroy(): void } | (() => void);

/** One probe's state: steps, first failure, secrets to redact, sockets to destroy. */
export class ProbeRun {
  readonly redactor: Redactor;
  readonly rec: StepRecorder;
  /** The failure that decides the observation (the first one). */
  failure?: Failure;
  private current?: OpenStep;
  private lastStep?: OpenStep;
  private closed = false;
  private readonly owned: Disposable[] = [];

  /** `secrets`: values to mask everywhere (the access token, the XOAUTH2 blob…). */
  constructor(
    readonly ctx: ProbeContext,
    secrets: Iterable<string | undefined> = [],
  ) {
    this.redactor = ctx.redactor.with(secrets);
    this.rec = new StepRecorder(this.redactor);
  }

  /** Whether the probe has ended (deadline or done): late events record nothing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Start a step. `sent` is the first line we send in it, if any. */
  open(name: string, sent?: string): OpenStep {
    const step = new OpenStep(name, this, this.rec.begin(name));
    if (sent !== undefined) step.sent.push(sent);
    this.current = step;
    return step;
  }

  /** The step in progress, if any. */
  get openStep(): OpenStep | undefined {
    return this.current && !this.current.isFinished ? this.current : undefined;
  }

  /** Append a late server line (e.g. the BYE after a failed command) to the last step. */
  appendLate(line: string): void {
    const step = this.lastStep && this.rec.steps.at(-1);
    if (!step || this.closed) return;
    if ((step.received?.length ?? 0) >= KEPT_LINES + 1) return;
    step.received = [...(step.received ?? []), truncateLine(this.redactor.text(line))];
  }

  /** @internal Called by OpenStep.finish. */
  stepFinished(step: OpenStep): void {
    this.lastStep = step;
    if (this.current === step) this.current = undefined;
  }

  /** The code of the deciding failure so far, if any. */
  failureCode(): Code | undefined {
    return this.failure?.code;
  }

  /** Record a failure unless an earlier one decides already. */
  failWith(failure: Failure): void {
    if (this.failure || this.closed) return;
    this.failure = { ...failure };
    if (failure.server !== undefined) this.failure.server = this.redactor.text(failure.server);
  }

  /** Destroy `thing` when the probe ends, whatever happens. */
  own(thing: Disposable): void {
    this.owned.push(thing);
  }

  /** The total deadline passed: close the open step and stop recording. */
  overtime(): void {
    const ms = this.ctx.deadlines.totalMs;
    const open = this.openStep;
    if (open) {
      open.finish({
        ok: false,
        code: 'TIMEOUT',
        note: `the probe's total deadline of ${ms} ms passed`,
      });
    } else {
      this.failWith({ code: 'TIMEOUT', stage: this.lastStep?.name ?? 'start' });
    }
    this.closed = true;
  }

  /** The probe code itself threw: a bug, reported as such instead of a thrown error. */
  crashed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const open = this.openStep;
    if (open) open.finish({ ok: false, code: 'CHECK_CRASHED', note: message });
    else this.failWith({ code: 'CHECK_CRASHED', stage: this.lastStep?.name ?? 'start' });
    this.closed = true;
  }

  /**
   * Tear down everything owned, newest first: a TLS socket (or a library session) goes before
   * the TCP socket it wraps. Destroying a TCP socket under a live TLS socket crashes Node 20
   * (a native segmentation fault), so the order matters.
   */
  dispose(): void {
    this.closed = true;
    for (const thing of this.owned.splice(0).reverse()) {
      try {
        if (typeof thing === 'function') thing();
        else thing.destroy();
      } catch {
        // Already gone.
      }
    }
  }

  /** The fields every observation carries, from this run's steps and outcome. */
  base(
    kind: ObservationKind,
    target: string,
    success: { stage: string; server?: string },
  ): ObservationBase {
    const f = this.failure;
    const base: ObservationBase = {
      kind,
      vantage: this.ctx.vantage,
      target,
      ok: !f,
      code: f ? f.code : 'OK',
      stage: f ? f.stage : success.stage,
      startedAt: this.rec.startedAt.toISOString(),
      durationMs: this.rec.elapsed(),
      steps: this.rec.steps,
    };
    const server = f ? f.server : success.server;
    if (server !== undefined) base.server = this.redactor.text(server);
    return base;
  }
}

/**
 * Run `work` under the total deadline. Resolves when the work is done or the deadline passed,
 * never rejects; everything the run owns is destroyed before it resolves.
 */
export async function runGuarded(run: ProbeRun, work: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>(resolve => {
    timer = setTimeout(() => {
      run.overtime();
      resolve();
    }, run.ctx.deadlines.totalMs);
  });
  try {
    await Promise.race([work().catch((err: unknown) => run.crashed(err)), deadline]);
  } finally {
    clearTimeout(timer);
    run.dispose();
  }
}

/** `host:port`, bracketing IPv6 literals. */
export function hostPort(hp: HostPort): string {
  return net.isIPv6(hp.host) ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/**
 * The `dns` step: the hosts map first, then DNS under the DNS deadline (src/probes/net.ts).
 * Resolves with the resolution, or undefined after recording the failure.
 */
export async function resolveStep(run: ProbeRun, host: string): Promise<Resolution | undefined> {
  const step = run.open('dns', `resolve ${host}`);
  try {
    const r = await resolveHost(run.ctx, host);
    const from =
      r.source === 'inventory' ? 'hosts map' : r.source === 'literal' ? 'IP literal' : 'DNS';
    step.finish({ ok: true, note: `${r.addresses.join(', ')} (${from})` });
    return r;
  } catch (err) {
    const code = err instanceof ResolveError ? err.code : 'DNS_NOT_FOUND';
    step.finish({ ok: false, code, note: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

/**
 * The `connect` step: a TCP connection to `address:port` within the connect deadline.
 * Resolves with the connected socket (owned by the run), or undefined after recording why not.
 */
export function connectStep(
  run: ProbeRun,
  address: string,
  port: number,
): Promise<net.Socket | undefined> {
  const ms = run.ctx.deadlines.connectMs;
  const step = run.open('connect', `TCP connect ${hostPort({ host: address, port })}`);
  return new Promise(resolve => {
    const socket = net.connect({ host: address, port });
    run.own(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      step.finish({
        ok: false,
        code: 'CONNECT_TIMEOUT',
        note: `no TCP connection within ${ms} ms (packets dropped on the way?)`,
      });
      resolve(undefined);
    }, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Later errors belong to whoever reads the socket; this keeps a stray one from throwing.
      socket.on('error', () => undefined);
      step.finish({
        ok: true,
        note: `connected from ${socket.localAddress}:${socket.localPort}`,
      });
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      step.finish({
        ok: false,
        code: socketCode(err.code),
        note: `${err.code ?? ''} ${err.message}`.trim(),
      });
      resolve(undefined);
    });
  });
}

/** Probe a TCP port: resolve, connect, close. */
export async function probeTcp(ctx: ProbeContext, target: HostPort): Promise<TcpObservation> {
  const run = new ProbeRun(ctx);
  let address: string | undefined;
  await runGuarded(run, async () => {
    const resolution = await resolveStep(run, target.host);
    if (!resolution) return;
    address = resolution.addresses[0]!;
    const socket = await connectStep(run, address, target.port);
    socket?.destroy();
  });
  const obs: TcpObservation = {
    ...run.base('tcp', hostPort(target), { stage: 'connect' }),
    kind: 'tcp',
    host: target.host,
    port: target.port,
  };
  if (address) obs.address = address;
  return obs;
}

/** Why a line did not come. */
export class LineError extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'closed' | 'error' | 'too-long',
    readonly sysCode?: string,
    /** For `too-long`: how the line started, as the server's (cut) words. */
    readonly head?: string,
  ) {
    super(message);
    this.name = 'LineError';
  }
}

/**
 * The longest line a LineReader buffers. SMTP reply lines are at most 512 octets (RFC 5321
 * §4.5.3.1.5) and POP3 responses at most 512 (RFC 2449 §4); 64 KiB leaves room for servers that
 * bend the rules and still stops one that sends megabytes without a line end.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/** How much of an overlong line is kept as the server's words (here and in the SMTP probe). */
export const LINE_HEAD_CHARS = 200;

/**
 * Reads CRLF-terminated lines from a socket, one at a time, each under its own deadline.
 * Lines are decoded as UTF-8 (RFC 6531/6856 servers may send it; ASCII is a subset).
 */
export class LineReader {
  private buffer = '';
  private readonly queue: string[] = [];
  private waiter?: { resolve: (line: string) => void; reject: (err: LineError) => void };
  private ended?: LineError;
  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    // Only the new chunk can hold the next line end: scanning the whole buffer again on every
    // chunk would be quadratic in the length of a line that never ends.
    const text = chunk.toString('utf8');
    if (!text.includes('\n')) this.buffer += text;
    else {
      const parts = (this.buffer + text).split('\n');
      this.buffer = parts.pop() ?? '';
      // Each line is measured once, as it arrives; complete lines before a long one are still
      // answers, the long one and everything after it go.
      for (const part of parts) {
        const line = part.replace(/\r$/, '');
        if (line.length > MAX_LINE_BYTES) return this.tooLong(line);
        this.queue.push(line);
      }
    }
    if (this.buffer.length > MAX_LINE_BYTES) return this.tooLong(this.buffer);
    this.pump();
  };
  private readonly onEnd = (): void =>
    this.end(new LineError('the server closed the connection', 'closed'));
  private readonly onError = (err: NodeJS.ErrnoException): void =>
    this.end(new LineError(err.message, 'error', err.code));

  constructor(readonly socket: net.Socket) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** Send one line (CRLF added). */
  write(line: string): void {
    if (!this.socket.destroyed) this.socket.write(`${line}\r\n`);
  }

  /** The next line, or a LineError after `ms` milliseconds, a close or a socket error. */
  line(ms: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new LineError(`no answer within ${ms} ms`, 'timeout'));
      }, ms);
      this.waiter = {
        resolve: line => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: err => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.pump();
    });
  }

  /** Stop reading (before handing the socket to TLS); unread bytes are discarded (RFC 3207 §6). */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.buffer = '';
    this.queue.length = 0;
  }

  private end(err: LineError): void {
    this.ended ??= err;
    this.pump();
  }

  /**
   * A line passed MAX_LINE_BYTES: keep its start as the server's words, drop everything
   * buffered, stop reading and end the connection (nothing after it can be trusted as a reply).
   */
  private tooLong(long: string): void {
    const head = truncateLine(long.replace(/\r$/, ''), LINE_HEAD_CHARS);
    this.buffer = '';
    this.socket.off('data', this.onData);
    this.socket.destroy();
    this.end(
      new LineError(
        `the server sent more than ${MAX_LINE_BYTES} bytes without ending the line`,
        'too-long',
        undefined,
        head,
      ),
    );
  }

  private pump(): void {
    const w = this.waiter;
    if (!w) return;
    const line = this.queue.shift();
    if (line !== undefined) {
      this.waiter = undefined;
      w.resolve(line);
    } else if (this.ended) {
      this.waiter = undefined;
      w.reject(this.ended);
    }
  }
}

/**
 * Record on `step` how an overlong line started (LineError `too-long`), so the transcript shows
 * the server's (cut) words like any other answer.
 */
export function recordLineHead(step: OpenStep, err: unknown): void {
  if (err instanceof LineError && err.head !== undefined) step.received.push(err.head);
}

/** The code for a line that did not come while waiting for a `greeting` or another answer. */
export function lineErrorCode(err: unknown, waitingFor: 'greeting' | 'answer'): Code {
  if (!(err instanceof LineError)) return 'PROTOCOL_ERROR';
  if (err.reason === 'timeout') return waitingFor === 'greeting' ? 'GREETING_TIMEOUT' : 'TIMEOUT';
  if (err.reason === 'closed') return 'CONNECT_RESET';
  if (err.reason === 'too-long') return 'REPLY_TOO_LONG';
  return socketCode(err.sysCode);
}
