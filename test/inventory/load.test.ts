import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/inventory/errors';
import { loadInventory, pickEnvironment, suggest } from '../../src/inventory/load';
import { resolveEnvironmentSecrets } from '../../src/inventory/secrets';
import { factsOf } from '../../src/runner/facts';
import { contextFor } from '../../src/runner/observe';
import { prepareRun } from '../../src/runner/prepare';

const example = join(__dirname, '..', '..', 'examples', 'inventory.yaml');

function write(text: string, name = 'inv.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-inv-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const GOOD = `environments:
  prod:
    ece: { version: "12.6(1)", es: 1, externalUrl: https://ece.example.com }
    servers:
      - { name: services-1, role: services }
    tenant: { id: 00000000-0000-0000-0000-000000000000 }
    app: { clientId: 11111111-1111-1111-1111-111111111111, secret: env:ECE_APP_SECRET }
    mailboxes:
      - { address: support@example.com, access: mailbox, retrieve: imap }
`;

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('inventory loading', () => {
  test('the shipped example loads', () => {
    const inv = loadInventory(example);
    const prod = pickEnvironment(inv, 'prod', example);
    expect(prod.servers.map(s => s.name)).toEqual(['services-1', 'app-1', 'app-2']);
    expect(prod.mailboxes[1]?.account).toBe('svc-ece@example.com');
  });

  test.each([
    [
      'a wrong type',
      GOOD.replace('es: 1', 'es: "one"'),
      3,
      'environments.prod.ece.es',
      /must be number/,
    ],
    [
      'an unknown field',
      GOOD.replace('retrieve: imap', 'retrieve: imap, password: x'),
      9,
      'environments.prod.mailboxes.0.password',
      /unknown field password/,
    ],
    [
      'a bad enum',
      GOOD.replace('retrieve: imap', 'retrieve: mapi'),
      9,
      'environments.prod.mailboxes.0.retrieve',
      /one of "imap", "pop3"/,
    ],
    [
      'a secret value instead of a reference',
      GOOD.replace('env:ECE_APP_SECRET', 's3cr3t-value'),
      7,
      'environments.prod.app.secret',
      /secret reference/,
    ],
    [
      'a shared mailbox without account',
      GOOD.replace('access: mailbox', 'access: shared'),
      9,
      'environments.prod.mailboxes.0.account',
      /needs `account`/,
    ],
    [
      'no services server',
      GOOD.replace('role: services', 'role: application'),
      5,
      'environments.prod.servers',
      /no server has role services/,
    ],
    [
      'a version in the wrong form',
      GOOD.replace('"12.6(1)"', '"12.6"'),
      3,
      'environments.prod.ece.version',
      /12\.6\(1\)/,
    ],
  ])('%s is reported with file, line and field', (_name, text, line, field, message) => {
    const path = write(text);
    const err = errorOf(() => loadInventory(path));
    expect(err.file).toBe(path);
    expect(err.line).toBe(line);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(err.describe()).toContain(`${path}:${line}:`);
    expect(err.hint).toBeTruthy();
  });

  describe("servers[].addresses (compared with the client IP of ECE's sign-ins)", () => {
    const withAddresses = (list: string) =>
      GOOD.replace(
        '{ name: services-1, role: services }',
        `{ name: services-1, role: services, addresses: ${list} }`,
      );

    test("IPv4 and IPv6 addresses load and reach the rules' facts", () => {
      const path = write(withAddresses('["10.0.0.11", "2001:db8::11"]'));
      const env = pickEnvironment(loadInventory(path), 'prod', path);
      expect(env.servers[0]?.addresses).toEqual(['10.0.0.11', '2001:db8::11']);
      expect(factsOf(env, { refreshTokens: new Map() }).servers[0]).toEqual({
        name: 'services-1',
        role: 'services',
        addresses: ['10.0.0.11', '2001:db8::11'],
      });
    });

    test('left out, the server has no addresses (unknown)', () => {
      const env = pickEnvironment(loadInventory(write(GOOD)), 'prod', 'x');
      expect(factsOf(env, { refreshTokens: new Map() }).servers[0]).toEqual({
        name: 'services-1',
        role: 'services',
      });
    });

    test.each([
      ['a host name', '["ece-svc.example.com"]', 'environments.prod.servers.0.addresses.0'],
      ['an address with a port', '["10.0.0.11:443"]', 'environments.prod.servers.0.addresses.0'],
      ['a CIDR prefix', '["10.0.0.0/24"]', 'environments.prod.servers.0.addresses.0'],
      ['an IPv4 octet out of range', '["10.0.0.256"]', 'environments.prod.servers.0.addresses.0'],
      [
        'a second entry that is no address',
        '["10.0.0.11", "nope"]',
        'environments.prod.servers.0.addresses.1',
      ],
    ])('%s is refused with the field and the expected form', (_name, list, field) => {
      const path = write(withAddresses(list));
      const err = errorOf(() => loadInventory(path));
      expect(err.field).toBe(field);
      expect(err.line).toBe(5);
      expect(err.message).toMatch(
        /must be an IPv4 or IPv6 address \(like 10\.0\.0\.11 or 2001:db8::11\)/,
      );
    });

    test('an empty list is refused', () => {
      const err = errorOf(() => loadInventory(write(withAddresses('[]'))));
      expect(err.field).toBe('environments.prod.servers.0.addresses');
      expect(err.message).toMatch(/at least one address/);
    });
  });

  test.each([
    [undefined, 3 * 3_600_000],
    ['90m', 90 * 60_000],
    ['6h', 6 * 3_600_000],
    ['1d', 86_400_000],
  ])('ece.maxSignInGap %s is %d ms in the facts', (gap, ms) => {
    const text = gap ? GOOD.replace('es: 1,', `es: 1, maxSignInGap: ${gap},`) : GOOD;
    const env = pickEnvironment(loadInventory(write(text)), 'prod', 'x');
    expect(factsOf(env, { refreshTokens: new Map() }).maxSignInGapMs).toBe(ms);
  });

  test('ece.maxSignInGap in another form is refused', () => {
    const err = errorOf(() =>
      loadInventory(write(GOOD.replace('es: 1,', 'es: 1, maxSignInGap: 3,'))),
    );
    expect(err.field).toBe('environments.prod.ece.maxSignInGap');
    const err2 = errorOf(() =>
      loadInventory(write(GOOD.replace('es: 1,', 'es: 1, maxSignInGap: "0h",'))),
    );
    expect(err2.message).toMatch(/duration like 90m, 3h or 1d/);
  });

  test('a YAML syntax error names its line', () => {
    const path = write(GOOD.replace('    servers:', '    servers: [unclosed'));
    const err = errorOf(() => loadInventory(path));
    expect(err.line).toBeGreaterThanOrEqual(4);
    expect(err.message).toMatch(/YAML syntax/);
  });

  test('a secret value never appears in the error', () => {
    const path = write(GOOD.replace('env:ECE_APP_SECRET', 'super-secret-value-123'));
    const err = errorOf(() => loadInventory(path));
    expect(err.describe()).not.toContain('super-secret-value-123');
  });

  test('a folder merges its files and refuses duplicate environments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecebot-invdir-'));
    writeFileSync(join(dir, 'a.yaml'), GOOD);
    writeFileSync(join(dir, 'b.yml'), GOOD.replace('prod:', 'test:'));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect([...loadInventory(dir).environments.keys()].sort()).toEqual(['prod', 'test']);
    writeFileSync(join(dir, 'c.yaml'), GOOD);
    const err = errorOf(() => loadInventory(dir));
    expect(err.message).toMatch(/defined twice/);
    expect(err.file).toBe(join(dir, 'c.yaml'));
  });

  test('endpoints.dnsServers reaches every probe context of a run', () => {
    const path = write(
      GOOD.replace(
        '    mailboxes:',
        '    endpoints: { dnsServers: ["127.0.0.1:5353"] }\n    mailboxes:',
      ),
    );
    const inv = loadInventory(path);
    const run = prepareRun(pickEnvironment(inv, 'prod', path), inv, {
      vars: { ECE_APP_SECRET: 'app-secret-value' },
    });
    expect(contextFor(run, 'services-1').dnsServers).toEqual(['127.0.0.1:5353']);
    expect(contextFor(run, 'central').dnsServers).toEqual(['127.0.0.1:5353']);
    const bad = errorOf(() =>
      loadInventory(
        write(GOOD.replace('    mailboxes:', '    endpoints: { dnsServers: [] }\n    mailboxes:')),
      ),
    );
    expect(bad.field).toBe('environments.prod.endpoints.dnsServers');
  });

  test('an unknown environment suggests the closest name', () => {
    const inv = loadInventory(write(GOOD));
    const err = errorOf(() => pickEnvironment(inv, 'prd', 'x'));
    expect(err.hint).toMatch(/did you mean prod\?/);
    expect(suggest('zzzzzz', ['prod'])).toBeUndefined();
  });

  test('secrets resolve from env and file; a missing one names the variable, not a value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecebot-sec-'));
    mkdirSync(join(dir, 's'));
    writeFileSync(join(dir, 's', 'rt'), 'refresh-token-value\n');
    const p = join(dir, 'inv.yaml');
    writeFileSync(p, GOOD.replace('retrieve: imap', 'retrieve: imap, refreshToken: file:s/rt'));
    const inv = loadInventory(p);
    const env = pickEnvironment(inv, 'prod', p);
    const secrets = resolveEnvironmentSecrets(env, inv, { ECE_APP_SECRET: 'app-secret-value' });
    expect(secrets.appSecret).toBe('app-secret-value');
    expect(secrets.refreshTokens.get('support@example.com')).toBe('refresh-token-value');
    const err = errorOf(() => resolveEnvironmentSecrets(env, inv, {}));
    expect(err.message).toMatch(/env:ECE_APP_SECRET is not set/);
    expect(err.line).toBe(7);
    writeFileSync(
      p,
      GOOD.replace('retrieve: imap', 'retrieve: imap, refreshToken: file:s/missing'),
    );
    const inv2 = loadInventory(p);
    const err2 = errorOf(() =>
      resolveEnvironmentSecrets(pickEnvironment(inv2, 'prod', p), inv2, {
        ECE_APP_SECRET: 'x-value',
      }),
    );
    expect(err2.message).toMatch(/cannot be read \(ENOENT/);
    expect(err2.field).toBe('environments.prod.mailboxes.0.refreshToken');
  });
});

describe('environments restricted to teams (`teams`)', () => {
  const withTeams = (list: string) =>
    GOOD.replace('    mailboxes:', `    teams: ${list}\n    mailboxes:`);

  test('team ids and Entra group ids load', () => {
    const inv = loadInventory(
      write(withTeams('["19:abcDEF-123_x@thread.tacv2", 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9]')),
    );
    expect(pickEnvironment(inv, 'prod', 'test').teams).toEqual([
      '19:abcDEF-123_x@thread.tacv2',
      '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
    ]);
    expect(pickEnvironment(loadInventory(write(GOOD)), 'prod', 'test').teams).toBeUndefined();
  });

  test.each([
    [
      'a team name instead of an id',
      '["Mail Ops"]',
      'environments.prod.teams.0',
      /team id as Teams sends it/,
    ],
    [
      'an empty list',
      '[]',
      'environments.prod.teams',
      /list at least one team, or leave `teams` out/,
    ],
    [
      'a single id, not a list',
      '"19:abc@thread.tacv2"',
      'environments.prod.teams',
      /must be array/,
    ],
  ])('%s is refused with its line and field', (_what, list, field, message) => {
    const e = errorOf(() => loadInventory(write(withTeams(list))));
    expect(e.field).toBe(field);
    expect(e.line).toBe(8);
    expect(e.message).toMatch(message);
  });
});
