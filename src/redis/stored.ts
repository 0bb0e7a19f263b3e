/**
 * Reading JSON back from Redis. Redis is a trust boundary: anyone who can write a key (another
 * tenant's compromised worker, an operator's mistaken SET, a value from another version) can put
 * anything there. So every value read back is parsed with its zod schema, and the parse never
 * lets a `__proto__` key through: `JSON.parse` makes such a key an ordinary own property, which
 * a later `Object.assign` or merge would turn into a prototype change (OWASP, "Prototype
 * Pollution Prevention Cheat Sheet"). Callers decide per value whether a bad one is an error
 * (`parseStored` throws StoredDataError) or is skipped with a log line (`tryStored`).
 *
 * Messages name the key, what was expected and how to fix it, never the value: stored values can
 * hold transcripts and mailbox addresses.
 */
import type { z } from 'zod';

/** A value read back from Redis that is not what ecebot writes there. */
export class StoredDataError extends Error {
  /** Stable code for callers. */
  readonly code = 'STORED_DATA_INVALID';

  constructor(
    /** The Redis key (and field) it was read from. */
    readonly key: string,
    /** What the value should have been (`a stored run`). */
    readonly what: string,
    /** What is wrong, without the value. */
    readonly problem: string,
  ) {
    super(
      `${what} at Redis key ${key} is not valid (${problem}); it was written by something other than this ecebot version. Delete the key (redis-cli DEL or HDEL) and run again; find who can write to Redis if it comes back`,
    );
    this.name = 'StoredDataError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Keys that would reach an object's prototype when merged into another object. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** JSON.parse that drops `__proto__`, `constructor` and `prototype` keys at every depth. */
export function parseJsonSafely(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (FORBIDDEN.has(key) ? undefined : value));
}

function problemOf(error: z.ZodError): string {
  const shown = error.issues
    .slice(0, 3)
    .map(i => `${i.path.join('.') || '(value)'}: ${i.message}`)
    .join('; ');
  return error.issues.length > 3 ? `${shown}; …` : shown;
}

/** The value at `key` parsed with `schema`; throws StoredDataError when it does not fit. */
export function parseStored<T>(schema: z.ZodType<T>, raw: string, key: string, what: string): T {
  let value: unknown;
  try {
    value = parseJsonSafely(raw);
  } catch {
    throw new StoredDataError(key, what, 'not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new StoredDataError(key, what, problemOf(parsed.error));
  return parsed.data;
}

/**
 * The value at `key` parsed with `schema`, or undefined after `skip` was told why (for values
 * a caller can do without: one entry of a list, a cache).
 */
export function tryStored<T>(
  schema: z.ZodType<T>,
  raw: string,
  key: string,
  what: string,
  skip: (err: StoredDataError) => void,
): T | undefined {
  try {
    return parseStored(schema, raw, key, what);
  } catch (err) {
    if (!(err instanceof StoredDataError)) throw err;
    skip(err);
    return undefined;
  }
}
