/**
 * Secrets at rest: AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV per value and the
 * secret's name as additional authenticated data, so a sealed value cannot be moved to another
 * name unnoticed. The key comes from configuration (`ECEBOT_SECRET_KEY`: 32 bytes as 64 hex
 * digits or base64); without one the store refuses to keep secrets at all.
 *
 * Rotation: each value names the key that sealed it (`v2.<key id>.…`, the key id being the first
 * 8 hex digits of SHA-256 of the key: it tells keys apart and reveals nothing usable about them).
 * Keys listed in `ECEBOT_SECRET_KEY_OLD` still open what they sealed; sealing always uses the
 * current key, and the store re-seals a value opened with an old key when it reads it
 * (./redis.ts), so the old keys can be dropped once nothing names them any more.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Sealed values start with this, so a format can be told apart. */
const VERSION = 'v2';
/** Values sealed before key ids existed: `v1.<iv>.<tag>.<ciphertext>`, key unnamed. */
const VERSION_1 = 'v1';

/** The key is missing or malformed; nothing was stored. */
export class SecretKeyError extends Error {
  readonly code = 'SECRET_KEY_MISSING';

  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * A sealed value names a key this process does not hold (neither `ECEBOT_SECRET_KEY` nor one in
 * `ECEBOT_SECRET_KEY_OLD`): it was sealed before a rotation whose old key was dropped, or by a
 * process with another key. Only that secret is lost; the fix is to sign in again (or add the key).
 */
export class SecretKeyUnknownError extends Error {
  readonly code = 'SECRET_KEY_UNKNOWN';

  constructor(
    message: string,
    /** The key id the value names (not secret: a hash prefix). */
    readonly keyId: string,
  ) {
    super(message);
    this.name = this.constructor.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** How to make a key, in the error messages (works on Windows too: Node only). */
const HOW =
  "set ECEBOT_SECRET_KEY to 32 random bytes, e.g. node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"";

/**
 * Parse a 32-byte key from hex or base64; throws SecretKeyError naming `where` and the fix,
 * never the value.
 */
export function parseKey(raw: string, where = 'ECEBOT_SECRET_KEY'): Buffer {
  const s = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (key.length !== 32)
    throw new SecretKeyError(
      `${where} must be 32 bytes (64 hex digits or base64); it decodes to ${key.length} bytes: ${
        where.startsWith('ECEBOT_SECRET_KEY_OLD')
          ? 'put there the former ECEBOT_SECRET_KEY exactly as it was set, or remove the entry'
          : HOW
      }`,
    );
  return key;
}

/**
 * Parse `ECEBOT_SECRET_KEY_OLD`: keys separated by commas, each as `parseKey`. An empty entry
 * (`a,,b`) is refused rather than skipped: it usually means a key was lost in an edit.
 */
export function parseOldKeys(raw: string): Buffer[] {
  const parts = raw.split(',');
  return parts.map((p, i) => {
    const where = `ECEBOT_SECRET_KEY_OLD entry ${i + 1} of ${parts.length}`;
    if (!p.trim())
      throw new SecretKeyError(
        `${where} is empty: list old keys separated by commas, without empty entries`,
      );
    return parseKey(p, where);
  });
}

/** The id a sealed value names its key by: the first 8 hex digits of SHA-256 of the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** What `SecretBox.unseal` found. */
export interface Opened {
  value: string;
  /** True when the value was not sealed with the current key in the current format. */
  stale: boolean;
}

/** Seals with the current key; opens with it or with an old key. */
export class SecretBox {
  private readonly key: Buffer;
  private readonly id: string;
  /** Every key that may open, by key id: the current one first. */
  private readonly keys = new Map<string, Buffer>();

  constructor(key: Buffer, oldKeys: readonly Buffer[] = []) {
    if (key.length !== 32) throw new SecretKeyError(`AES-256 needs a 32-byte key: ${HOW}`);
    this.key = Buffer.from(key);
    this.id = keyIdOf(this.key);
    this.keys.set(this.id, this.key);
    for (const k of oldKeys) {
      if (k.length !== 32) throw new SecretKeyError(`AES-256 needs 32-byte old keys: ${HOW}`);
      const id = keyIdOf(k);
      if (!this.keys.has(id)) this.keys.set(id, Buffer.from(k));
    }
  }

  /**
   * The box for `ECEBOT_SECRET_KEY` (and `ECEBOT_SECRET_KEY_OLD`), or undefined when the key is
   * unset. Old keys without a current one are refused: nothing could be re-sealed.
   */
  static fromEnv(vars: NodeJS.ProcessEnv): SecretBox | undefined {
    const raw = vars.ECEBOT_SECRET_KEY;
    const old = vars.ECEBOT_SECRET_KEY_OLD?.trim() ? parseOldKeys(vars.ECEBOT_SECRET_KEY_OLD) : [];
    if (!raw?.trim()) {
      if (old.length)
        throw new SecretKeyError(
          `ECEBOT_SECRET_KEY_OLD is set but ECEBOT_SECRET_KEY is not: the current key is needed to re-seal; ${HOW}`,
        );
      return undefined;
    }
    return new SecretBox(parseKey(raw), old);
  }

  /** The id of the key this box seals with. */
  get keyId(): string {
    return this.id;
  }

  /** `v2.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts), always with the current key. */
  seal(name: string, value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.id, ...[iv, tag, data].map(p => p.toString('base64url'))].join('.');
  }

  /** Open a sealed value; throws when it was tampered with, moved, or sealed with another key. */
  open(name: string, sealed: string): string {
    return this.unseal(name, sealed).value;
  }

  /** Open a sealed value and say whether it should be sealed again with the current key. */
  unseal(name: string, sealed: string): Opened {
    const parts = sealed.split('.');
    if (parts[0] === VERSION && parts.length === 5) {
      const [, id, iv, tag, data] = parts as [string, string, string, string, string];
      const key = this.keys.get(id);
      if (!key)
        throw new SecretKeyUnknownError(
          `secret ${name} cannot be opened: sealed with key id ${id}, which is neither ECEBOT_SECRET_KEY (${this.id}) nor in ECEBOT_SECRET_KEY_OLD; add that key to ECEBOT_SECRET_KEY_OLD, or sign in again`,
          id,
        );
      return { value: decrypt(name, key, iv, tag, data), stale: key !== this.key };
    }
    if (parts[0] === VERSION_1 && parts.length === 4) {
      // No key id: try the current key, then the old ones (it was sealed before the rotation).
      const [, iv, tag, data] = parts as [string, string, string, string];
      let last: Error | undefined;
      for (const key of this.keys.values()) {
        try {
          return { value: decrypt(name, key, iv, tag, data), stale: true };
        } catch (err) {
          last = err as Error;
        }
      }
      throw last!;
    }
    throw new Error(`secret ${name}: not a sealed value this version can read`);
  }
}

function decrypt(name: string, key: Buffer, iv: string, tag: string, data: string): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(data, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    // GCM's tag check failed (or the parts are malformed): say which secret, never the value.
    throw new Error(
      `secret ${name} cannot be opened: sealed with another ECEBOT_SECRET_KEY, or altered`,
    );
  }
}

/** The error for putSecret without a key. */
export function noKeyError(name: string): SecretKeyError {
  return new SecretKeyError(
    `refusing to store secret ${name}: ECEBOT_SECRET_KEY is not set; ${HOW}`,
  );
}
