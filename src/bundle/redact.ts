/**
 * The bundle's redaction: the project's Redactor (src/util/redact.ts: known secret values,
 * JWTs, bearer tokens, XOAUTH2 blobs, refresh tokens) and, on top, what a file leaving the
 * house must not carry either: Authorization and Cookie header values, `password=` /
 * `client_secret=` style fields in form bodies, query strings and JSON text, credentials in
 * URLs (RFC 3986 §3.2.1 userinfo), and secret references of the inventory. Every replacement
 * is counted by kind for the manifest; counts only, never a value.
 *
 * A run is already redacted where it was observed; this is the second net, applied to every
 * byte of the bundle, so a value the probes did not know of is still cut out.
 */
import { Redactor } from '../util/redact';

/** What a replacement removed. */
export type RedactionKind =
  | 'knownSecret'
  | 'jwt'
  | 'bearer'
  | 'xoauth2'
  | 'refreshToken'
  | 'authorization'
  | 'cookie'
  | 'credentialField'
  | 'urlCredentials'
  | 'secretField'
  | 'secretReference';

/** The markers the project's Redactor leaves, by what they stand for (src/util/redact.ts). */
const MARKERS: [RedactionKind, RegExp][] = [
  ['jwt', /<redacted token \d+ chars>/g],
  ['xoauth2', /<redacted xoauth2 \d+ chars>/g],
  ['refreshToken', /<redacted refresh token \d+ chars>/g],
  ['knownSecret', /<redacted \d+ chars>/g],
  ['bearer', /Bearer\s+<redacted>/gi],
];

const R = '<redacted>';

/** `Authorization: Basic …` and the like; a value already redacted is left alone. */
const AUTH_HEADER =
  /\b((?:proxy-)?authorization)(["']?\s*[:=]\s*["']?)(?!(?:Bearer\s+)?<redacted)([^\r\n"']+)/gi;
/** `Cookie:` / `Set-Cookie:` header values (RFC 6265 §4): session identifiers. */
const COOKIE_HEADER = /\b((?:set-)?cookie)(["']?\s*[:=]\s*["']?)(?!<redacted)([^\r\n"']+)/gi;
/**
 * `password=…`, `client_secret=…`, `"refresh_token": "…"` in text: form bodies and query strings
 * (RFC 6749 §2.3.1, §6) and JSON quoted inside a string.
 */
const CREDENTIAL_FIELD =
  /\b(password|passwd|pwd|client_?secret|refresh_?token|access_?token|id_?token|client_assertion|device_code)((?:\\?["'])?\s*[:=]\s*(?:\\?["'])?)(?!<redacted)([^\s"'&,;}\\]+)/gi;
/** `scheme://user:password@host`: the password part (RFC 3986 §3.2.1 deprecates it). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)(?!<redacted)([^\s/@]+)@/gi;
/** An inventory secret reference (src/inventory/schema.ts SecretRef). */
const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;
/**
 * Object keys whose string values are secrets: src/util/redact.ts SECRET_KEYS without `code`
 * (a run's `code` fields are ecebot's error codes, kept), plus cookies and the proxy's
 * credentials.
 */
const SECRET_KEYS =
  /^(access_?token|refresh_?token|id_?token|client_?secret|secret|password|secretText|authorization|proxy-authorization|device_code|cookie|set-cookie|proxyCredentials|client_assertion)$/i;

/** Counts per kind, for the manifest. */
export type RedactionCounts = Partial<Record<RedactionKind, number>>;

function countMarkers(text: string): Map<RedactionKind, number> {
  const out = new Map<RedactionKind, number>();
  let rest = text;
  for (const [kind, re] of MARKERS) {
    const n = rest.match(re)?.length ?? 0;
    if (n) out.set(kind, n);
    // `<redacted 12 chars>` must not also count the longer markers: take each out once seen.
    rest = rest.replace(re, '');
  }
  return out;
}

/** Redacts the bundle's contents and keeps the tally. */
export class BundleRedactor {
  private readonly base: Redactor;
  readonly counts: RedactionCounts = {};
  /** Markers found in the input before this redactor ran (the run was redacted at the source). */
  alreadyRedacted = 0;

  constructor(knownSecrets: Iterable<string | undefined>) {
    this.base = new Redactor().with(knownSecrets);
  }

  private tally(kind: RedactionKind, n = 1): void {
    if (n > 0) this.counts[kind] = (this.counts[kind] ?? 0) + n;
  }

  /** Redact one string. */
  text(input: string): string {
    const before = countMarkers(input);
    for (const n of before.values()) this.alreadyRedacted += n;
    let out = this.base.text(input);
    const after = countMarkers(out);
    for (const [kind, n] of after) this.tally(kind, n - (before.get(kind) ?? 0));
    const sub = (re: RegExp, kind: RedactionKind, keep: (...g: string[]) => string) => {
      out = out.replace(re, (...m: string[]) => {
        this.tally(kind);
        return keep(...m);
      });
    };
    sub(AUTH_HEADER, 'authorization', (_all, name, sep) => `${name}${sep}${R}`);
    sub(COOKIE_HEADER, 'cookie', (_all, name, sep) => `${name}${sep}${R}`);
    sub(CREDENTIAL_FIELD, 'credentialField', (_all, name, sep) => `${name}${sep}${R}`);
    sub(URL_CREDENTIALS, 'urlCredentials', (_all, head) => `${head}${R}@`);
    return out;
  }

  /**
   * Redact every string of a JSON-like value (a deep copy). A string under a secret key is
   * replaced whole; with `refs`, so is every inventory secret reference (`env:`, `file:`).
   */
  value<T>(input: T, opts: { refs?: boolean } = {}): T {
    const walk = (v: unknown, key?: string): unknown => {
      if (typeof v === 'string') {
        if (opts.refs && SECRET_REF.test(v)) {
          this.tally('secretReference');
          return R;
        }
        if (key !== undefined && SECRET_KEYS.test(key)) {
          if (!v.startsWith('<redacted')) this.tally('secretField');
          return R;
        }
        return this.text(v);
      }
      if (Array.isArray(v)) return v.map(x => walk(x));
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
        return out;
      }
      return v;
    };
    return walk(input) as T;
  }
}
