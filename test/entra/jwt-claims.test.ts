import { mintAccessToken } from '../../src/lab/tokens';
import { decodeClaims, lifetimeMinutes } from '../../src/probes/jwt-claims';
import { labKeys } from './lab-entra';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('reads the claims of a signed token, and only the known ones', () => {
  const keys = labKeys();
  const token = mintAccessToken(keys, {
    aud: 'https://outlook.office.com',
    tid: 't1',
    appid: 'a1',
    scp: 'IMAP.AccessAsUser.All SMTP.Send',
    upn: 'support@example.com',
    oid: 'o1',
    amr: ['wia'],
    idtyp: 'user',
    lifetimeMinutes: 75,
  });
  const claims = decodeClaims(token)!;
  expect(claims).toMatchObject({
    aud: 'https://outlook.office.com',
    iss: 'https://sts.windows.net/t1/',
    tid: 't1',
    appid: 'a1',
    scp: 'IMAP.AccessAsUser.All SMTP.Send',
    upn: 'support@example.com',
    unique_name: 'support@example.com',
    amr: ['wia'],
    ver: '1.0',
  });
  // `uti` and `name` are in the token but not in TokenClaims.
  expect(claims).not.toHaveProperty('uti');
  expect(claims).not.toHaveProperty('name');
  expect(lifetimeMinutes(claims)).toBe(75);
});

test('takes the first string of an array aud and drops mistyped claims', () => {
  const token = `${b64({ alg: 'none' })}.${b64({ aud: ['x', 'y'], exp: 'soon', roles: ['A', 2] })}.`;
  expect(decodeClaims(token)).toEqual({ aud: 'x', roles: ['A'] });
});

test.each([
  ['an opaque token', '0.AXYZ'],
  ['a payload that is not JSON', `${b64({})}.bm90IGpzb24.sig`],
  ['a payload that is an array', `${b64({})}.${b64([1, 2])}.sig`],
  ['four parts', 'a.b.c.d'],
])('undefined for %s', (_name, token) => {
  expect(decodeClaims(token)).toBeUndefined();
});

test('lifetime is unknown without iat or exp', () => {
  expect(lifetimeMinutes({ exp: 100 })).toBeUndefined();
  expect(lifetimeMinutes(undefined)).toBeUndefined();
});
