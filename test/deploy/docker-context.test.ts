/**
 * The container build, checked without a Docker engine: what the build context holds (computed
 * from .dockerignore with @balena/dockerignore, a port of Docker's own matcher, over the files of
 * the repository and over synthetic secrets), what the Dockerfile promises (multi-stage, runtime
 * with production dependencies only, non-root, a HEALTHCHECK that really answers for /healthz,
 * one entrypoint for every role) and what compose.yaml runs (Redis with noeviction, the bot and a
 * worker from one image).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ignore from '@balena/dockerignore';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../queue/support';

const ROOT = join(__dirname, '..', '..');
const GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');
const read = (name: string) => readFileSync(join(ROOT, name), 'utf8');

/** The rules of .dockerignore, in order, without comments and blank lines. */
function rules(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l && !l.startsWith('#'));
}

/** A predicate "is this path in the build context" for a list of rules. */
function contextFilter(ruleList: string[]): (path: string) => boolean {
  const ig = ignore().add(ruleList);
  return path => !ig.ignores(path);
}

/**
 * Files of the working tree, relative and with forward slashes. node_modules and .git are not
 * walked (tens of thousands of files): one real file of each stands for them.
 */
function repoFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const rel = relative(ROOT, abs).split(sep).join('/');
      if (rel === 'node_modules' || rel === '.git') continue;
      if (statSync(abs).isDirectory()) walk(abs);
      else out.push(rel);
    }
  };
  walk(ROOT);
  return out;
}

/** Paths that must never reach the builder, at the root and inside every folder let back in. */
const SECRETS = [
  'node_modules/bullmq/package.json',
  'src/node_modules/x/index.js',
  '.git/config',
  '.env',
  '.env.production',
  'prod.env',
  'src/.env',
  'examples/.env.local',
  'examples/prod.env',
  'bot.pem',
  'src/lab/ca.pem',
  'examples/tls/server.key',
  'bin/server.key',
  'cards/app.pfx',
  'examples/app.p12',
  'secrets/probe-secret',
  'examples/secrets/probe-secret',
  'tokens/support',
  'examples/tokens/support',
  'src/support.refresh-token',
  'ecebot.yaml',
  'examples/ecebot.yaml',
  'src/ecebot.yaml',
  'inventory/prod.yaml',
  'test-artifacts/playground.png',
  'dist/cli.js',
  'dist/teams-app.zip',
  'dist-bench/bench/bench.js',
  'bench/results.json',
  'coverage/lcov.info',
  'demo-output/run.json',
  'dump.rdb',
  'data/dump.rdb',
  'src/dump.rdb',
  'examples/appendonly.aof',
  'examples/appendonlydir/appendonly.aof.1.base.rdb',
  'cards/appendonlydir/appendonly.aof.manifest',
  'npm-debug.log',
  'src/debug.log',
  '.npmrc',
  'compose.override.yaml',
];

/** What the Dockerfile copies from the context (COPY without --from), by source path. */
function copiedFromContext(dockerfile: string): string[] {
  return instructions(dockerfile)
    .filter(i => i.op === 'COPY' && !/--from=/.test(i.args))
    .flatMap(i => {
      const parts = i.args.split(/\s+/).filter(p => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined, numbered by build stage. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split(/\r?\n/)
    .filter(l => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = -1;
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2]!.trim(), stage });
  }
  return out;
}

/** Run a command (no shell) and resolve with its exit code. */
function exitCode(argv: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise(resolve => {
    const p = spawn(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
    p.on('close', code => resolve(code));
  });
}

describe('the Docker build context (.dockerignore)', () => {
  const ruleList = rules(read('.dockerignore'));
  const inContext = contextFilter(ruleList);
  const files = repoFiles();
  const copied = copiedFromContext(read('Dockerfile'));

  test('keeps out dependencies, build output, git, secrets, inventories and Redis dumps', () => {
    expect(SECRETS.filter(inContext)).toEqual([]);
    // Real files of this tree that must stay out, when they exist here.
    const realOut = files.filter(f =>
      /^(dist|dist-bench|coverage|test-artifacts|demo-output)\/|^bench\/results\.json$|(^|\/)\.env$/.test(
        f,
      ),
    );
    expect(realOut.filter(inContext)).toEqual([]);
  });

  test('holds everything the Dockerfile copies, and nothing else', () => {
    expect(copied).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'bin', 'cards']),
    );
    const under = (f: string, src: string) => f === src || f.startsWith(`${src}/`);
    for (const src of copied) {
      const mine = files.filter(f => under(f, src));
      expect({ src, found: mine.length > 0 }).toEqual({ src, found: true });
      expect({ src, missing: mine.filter(f => !inContext(f)) }).toEqual({ src, missing: [] });
    }
    // The example inventory is an example, not a secret: it ships.
    expect(inContext('examples/inventory.yaml')).toBe(true);
    const extra = files.filter(inContext).filter(f => !copied.some(src => under(f, src)));
    expect(extra).toEqual([]);
  });

  test('every rule matters: without any one line, some path changes side', () => {
    const universe = [...new Set([...files, ...SECRETS])];
    const before = universe.map(inContext);
    const idle: string[] = [];
    ruleList.forEach((rule, i) => {
      const without = contextFilter(ruleList.filter((_, j) => j !== i));
      if (universe.every((p, k) => without(p) === before[k])) idle.push(rule);
    });
    expect(idle).toEqual([]);
  });

  test('patterns use Docker semantics: a bare *.pem would only match at the root', () => {
    // The reason the rules inside the folders let back in start with **/ (Docker's matcher is
    // filepath.Match on the whole path, unlike .gitignore).
    const bare = contextFilter(['*.pem']);
    expect(bare('bot.pem')).toBe(false);
    expect(bare('examples/bot.pem')).toBe(true);
  });
});

describe('the Dockerfile', () => {
  const text = read('Dockerfile');
  const all = instructions(text);
  const last = Math.max(...all.map(i => i.stage));
  const final = all.filter(i => i.stage === last);
  const one = (op: string) => {
    const found = final.filter(i => i.op === op);
    expect({ op, count: found.length }).toEqual({ op, count: 1 });
    return found[0]!.args;
  };

  test('is multi-stage: the runtime takes the compiled output from the build stage', () => {
    expect(last).toBeGreaterThanOrEqual(1);
    expect(all.filter(i => i.op === 'FROM' && i.stage === 0)[0]!.args).toMatch(
      // Node.js 24 is the LTS line supported until April 2028 (Node.js release schedule,
      // https://nodejs.org/en/about/previous-releases); 20 ends 2026-04-30, 22 in April 2027.
      /^node:24\S*\s+AS\s+\w+/i,
    );
    expect(final[0]!.args).toMatch(/^node:24/);
    expect(final.some(i => i.op === 'COPY' && /--from=\w+\s+\S*dist/.test(i.args))).toBe(true);
    // The build stage compiles; the runtime never does.
    expect(all.some(i => i.stage < last && i.op === 'RUN' && /npm run build/.test(i.args))).toBe(
      true,
    );
    expect(final.some(i => i.op === 'RUN' && /npm run build|tsc/.test(i.args))).toBe(false);
  });

  test('installs production dependencies only, from the lockfile', () => {
    const installs = final.filter(i => i.op === 'RUN' && /\bnpm\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const r of installs) {
      expect(r.args).toMatch(/\bnpm ci\b/);
      expect(r.args).toMatch(/--omit=dev\b/);
      expect(r.args).not.toMatch(/\bnpm (install|i)\b/);
    }
  });

  test('runs as a user that is not root', () => {
    const users = final.filter(i => i.op === 'USER').map(i => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '']).not.toContain(users[users.length - 1]);
    // The switch to that user is the last thing the image does before the process starts.
    const lastUser = final.map(i => i.op).lastIndexOf('USER');
    expect(final.slice(lastUser).some(i => i.op === 'RUN')).toBe(false);
  });

  test('exposes 3978; one entrypoint runs bin/ecebot.js, so serve and worker are the command', () => {
    expect(one('EXPOSE').split(/\s+/)).toContain('3978');
    const entry = JSON.parse(one('ENTRYPOINT')) as string[];
    expect(entry[0]).toBe('node');
    expect(entry[entry.length - 1]).toMatch(/(^|\/)bin\/ecebot\.js$/);
  });

  test('the HEALTHCHECK command answers 0 against a running `ecebot serve` and 1 without it', async () => {
    const hc = /^(?:--\S+\s+)*CMD\s+(\[.*\])$/.exec(one('HEALTHCHECK'));
    expect(hc).not.toBeNull();
    const argv = JSON.parse(hc![1]!) as string[];
    expect(argv.join(' ')).toContain('/healthz');
    // The image has node on PATH; here it is this process's own node.
    const probe = [argv[0] === 'node' ? process.execPath : argv[0]!, ...argv.slice(1)];
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      NODE_OPTIONS: `-r ${GUARD}`,
    };
    delete env.REDIS_URL;
    delete env.MicrosoftAppId;
    const server = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'ecebot.js'),
        'serve',
        '--config',
        join(ROOT, 'examples', 'inventory.yaml'),
      ],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const closed = new Promise(r => server.once('close', r));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (/listening on/.test(out)) resolve();
        });
        server.once('exit', code => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      expect(await exitCode(probe, env)).toBe(0);
    } finally {
      server.kill('SIGTERM');
      await closed;
    }
    expect(await exitCode(probe, env)).toBe(1);
  });
});

describe('compose.yaml', () => {
  interface Service {
    image?: string;
    build?: unknown;
    command?: string[];
    environment?: Record<string, string | null>;
    depends_on?: Record<string, { condition?: string }>;
    healthcheck?: { disable?: boolean; test?: string[] };
  }
  const doc = parseYaml(read('compose.yaml'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = doc.services;
  const ecebot = Object.entries(services).filter(([, s]) => s.command?.[0] !== 'redis-server');
  const bots = ecebot.filter(([, s]) => s.command?.[0] === 'serve');
  const workers = ecebot.filter(([, s]) => s.command?.[0] === 'worker');

  test('runs Redis 7 or later with noeviction and the append-only file', () => {
    const redis = services.redis!;
    expect(redis.image).toMatch(/^redis:(\d+)/);
    expect(Number(/^redis:(\d+)/.exec(redis.image!)![1])).toBeGreaterThanOrEqual(7);
    const cmd = redis.command!.join(' ');
    expect(cmd).toMatch(/--maxmemory-policy noeviction\b/);
    expect(cmd).toMatch(/--appendonly yes\b/);
  });

  test('runs the bot (serve) and a worker from one image, against that Redis', () => {
    expect(bots.length).toBe(1);
    expect(workers.length).toBeGreaterThanOrEqual(1);
    const images = new Set(ecebot.map(([, s]) => s.image));
    expect(images.size).toBe(1);
    expect([...images][0]).toBeTruthy();
    for (const [name, s] of ecebot) {
      expect({ name, build: s.build }).toEqual({ name, build: '.' });
      expect(s.environment?.REDIS_URL).toMatch(/^redis:\/\/redis:\d+$/);
      expect(s.depends_on?.redis?.condition).toBe('service_healthy');
    }
    // The bot seals sign-in refresh tokens; the central worker redeems none, so it gets no key.
    expect(bots[0]![1].environment?.ECEBOT_SECRET_KEY).toMatch(/\$\{ECEBOT_SECRET_KEY:\?/);
    for (const [, w] of workers)
      if (w.command?.includes('central')) expect(w.environment?.ECEBOT_SECRET_KEY).toBeUndefined();
    for (const [, w] of workers) {
      expect(w.command).toContain('--vantage');
      // The image's HEALTHCHECK asks the bot's /healthz; a worker has none.
      expect(w.healthcheck?.disable).toBe(true);
    }
    expect(bots[0]![1].healthcheck?.disable).not.toBe(true);
  });

  test('publishes the bot on loopback unless told otherwise', () => {
    const ports = (services.bot as { ports?: string[] }).ports ?? [];
    expect(ports.length).toBeGreaterThan(0);
    // Compose's default for an unset ${VAR:-default} is the default (Compose interpolation).
    for (const p of ports) {
      const host = p.replace(/\$\{ECEBOT_PUBLISH:-([^}]*)\}/, '$1').split(':')[0];
      expect(host).toBe('127.0.0.1');
    }
  });
});
