/**
 * A private Dovecot 2.3 for interop tests: a standards-compliant IMAP/POP3 server that is not
 * ours, so the probes are proven against someone else's reading of the RFCs, not only against
 * the lab's replay of Exchange Online.
 *
 * Everything lives in one temporary directory (config, base_dir, state_dir, log, maildir,
 * keys); the master runs in the foreground (`dovecot -F`, started without a shell) and listens
 * on 127.0.0.1 only, implicit TLS only (imaps, pop3s) with a certificate from the lab CA.
 *
 * Tokens are checked by Dovecot's own oauth2 passdb in local mode (JWT signature with the lab's
 * RS256 public key, expiry, issuer, audience, user). Facts of Dovecot 2.3 that shape this file
 * (src/lib-oauth2/oauth2-jwt.c, src/auth/db-oauth2.c; Debian 12's 2.3.19.1+dfsg1-2.1+deb12u7
 * behaves like upstream 2.3.21 there):
 * - the validation key is looked up in the key dict as `shared/<azp>/<alg>/<kid>` (`azp` is
 *   `default` when the token has none, as Entra v1.0 tokens do: they carry `appid`), and with
 *   an `fs:posix` dict that is the file `<prefix>/default/RS256/<kid>` holding the PEM key;
 * - a JWT without a `sub` claim is refused ("Missing 'sub' field"). Entra's access tokens
 *   always carry `sub`; the lab's `mintAccessToken` does not, so `mintDovecotToken` adds one;
 * - `client_id`, when set, must be among the token's `aud`; `scope` wants a `scope` claim,
 *   which Entra tokens do not have (they carry `scp`), so it is not used;
 * - every failed login is delayed (auth_failure_delay, 2 s) and the anvil adds a growing
 *   per-IP penalty; both are switched off, as every test connects from 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import type { LabCa } from '../../../src/lab/ca';
import { mintAccessToken, type AccessClaims, type LabKeys } from '../../../src/lab/tokens';

/** Where Debian's dovecot-core puts the master binary. */
export const DOVECOT_BINARY = '/usr/sbin/dovecot';

/** Whether Dovecot is installed here (the suite is skipped when it is not). */
export function dovecotInstalled(): boolean {
  return existsSync(DOVECOT_BINARY);
}

/** What the private Dovecot serves and whom it trusts. */
export interface DovecotOptions {
  /** The name the TLS certificate is issued for; the probe maps it to 127.0.0.1. */
  hostName: string;
  /** The lab CA that issues the certificate. */
  ca: LabCa;
  /** The only key whose RS256 signatures Dovecot accepts (installed under its `kid`). */
  keys: LabKeys;
  /** Accepted `iss` values (oauth2 `issuers`). */
  issuers: string[];
  /** The accepted `aud` (oauth2 `client_id`: local validation requires it among `aud`). */
  audience: string;
  /** The one mailbox (userdb entry); the token's `upn` must name it. */
  user: string;
  /** Folders beside INBOX (Maildir++ subfolders). */
  folders: string[];
  /** RFC 5322 messages delivered to INBOX. */
  messages: string[];
  /** SASL mechanisms offered (`auth_mechanisms`), e.g. `['xoauth2', 'oauthbearer']`. */
  mechanisms: string[];
}

/** A running private Dovecot. */
export interface DovecotServer {
  imapsPort: number;
  pop3sPort: number;
  /** The temporary directory everything lives in. */
  dir: string;
  /** The dovecot.conf and the oauth2 passdb args file, as written. */
  config: { dovecot: string; oauth2: string };
  /** The log so far. */
  log(): string;
  /**
   * The first log line after `from` (a length of `log()`) that matches `pattern`. Polls up to
   * `ms`: Dovecot's log process writes lines asynchronously, after the client got its answer.
   */
  waitForLog(pattern: RegExp, from: number, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Mint a lab access token with a `sub` claim, which Dovecot 2.3's local JWT validation
 * requires (see the file comment). The token is minted by `mintAccessToken` and, only when it
 * lacks `sub`, signed again by the same key with `sub` = its `oid` (Entra's `sub` is a
 * pairwise id; any stable value will do for Dovecot).
 */
export function mintDovecotToken(keys: LabKeys, claims: AccessClaims): string {
  const token = mintAccessToken(keys, claims);
  const payload = jwt.decode(token);
  if (!payload || typeof payload !== 'object') throw new Error('mintAccessToken made no JWT');
  if (payload.sub) return token;
  // iat, nbf and exp are in the payload already, so jsonwebtoken keeps them as they are.
  return jwt.sign({ ...payload, sub: claims.oid ?? claims.upn ?? claims.appid }, keys.privateKey, {
    algorithm: 'RS256',
    keyid: keys.kid,
  });
}

/** A port nobody listens on right now (Dovecot binds it a moment later; see startDovecot). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/** uid and gid of a system account, from /etc/passwd (Node has no getpwnam). */
function account(name: string): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && f[3] !== undefined) {
      return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  }
  throw new Error(`no ${name} account in /etc/passwd (the dovecot-core package creates it)`);
}

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (statSync(p).isDirectory()) {
    for (const entry of readdirSync(p)) chownTree(path.join(p, entry), uid, gid);
  }
}

/** A Maildir (cur, new, tmp). */
function maildir(dir: string): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(dir, sub), { recursive: true });
}

/** The oauth2 passdb args file: local JWT validation only, no HTTP. */
function oauth2Conf(dir: string, opts: DovecotOptions): string {
  return [
    'introspection_mode = local',
    `local_validation_key_dict = fs:posix:prefix=${dir}/keys/`,
    // Exchange Online matches the token's user to the SASL user=; upn is that claim in the
    // lab's v1.0 tokens (o365-facts.md §2.4). Dovecot compares both through %Lu.
    'username_attribute = upn',
    `issuers = ${opts.issuers.join(' ')}`,
    // Local validation refuses a token whose `aud` does not contain client_id. (`scope` is no
    // use here: it wants a `scope` claim, and Entra tokens carry `scp`.)
    `client_id = ${opts.audience}`,
    // Entra tokens have no `active` claim; switch the account-enabled check off explicitly.
    'active_attribute =',
    'active_value =',
    '',
  ].join('\n');
}

function dovecotConf(
  dir: string,
  ports: { imaps: number; pop3s: number },
  mailUid: number,
  opts: DovecotOptions,
): string {
  return `# ecebot interop: a private Dovecot, everything under ${dir}
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = ecebot-interop
log_path = ${dir}/dovecot.log
listen = 127.0.0.1
protocols = imap pop3

ssl = required
ssl_cert = <${dir}/tls/cert.pem
ssl_key = <${dir}/tls/key.pem

# The tests run as root; Dovecot's own service users (created by dovecot-core) do the rest.
default_internal_user = dovecot
default_login_user = dovenull
# Mail may not be accessed as root; the mailbox belongs to the dovecot account.
first_valid_uid = ${mailUid}

auth_mechanisms = ${opts.mechanisms.join(' ')}
auth_verbose = yes
# Dovecot delays every failed login by 2 s by default; the probes' deadlines are short.
auth_failure_delay = 0

passdb {
  driver = oauth2
  mechanisms = ${opts.mechanisms.join(' ')}
  args = ${dir}/oauth2.conf
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
mail_location = maildir:~/Maildir

# Every test connects from 127.0.0.1, and the anvil's per-IP auth penalty (2, 4, 8… 15 s after
# failed logins) would make later tests wait; without its socket the auth process skips it.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = ${ports.pop3s}
    ssl = yes
  }
}
`;
}

/** Lay out the temporary directory: TLS material, key dict, userdb, maildir with messages. */
function prepare(dir: string, opts: DovecotOptions): { mailUid: number } {
  // Dovecot's auth process (dovecot) reads the keys and the userdb; the mail process (the
  // mailbox owner) walks into the maildir.
  chmodSync(dir, 0o755);
  const leaf = opts.ca.issue({ names: [opts.hostName] });
  mkdirSync(path.join(dir, 'tls'), { mode: 0o700 });
  writeFileSync(path.join(dir, 'tls/cert.pem'), leaf.certPem);
  writeFileSync(path.join(dir, 'tls/key.pem'), leaf.keyPem, { mode: 0o600 });

  const keyDir = path.join(dir, 'keys/default/RS256');
  mkdirSync(keyDir, { recursive: true });
  writeFileSync(
    path.join(keyDir, opts.keys.kid),
    opts.keys.publicKey.export({ type: 'spki', format: 'pem' }),
  );

  const owner = account('dovecot');
  const home = path.join(dir, 'home', opts.user);
  // passwd-file: user:password:uid:gid:gecos:home:shell:extra (no password: the passdb is oauth2).
  writeFileSync(path.join(dir, 'users'), `${opts.user}::${owner.uid}:${owner.gid}::${home}::\n`);
  const inbox = path.join(home, 'Maildir');
  maildir(inbox);
  for (const folder of opts.folders) maildir(path.join(inbox, `.${folder}`));
  opts.messages.forEach((message, i) => {
    writeFileSync(path.join(inbox, 'new', `${1700000000 + i}.M${i}P1.ecebot`), message);
  });
  chownTree(path.join(dir, 'home'), owner.uid, owner.gid);
  return { mailUid: owner.uid };
}

/** Resolve when `port` accepts a TCP connection. */
function accepts(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Wait until the child exits; SIGKILL it if it has not after `ms`. */
function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** One attempt to start the master with the given ports. */
async function launch(
  dir: string,
  conf: string,
  ports: number[],
): Promise<{ child: ChildProcess; output: () => string; error?: string }> {
  const child = spawn(DOVECOT_BINARY, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  let spawnError: string | undefined;
  child.once('error', err => (spawnError = err.message));
  const log = () =>
    existsSync(path.join(dir, 'dovecot.log'))
      ? readFileSync(path.join(dir, 'dovecot.log'), 'utf8')
      : '';
  const until = Date.now() + 15000;
  while (Date.now() < until) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      return { child, output: () => output, error: spawnError ?? `${output}\n${log()}` };
    }
    const up = await Promise.all(ports.map(accepts));
    if (up.every(Boolean)) return { child, output: () => output };
    await sleep(50);
  }
  child.kill('SIGTERM');
  await exited(child, 3000);
  return { child, output: () => output, error: `not listening after 15 s\n${output}\n${log()}` };
}

/** Start a private Dovecot; stop() it in afterAll. */
export async function startDovecot(opts: DovecotOptions): Promise<DovecotServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecebot-dovecot-'));
  try {
    const { mailUid } = prepare(dir, opts);
    const oauth2 = oauth2Conf(dir, opts);
    writeFileSync(path.join(dir, 'oauth2.conf'), oauth2);
    const confPath = path.join(dir, 'dovecot.conf');
    let lastError = '';
    // The free ports are only free until Dovecot binds them; retry if another process won.
    for (let attempt = 0; attempt < 3; attempt++) {
      const ports = { imaps: await freePort(), pop3s: await freePort() };
      if (ports.imaps === ports.pop3s) continue;
      const dovecot = dovecotConf(dir, ports, mailUid, opts);
      writeFileSync(confPath, dovecot);
      const started = await launch(dir, confPath, [ports.imaps, ports.pop3s]);
      if (started.error !== undefined) {
        lastError = started.error;
        if (/in use/i.test(lastError)) continue;
        break;
      }
      return running(dir, started.child, ports, { dovecot, oauth2 });
    }
    throw new Error(`dovecot did not start: ${lastError}`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function running(
  dir: string,
  child: ChildProcess,
  ports: { imaps: number; pop3s: number },
  config: { dovecot: string; oauth2: string },
): DovecotServer {
  const logFile = path.join(dir, 'dovecot.log');
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  // If Jest exits without afterAll (a crash), do not leave a master behind.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  return {
    imapsPort: ports.imaps,
    pop3sPort: ports.pop3s,
    dir,
    config,
    log,
    async waitForLog(pattern, from, ms = 5000) {
      const until = Date.now() + ms;
      for (;;) {
        const line = log()
          .slice(from)
          .split('\n')
          .find(l => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() >= until) {
          throw new Error(`no log line matching ${pattern} in:\n${log().slice(from)}`);
        }
        await sleep(50);
      }
    },
    async stop() {
      process.removeListener('exit', onExit);
      // SIGTERM: the master stops its services and exits (with -F it is our direct child).
      child.kill('SIGTERM');
      await exited(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
