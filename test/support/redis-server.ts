/**
 * Private redis-server processes for the tests: one server with a given configuration (ACL file,
 * TLS), or a three-master Redis Cluster made with `redis-cli --cluster create`. Each listens on
 * random 127.0.0.1 ports, keeps its files in a temporary folder and is stopped (and the folder
 * removed) by `stop()`. Debian's redis-server 7.0 is used; `redisServerMissing()` says why a
 * test is skipped when it is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why redis-server cannot be used here, or undefined when it can. */
export function redisServerMissing(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return `redis-server is not installed (apt-get install redis-server): ${r.error?.message ?? r.stderr}`;
  return undefined;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A running redis-server. */
export interface RedisProcess {
  port: number;
  dir: string;
  /** What the server printed (for failure messages). */
  output: () => string;
  stop(): Promise<void>;
}

function waitForReady(child: ChildProcess, out: { text: string }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => done(new Error(`${what} did not start in 10 s:\n${out.text}`)),
      10_000,
    );
    const onData = (c: Buffer) => {
      out.text += c.toString();
      if (/Ready to accept connections/.test(out.text)) done();
    };
    const onExit = (code: number | null) =>
      done(new Error(`${what} exited with ${code}:\n${out.text}`));
    function done(err?: Error) {
      clearTimeout(t);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else {
        child.stdout?.on('data', (c: Buffer) => (out.text += c.toString()));
        resolve();
      }
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>(resolve => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Start redis-server with `lines` as its configuration (the port, dir, no persistence and
 * loopback binding are added; `tlsOnly` serves the port over TLS and no plain TCP; the tls-*
 * file lines come from the caller).
 */
export async function startRedisServer(
  lines: string[],
  opts: { dir?: string; port?: number; tlsOnly?: boolean } = {},
): Promise<RedisProcess> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ecebot-redis-'));
  const port = opts.port ?? (await freePort());
  const conf = join(dir, 'redis.conf');
  writeFileSync(
    conf,
    [
      'bind 127.0.0.1',
      // TLS only: `port 0` turns plain TCP off and the port serves TLS (Redis TLS docs).
      ...(opts.tlsOnly ? ['port 0', `tls-port ${port}`] : [`port ${port}`]),
      `dir ${dir}`,
      'save ""',
      'appendonly no',
      'daemonize no',
      'loglevel notice',
      ...lines,
    ].join('\n') + '\n',
  );
  const child = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  child.stderr?.on('data', (c: Buffer) => (out.text += c.toString()));
  const owned = !opts.dir;
  try {
    await waitForReady(child, out, `redis-server on ${port}`);
  } catch (err) {
    await stopChild(child);
    if (owned) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    dir,
    output: () => out.text,
    stop: async () => {
      await stopChild(child);
      if (owned) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running three-master cluster. */
export interface RedisCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/**
 * Three masters, no replicas (`redis-cli --cluster create … --cluster-replicas 0
 * --cluster-yes`), ready when every node reports `cluster_state:ok`.
 */
export async function startCluster(): Promise<RedisCluster> {
  const root = mkdtempSync(join(tmpdir(), 'ecebot-cluster-'));
  const servers: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map(s => s.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const nodeDir = mkdtempSync(join(root, `n${i}-`));
      servers.push(
        await startRedisServer(
          ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 5000'],
          { dir: nodeDir },
        ),
      );
    }
    const nodes = servers.map(s => ({ host: '127.0.0.1', port: s.port }));
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map(n => `${n.host}:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const deadline = Date.now() + 20_000;
    for (const n of nodes) {
      for (;;) {
        const info = spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], {
          encoding: 'utf8',
          timeout: 5000,
        });
        if (/cluster_state:ok/.test(info.stdout ?? '')) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${n.port} not ok: ${info.stdout}`);
        await new Promise(r => setTimeout(r, 200));
      }
    }
    return { nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
