/**
 * Redaction at the source: every text that goes into an observation, a log line, a card or an
 * error passes through a Redactor first. It removes the secrets it was told about and anything
 * shaped like a bearer token, a JWT or an XOAUTH2 blob, so a secret we were never told about
 * (a token a server echoes back) is still caught.
 */

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
// eslint-disable-next-line no-control-regex -- XOAUTH2 separates fields with 0x01 (o365-facts.md §1.5)
const BEARER = /(Bearer\s+)[^\s\x01"']+/gi;
// XOAUTH2 initial responses start with base64("user=") = "dXNlcj".
const XOAUTH2_BLOB = /dXNlcj[A-Za-z0-9+/=]{16,}/g;
/** BEARER's fixed part, tested before the replacing scan. */
const BEARER_WORD = /bearer/i;
const REFRESH_TOKEN = /\b(0\.A[A-Za-z0-9_-]{40,}|M\.[A-Za-z0-9_!*.-]{40,})/g;

/** Replaces known secrets and token-shaped strings with `<redacted>` markers. */
export class Redactor {
  private readonly secrets = new Set<string>();
  /** The secrets longest first, built on first use after a change (text() runs per string). */
  private ordered: string[] | undefined;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Remember a secret value; values shorter than 4 characters are ignored (too common to mask). */
  add(secret: string | undefined): this {
    if (secret && secret.length >= 4) {
      this.secrets.add(secret);
      this.ordered = undefined;
    }
    return this;
  }

  /** A copy that also knows the given secrets. */
  with(secrets: Iterable<string | undefined>): Redactor {
    const r = new Redactor(this.secrets);
    for (const s of secrets) r.add(s);
    return r;
  }

  /** Redact one string. */
  text(input: string): string {
    // Nothing redactable is shorter than 4 characters (add() ignores shorter secrets).
    if (input.length < 4) return input;
    let out = input;
    // Longest first, so a secret containing another is removed whole.
    this.ordered ??= [...this.secrets].sort((a, b) => b.length - a.length);
    for (const s of this.ordered) {
      if (out.includes(s)) out = out.split(s).join(`<redacted ${s.length} chars>`);
    }
    // Each pattern only where its fixed prefix occurs: a plain substring search is much cheaper
    // than a regular-expression scan, and most strings (sign-in rows, steps) hold none.
    if (out.includes('eyJ')) out = out.replace(JWT, m => `<redacted token ${m.length} chars>`);
    if (BEARER_WORD.test(out)) out = out.replace(BEARER, (_m, p: string) => `${p}<redacted>`);
    if (out.includes('dXNlcj'))
      out = out.replace(XOAUTH2_BLOB, m => `<redacted xoauth2 ${m.length} chars>`);
    if (out.includes('.'))
      out = out.replace(REFRESH_TOKEN, m => `<redacted refresh token ${m.length} chars>`);
    return out;
  }

  /** Redact every string inside a JSON-like value (returns a deep copy). */
  value<T>(input: T): T {
    if (typeof input === 'string') return this.text(input) as T;
    if (Array.isArray(input)) return input.map(v => this.value(v)) as T;
    if (input && typeof input === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input)) {
        out[k] = SECRET_KEYS.test(k) && typeof v === 'string' ? '<redacted>' : this.value(v);
      }
      return out as T;
    }
    return input;
  }
}

/** Object keys whose string values are always secrets. */
export const SECRET_KEYS =
  /^(access_?token|refresh_?token|id_?token|client_?secret|secret|password|secretText|authorization|device_code|code)$/i;
