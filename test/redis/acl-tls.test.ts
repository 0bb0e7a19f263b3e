/**
 * Redis as a trust boundary: a private redis-server (Debian's 7.0, built with TLS) listening on
 * TLS only, with a certificate from our generated CA (src/lab/ca.ts), the default user off and
 * one ACL user per role from src/redis/acl.ts. A whole run — submitted by the bot's user,
 * observed by two workers' and the central worker's users, assembled by the assembler's user —
 * goes through it without a single refusal in the ACL log; each role's forbidden keys and
 * commands are refused with NOPERM; a wrong password, no password and an unchecked certificate
 * get nowhere.
 *
 * Sources: Redis ACL (redis.io/docs/latest/operate/oss_and_stack/management/security/acl/:
 * `user … on #<sha256> ~pattern -@all +cmd`, NOPERM, `ACL LOG`, "default" user), Redis TLS
 * (redis.io/docs/latest/operate/oss_and_stack/management/security/encryption/: `tls-port`,
 * `port 0` to disable plain TCP, `tls-auth-clients no` for server-only certificates).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadInventory } from '../../src/inventory/load';
import { createCa } from '../../src/lab/ca';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { Assembler } from '../../src/queue/assembler';
import { vantagePrefix } from '../../src/queue/names';
import { RunClient } from '../../src/queue/run-client';
import { aclUserLine, type RedisRole } from '../../src/redis/acl';
import type { QueueConfig } from '../../src/redis/connection';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { redisServerMissing, startRedisServer, type RedisProcess } from '../support/redis-server';

const missing = redisServerMissing();
const suite = missing ? describe.skip : describe;
if (missing) test.skip(`skipped: ${missing}`, () => undefined);

const prefix = `t${randomBytes(5).toString('hex')}`;
const password = (user: string) => `pw-${user}-${randomBytes(8).toString('hex')}`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const users: { name: string; role: RedisRole; vantage?: string }[] = [
  { name: 'bot', role: 'bot' },
  { name: 'assembler', role: 'assembler' },
  { name: 'worker-services-1', role: 'worker', vantage: 'lab/services-1' },
  { name: 'worker-app-1', role: 'worker', vantage: 'lab/app-1' },
  { name: 'worker-central', role: 'central-worker' },
];
const passwords = new Map(users.map(u => [u.name, password(u.name)]));
const adminPassword = password('admin');

suite('Redis ACL users per role over TLS', () => {
  let dir: string;
  let server: RedisProcess;
  let caPem: string;
  let lab: Lab;
  let admin: Redis;
  const open: Redis[] = [];

  const cfg = (user: string, pw = passwords.get(user)!): QueueConfig => ({
    url: `rediss://${user}:${encodeURIComponent(pw)}@127.0.0.1:${server.port}`,
    prefix,
    tlsCa: caPem,
  });
  /** A client that tries once (no reconnect loop). */
  const once = (url: string, tls: object): Redis => {
    const r = new Redis(url, {
      tls,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    r.on('error', () => undefined);
    open.push(r);
    return r;
  };
  const as = async (user: string): Promise<Redis> => {
    const r = once(cfg(user).url, { ca: caPem });
    await r.connect();
    return r;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecebot-acl-'));
    const ca = createCa('ecebot test Redis CA');
    const leaf = ca.issue({ names: ['127.0.0.1', 'localhost'] });
    caPem = ca.certPem;
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'redis.crt'), leaf.certPem);
    writeFileSync(join(dir, 'redis.key'), leaf.keyPem, { mode: 0o600 });
    writeFileSync(
      join(dir, 'users.acl'),
      [
        'user default off',
        `user admin on #${sha(adminPassword)} ~* &* +@all`,
        ...users.map(u =>
          aclUserLine(u.name, sha(passwords.get(u.name)!), u.role, {
            prefix,
            ...(u.vantage ? { vantage: u.vantage } : {}),
          }),
        ),
      ].join('\n') + '\n',
    );
    server = await startRedisServer(
      [
        `tls-cert-file ${join(dir, 'redis.crt')}`,
        `tls-key-file ${join(dir, 'redis.key')}`,
        `tls-ca-cert-file ${join(dir, 'ca.pem')}`,
        'tls-auth-clients no',
        `aclfile ${join(dir, 'users.acl')}`,
      ],
      { dir, tlsOnly: true },
    );
    admin = once(cfg('admin', adminPassword).url, { ca: caPem });
    await admin.connect();
    lab = await startLab({
      scenarios: pickScenarios('port-993-blocked-on-services', () => undefined),
    });
  }, 60_000);

  afterAll(async () => {
    for (const r of open) r.disconnect();
    await lab?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a whole run goes through: bot submits, workers observe, the assembler judges; nothing refused', async () => {
    await admin.acl('LOG', 'RESET');
    const inv = () => loadInventory(lab.info.inventory);
    const workers = (
      [
        ['worker-services-1', 'lab/services-1'],
        ['worker-app-1', 'lab/app-1'],
        ['worker-central', 'central'],
      ] as const
    ).map(([user, vantage]) => new VantageWorker({ vantage, queue: cfg(user), inventory: inv }));
    const assembler = new Assembler({ queue: cfg('assembler'), inventory: inv });
    const client = new RunClient({ queue: cfg('bot'), inventory: inv });
    try {
      await Promise.all(workers.map(w => w.start()));
      await assembler.ready();
      await client.ready();
      const h = await client.submit({ environment: 'lab', reason: 'cli' });
      const run = await client.wait(h.runId);
      const network = run.findings.find(f => f.item === 'network');
      // The scenario refuses port 993 on services-1 only (src/lab/scenarios).
      expect(network?.failedOn).toEqual(['services-1']);
      expect(run.findings.flatMap(f => f.codes)).not.toContain('NO_WORKER');
      expect(run.findings.find(f => f.item === 'license')?.vantages).toEqual(['central']);
    } finally {
      await client.close();
      await assembler.close();
      await Promise.all(workers.map(w => w.close()));
    }
    // Not one command or key of the run was refused to any role.
    expect(await admin.acl('LOG')).toEqual([]);
  }, 60_000);

  test('a worker cannot write another vantage’s queue, read the store or run admin commands', async () => {
    const w = await as('worker-services-1');
    const other = new Queue('lab/app-1', { prefix: vantagePrefix(prefix), connection: w });
    other.on('error', () => undefined);
    try {
      await expect(other.add('observe', { forged: true })).rejects.toThrow(/NOPERM/);
    } finally {
      await other.close();
    }
    await expect(w.hget(`${prefix}:store:secrets`, 'x')).rejects.toThrow(/NOPERM/);
    await expect(w.set(`${prefix}:heartbeat:lab/app-1`, 'forged')).rejects.toThrow(/NOPERM/);
    await expect(w.keys('*')).rejects.toThrow(/NOPERM/);
    await expect(w.call('CONFIG', 'GET', 'requirepass')).rejects.toThrow(/NOPERM/);
    await expect(w.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
    // Its own heartbeat it may write.
    await expect(w.set(`${prefix}:heartbeat:lab/services-1`, 'ok', 'PX', 1000)).resolves.toBe('OK');
  });

  test('the central worker reads sealed secrets; the assembler stays off the outbox; nobody leaves the prefix', async () => {
    const central = await as('worker-central');
    await expect(central.hget(`${prefix}:store:secrets`, 'x')).resolves.toBeNull();
    await expect(central.get(`${prefix}:store:conversations`)).rejects.toThrow(/NOPERM/);
    const asm = await as('assembler');
    await expect(asm.zadd(`${prefix}:outbox:rate:x`, 1, 'a')).rejects.toThrow(/NOPERM/);
    const bot = await as('bot');
    await expect(bot.get('another-tenant:store:secrets')).rejects.toThrow(/NOPERM/);
    await expect(bot.call('SCRIPT', 'FLUSH')).rejects.toThrow(/NOPERM/);
  });

  /**
   * Send RESP commands over a TLS socket trusting our CA and return the replies' first lines
   * (an ioredis client refused at AUTH left its socket open, keeping Jest alive).
   */
  const raw = (commands: string[][]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: server.port, ca: caPem }, () => {
        s.write(
          commands
            .map(
              c => `*${c.length}\r\n${c.map(a => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
            )
            .join(''),
        );
      });
      let text = '';
      s.on('data', (c: Buffer) => {
        text += c.toString();
        const lines = text.split('\r\n').filter(l => /^[-+:$*]/.test(l));
        if (lines.length >= commands.length) {
          s.destroy();
          resolve(lines.slice(0, commands.length));
        }
      });
      s.once('error', reject);
    });

  test('a wrong password and no user at all are refused', async () => {
    const [auth, get] = await raw([
      ['AUTH', 'bot', 'not-the-password'],
      ['GET', `${prefix}:x`],
    ]);
    expect(auth).toMatch(/^-WRONGPASS/);
    expect(get).toMatch(/^-NOAUTH/);
    // The right password is accepted on the same kind of connection (the refusal is the password's).
    const [ok] = await raw([['AUTH', 'bot', passwords.get('bot')!]]);
    expect(ok).toBe('+OK');
  });

  test('the certificate is checked: without our CA the TLS handshake fails', async () => {
    // Node's own TLS client with Node's default trust, as ioredis uses it for `rediss://`
    // without REDIS_TLS_CA_FILE (an ioredis client left a socket open after the failed
    // handshake, keeping Jest alive).
    const err = await new Promise<NodeJS.ErrnoException | undefined>(resolve => {
      const s = tlsConnect({ host: '127.0.0.1', port: server.port }, () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        s.destroy();
        resolve(e);
      });
    });
    expect(err?.code).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });
});
