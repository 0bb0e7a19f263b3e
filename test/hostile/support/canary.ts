/**
 * The secrets canary's tools: known secret values and every way they could be written down
 * (raw, JSON-escaped, URL-encoded, hex, base64 and base64url at any byte alignment, the XOAUTH2
 * SASL string of RFC 7628 / o365-facts.md §1.5), a record of every byte the processes under test
 * wrote, a reader for everything under a Redis key prefix, and the search itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis as IORedis, type Redis } from 'ioredis';
import { BIN, childEnv, ROOT } from '../../cli/support';

/** A value that must never be written anywhere, and what to call it in a failure. */
export interface Secret {
  label: string;
  value: string;
  /** Further forms of the same secret (e.g. a key's raw bytes in hex). */
  forms?: Form[];
}

/** One way of writing a secret down. */
export interface Form {
  encoding: string;
  text: string;
}

/** One place something was written: a stream of a process, a card, a Redis value. */
export interface Captured {
  source: string;
  text: string;
}

/** A secret found somewhere it must not be. */
export interface Hit {
  secret: string;
  encoding: string;
  source: string;
  /** Where in the source's text; the surrounding text with the secret itself masked. */
  context: string;
}

/**
 * The part of base64(…prefix, value, suffix…) that depends on `value` alone, for a value that
 * starts `offset` bytes (0, 1 or 2) past a 3-byte boundary: whole groups of value bytes only,
 * so it is found whatever surrounds the value (RFC 4648 §4/§5).
 */
export function base64Core(value: string | Buffer, offset: number, url: boolean): string {
  const raw = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const bytes = Buffer.concat([Buffer.alloc(offset), raw]);
  const enc = bytes.toString(url ? 'base64url' : 'base64');
  // A group that holds a prefix byte changes with the prefix; so does one cut short at the end.
  const start = offset ? 4 : 0;
  const end = Math.floor(bytes.length / 3) * 4;
  return enc.slice(start, end);
}

/** Every form of a secret the search looks for; forms that equal another are kept once. */
export function formsOf(s: Secret): Form[] {
  const v = s.value;
  const out: Form[] = [
    { encoding: 'raw', text: v },
    { encoding: 'json-escaped', text: JSON.stringify(v).slice(1, -1) },
    { encoding: 'url-encoded', text: encodeURIComponent(v) },
    { encoding: 'form-encoded', text: new URLSearchParams({ x: v }).toString().slice(2) },
    { encoding: 'hex', text: Buffer.from(v, 'utf8').toString('hex') },
    { encoding: 'HEX', text: Buffer.from(v, 'utf8').toString('hex').toUpperCase() },
  ];
  for (const offset of [0, 1, 2]) {
    out.push({ encoding: `base64@${offset}`, text: base64Core(v, offset, false) });
    out.push({ encoding: `base64url@${offset}`, text: base64Core(v, offset, true) });
  }
  out.push(...(s.forms ?? []));
  const seen = new Set<string>();
  return out.filter(f => f.text.length >= 12 && !seen.has(f.text) && seen.add(f.text));
}

/**
 * The XOAUTH2 initial client response for a user and an access token, raw and base64, as the
 * IMAP, POP3 and SMTP probes send it (`user=…^Aauth=Bearer …^A^A`).
 */
export function xoauth2Forms(user: string, token: string): Form[] {
  const sasl = `user=${user}\x01auth=Bearer ${token}\x01\x01`;
  return [
    { encoding: `xoauth2 raw (${user})`, text: sasl },
    { encoding: `xoauth2 json-escaped (${user})`, text: JSON.stringify(sasl).slice(1, -1) },
    { encoding: `xoauth2 base64 (${user})`, text: Buffer.from(sasl).toString('base64') },
  ];
}

/**
 * Shapes that are secrets whoever made them: a signed JWT (the lab's are RS256, o365-facts.md
 * §2.4), an Entra refresh token or device code as the lab hands them out, a bearer credential,
 * and an XOAUTH2 response (base64 of `user=`).
 */
export const SECRET_SHAPES: { name: string; re: RegExp }[] = [
  { name: 'jwt', re: /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g },
  { name: 'refresh token', re: /\b0\.A[0-9a-f]{64}/g },
  { name: 'device code', re: /DAQABAAEAAAD[A-Za-z0-9_-]{16,}/g },
  { name: 'bearer', re: /Bearer\s+[A-Za-z0-9._~+/=-]{20,}/gi },
  { name: 'xoauth2 base64', re: /dXNlcj1[A-Za-z0-9+/]{20,}/g },
];

function around(text: string, at: number, len: number): string {
  const before = text.slice(Math.max(0, at - 60), at);
  const after = text.slice(at + len, at + len + 60);
  return `${before}<${len} chars>${after}`.replace(/[\r\n]+/g, ' ');
}

/** Every place a secret, in any of its forms, or a secret-shaped string, occurs. */
export function search(captured: Captured[], secrets: Secret[], shapes = SECRET_SHAPES): Hit[] {
  const hits: Hit[] = [];
  const forms = secrets.map(s => ({ s, forms: formsOf(s) }));
  for (const c of captured) {
    for (const { s, forms: fs } of forms) {
      for (const f of fs) {
        const at = c.text.indexOf(f.text);
        if (at >= 0)
          hits.push({
            secret: s.label,
            encoding: f.encoding,
            source: c.source,
            context: around(c.text, at, f.text.length),
          });
      }
    }
    for (const shape of shapes) {
      for (const m of c.text.matchAll(shape.re))
        hits.push({
          secret: `(${shape.name} shape)`,
          encoding: 'raw',
          source: c.source,
          context: around(c.text, m.index, m[0].length),
        });
    }
  }
  return hits;
}

/** Every byte written by the processes and servers under test, by where it was written. */
export class Capture {
  readonly items: Captured[] = [];

  add(source: string, text: string | Buffer): void {
    this.items.push({ source, text: typeof text === 'string' ? text : text.toString('utf8') });
  }

  /** Everything captured from sources whose name starts with `prefix`. */
  from(prefix: string): Captured[] {
    return this.items.filter(c => c.source.startsWith(prefix));
  }
}

/** A running `ecebot` process whose stdout and stderr are kept whole. */
export interface Proc {
  name: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string | null>;
  /** Resolves with the first stdout line matching `re` (rejects if the process exits first). */
  waitFor(re: RegExp): Promise<string>;
  /** SIGTERM, then SIGKILL after 8 s; resolves with the exit code or signal. */
  stop(): Promise<number | string | null>;
}

/** Spawn `ecebot ARGS` (no shell); its output goes to `capture` when it exits. */
export function spawnEcebot(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  capture: Capture,
): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  const lines: string[] = [];
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', line => {
    lines.push(line);
    for (const w of [...watchers])
      if (w.re.test(line)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
  });
  const stdout = () => Buffer.concat(out).toString('utf8');
  const stderr = () => Buffer.concat(err).toString('utf8');
  const exited = new Promise<number | string | null>(resolve =>
    child.on('close', (code, signal) => {
      capture.add(`${name}: stdout`, Buffer.concat(out));
      capture.add(`${name}: stderr`, Buffer.concat(err));
      resolve(code ?? signal);
    }),
  );
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find(l => re.test(l));
      if (hit) return resolve(hit);
      watchers.push({ re, resolve });
      void exited.then(code =>
        reject(new Error(`${name} exited (${code}) before printing ${re}: ${stderr()}`)),
      );
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exited;
      clearTimeout(t);
      return code;
    }
    return exited;
  };
  return { name, child, stdout, stderr, exited, waitFor, stop };
}

/** Run `ecebot ARGS` to completion. */
export async function runEcebot(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  capture: Capture,
): Promise<{ code: number | string | null; stdout: string; stderr: string }> {
  const p = spawnEcebot(name, args, env, capture);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** One key under a prefix, with its type and everything it holds as text. */
export interface RedisEntry {
  key: string;
  type: string;
  text: string;
}

/**
 * Read every key under `prefix:` with the read that fits its type (strings, hashes, lists,
 * sets, sorted sets, streams), values as raw bytes read as UTF-8.
 */
export async function dumpPrefix(redis: Redis, prefix: string): Promise<RedisEntry[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const k of found) keys.add(k);
  } while (cursor !== '0');
  const out: RedisEntry[] = [];
  const s = (b: Buffer | string) => (typeof b === 'string' ? b : b.toString('utf8'));
  for (const key of [...keys].sort()) {
    const type = await redis.type(key);
    let parts: (Buffer | string)[] = [];
    if (type === 'string') {
      const v = await redis.getBuffer(key);
      parts = v ? [v] : [];
    } else if (type === 'hash') {
      parts = await redis.hgetallBuffer(key).then(h => Object.entries(h).flat());
    } else if (type === 'list') {
      parts = await redis.lrangeBuffer(key, 0, -1);
    } else if (type === 'set') {
      parts = await redis.smembersBuffer(key);
    } else if (type === 'zset') {
      parts = await redis.zrangeBuffer(key, '0', '-1', 'WITHSCORES');
    } else if (type === 'stream') {
      const entries = await redis.xrangeBuffer(key, '-', '+');
      parts = entries.flatMap(([id, fields]) => [id, ...fields]);
    } else if (type !== 'none') {
      parts = [`(unread type ${type})`];
    }
    out.push({ key, type, text: parts.map(s).join('\n') });
  }
  return out;
}

/**
 * Record every command any client sends to Redis (MONITOR) while the processes run: values
 * that a job carries only for a moment are seen too, not just what is left at the end.
 */
export async function monitorRedis(
  url: string,
): Promise<{ lines: string[]; stop(): Promise<void> }> {
  const lines: string[] = [];
  const redis = new IORedis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  const monitor = await redis.monitor();
  // MONITOR quotes each argument and escapes backslashes and unprintable bytes (\\, \xHH);
  // ioredis only undoes the quotes, so the rest is undone here.
  const unescape = (a: string) =>
    a.replace(/\\x([0-9a-f]{2})|\\\\/g, (_m, h: string | undefined) =>
      h ? String.fromCharCode(parseInt(h, 16)) : '\\',
    );
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    lines.push(`[${source}] ${args.map(unescape).join(' ')}`);
  });
  return {
    lines,
    stop: async () => {
      await monitor.quit().catch(() => monitor.disconnect());
      redis.disconnect();
    },
  };
}
