/**
 * Key rotation of sealed secrets (src/store/crypto.ts): AES-256-GCM (NIST SP 800-38D) refuses a
 * wrong key through its authentication tag, so a value must name the key that sealed it for an
 * old key to be chosen; values sealed before key ids (`v1.`) still open.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  keyIdOf,
  parseOldKeys,
  SecretBox,
  SecretKeyError,
  SecretKeyUnknownError,
} from '../../src/store/crypto';

const current = randomBytes(32);
const old = randomBytes(32);

/** A value in the format written before key ids existed, built from the spec (iv.tag.data). */
function sealV1(key: Buffer, name: string, value: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(name, 'utf8'));
  const data = Buffer.concat([c.update(value, 'utf8'), c.final()]);
  return ['v1', iv, c.getAuthTag(), data]
    .map(p => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

test('the key id is the first 8 hex digits of SHA-256 of the key, and is in the sealed value', () => {
  const id = createHash('sha256').update(current).digest('hex').slice(0, 8);
  expect(keyIdOf(current)).toBe(id);
  expect(new SecretBox(current).seal('rt:x', 'v')).toMatch(new RegExp(`^v2\\.${id}\\.`));
});

test('a value sealed with an old key opens, and is marked for re-sealing; writes use the current key', () => {
  const sealed = new SecretBox(old).seal('rt:x', 'token-a');
  const box = new SecretBox(current, [old]);
  expect(box.unseal('rt:x', sealed)).toEqual({ value: 'token-a', stale: true });
  const again = box.seal('rt:x', 'token-a');
  expect(again.split('.')[1]).toBe(keyIdOf(current));
  expect(box.unseal('rt:x', again)).toEqual({ value: 'token-a', stale: false });
  // Without the old key the same value does not open.
  expect(() => new SecretBox(current).open('rt:x', sealed)).toThrow(SecretKeyUnknownError);
});

test('a value sealed before key ids opens with the current or an old key, and is re-sealed', () => {
  expect(new SecretBox(current).unseal('rt:x', sealV1(current, 'rt:x', 't1'))).toEqual({
    value: 't1',
    stale: true,
  });
  expect(new SecretBox(current, [old]).unseal('rt:x', sealV1(old, 'rt:x', 't2'))).toEqual({
    value: 't2',
    stale: true,
  });
  expect(() => new SecretBox(current).open('rt:x', sealV1(old, 'rt:x', 't2'))).toThrow(
    /sealed with another ECEBOT_SECRET_KEY, or altered/,
  );
});

test('a value under an unknown key fails with a code, the key id and the fix, never the value', () => {
  const stranger = randomBytes(32);
  const sealed = new SecretBox(stranger).seal('rt:lab:a@example.com', 'secret-token-value');
  let err: unknown;
  try {
    new SecretBox(current, [old]).open('rt:lab:a@example.com', sealed);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SecretKeyUnknownError);
  const e = err as SecretKeyUnknownError;
  expect(e.code).toBe('SECRET_KEY_UNKNOWN');
  expect(e.keyId).toBe(keyIdOf(stranger));
  expect(e.message).toContain('rt:lab:a@example.com');
  expect(e.message).toContain(keyIdOf(stranger));
  expect(e.message).toMatch(/add that key to ECEBOT_SECRET_KEY_OLD, or sign in again/);
  expect(e.message).not.toContain('secret-token-value');
  for (const k of [stranger, current, old])
    for (const enc of ['hex', 'base64'] as const) expect(e.message).not.toContain(k.toString(enc));
});

test('a value whose key id was altered to the current key fails GCM’s check, not silently', () => {
  const sealed = new SecretBox(old).seal('rt:x', 'v').split('.');
  sealed[1] = keyIdOf(current);
  expect(() => new SecretBox(current, [old]).open('rt:x', sealed.join('.'))).toThrow(/or altered/);
});

describe('ECEBOT_SECRET_KEY_OLD', () => {
  const cur = current.toString('base64');
  const o1 = old.toString('hex');
  const o2 = randomBytes(32).toString('base64');

  test('takes comma-separated keys, hex or base64, spaces allowed', () => {
    const box = SecretBox.fromEnv({
      ECEBOT_SECRET_KEY: cur,
      ECEBOT_SECRET_KEY_OLD: ` ${o1} , ${o2}`,
    })!;
    const sealed = new SecretBox(Buffer.from(o2, 'base64')).seal('n', 'v');
    expect(box.unseal('n', sealed)).toEqual({ value: 'v', stale: true });
    expect(parseOldKeys(`${o1},${o2}`)).toHaveLength(2);
  });

  test.each([
    [
      'a short key',
      (bad: string) => `${o1},${bad}`,
      'abcd1234',
      /ECEBOT_SECRET_KEY_OLD entry 2 of 2 must be 32 bytes/,
    ],
    ['an empty entry', () => `${o1},,${o2}`, '', /ECEBOT_SECRET_KEY_OLD entry 2 of 3 is empty/],
  ])('refuses %s, naming the variable and position, never the value', (_what, make, bad, msg) => {
    const raw = make(bad);
    let err: unknown;
    try {
      SecretBox.fromEnv({ ECEBOT_SECRET_KEY: cur, ECEBOT_SECRET_KEY_OLD: raw });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecretKeyError);
    const m = (err as Error).message;
    expect(m).toMatch(msg);
    // How to fix it: what a key looks like and how to make one.
    expect(m).toMatch(/64 hex digits or base64|separated by commas/);
    expect(m).toMatch(/former ECEBOT_SECRET_KEY exactly as it was set|without empty entries/);
    for (const v of [o1, o2, cur, ...(bad ? [bad] : [])]) expect(m).not.toContain(v);
  });

  test('old keys without a current key are refused', () => {
    expect(() => SecretBox.fromEnv({ ECEBOT_SECRET_KEY_OLD: o1 })).toThrow(
      /ECEBOT_SECRET_KEY_OLD is set but ECEBOT_SECRET_KEY is not/,
    );
  });
});
