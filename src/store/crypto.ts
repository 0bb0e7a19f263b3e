/**
 * Secrets at rest: AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV per value and the
 * secret's name as additional authenticated data, so a sealed value cannot be moved to another
 * name unnoticed. The key comes from configuration (`ECEBOT_SECRET_KEY`: 32 bytes as 64 hex
 * digits or base64); without one the store refuses to keep secrets at all.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Sealed values start with this, so a future format can be told apart. */
const VERSION = 'v1';

/** The key is missing or malformed; nothing was stored. */
export class SecretKeyError extends Error {
  readonly code = 'SECRET_KEY_MISSING';

  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** How to make a key, in the error messages (works on Windows too: Node only). */
const HOW =
  "set ECEBOT_SECRET_KEY to 32 random bytes, e.g. node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"";

/** Parse a 32-byte key from hex or base64; throws SecretKeyError with the fix. */
export function parseKey(raw: string): Buffer {
  const s = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (key.length !== 32)
    throw new SecretKeyError(
      `ECEBOT_SECRET_KEY must be 32 bytes (64 hex digits or base64); it decodes to ${key.length} bytes: ${HOW}`,
    );
  return key;
}

/** Seals and opens secret values with one key. */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretKeyError(`AES-256 needs a 32-byte key: ${HOW}`);
    this.key = Buffer.from(key);
  }

  /** The box for `ECEBOT_SECRET_KEY`, or undefined when it is unset. */
  static fromEnv(vars: NodeJS.ProcessEnv): SecretBox | undefined {
    const raw = vars.ECEBOT_SECRET_KEY;
    return raw?.trim() ? new SecretBox(parseKey(raw)) : undefined;
  }

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url parts). */
  seal(name: string, value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, data]
      .map(p => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Open a sealed value; throws when it was tampered with, moved, or sealed with another key. */
  open(name: string, sealed: string): string {
    const [v, iv, tag, data] = sealed.split('.');
    if (v !== VERSION || iv === undefined || tag === undefined || data === undefined)
      throw new Error(`secret ${name}: not a sealed value this version can read`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([
        decipher.update(Buffer.from(data, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      // GCM's tag check failed: say which secret, never the value.
      throw new Error(
        `secret ${name} cannot be opened: sealed with another ECEBOT_SECRET_KEY, or altered`,
      );
    }
  }
}

/** The error for putSecret without a key. */
export function noKeyError(name: string): SecretKeyError {
  return new SecretKeyError(
    `refusing to store secret ${name}: ECEBOT_SECRET_KEY is not set; ${HOW}`,
  );
}
