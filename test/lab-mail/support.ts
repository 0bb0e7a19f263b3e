/**
 * Shared pieces of the lab mail tests: a tenant with keys and CA, token minting, a raw wire
 * client (to see the servers' exact lines) and curl run with arguments only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createCa, type LabCa } from '../../src/lab/ca';
import type { LabState } from '../../src/lab/server-types';
import { healthyTenant } from '../../src/lab/tenant';
import { createKeys, mintAccessToken, type AccessClaims } from '../../src/lab/tokens';

export const ALL_SCOPES = 'IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send';

export interface Fixture {
  ca: LabCa;
  state: LabState;
  /** Folder with `ca.pem` (for curl's --cacert). */
  dir: string;
  caFile: string;
  /** An Outlook access token for `upn` (support@ by default) with all three scopes. */
  token(o?: Partial<AccessClaims>): string;
  /** A fresh healthy tenant (keys and CA stay): servers read `state` live, so they see it. */
  resetTenant(): void;
  cleanup(): void;
}

export function makeFixture(): Fixture {
  const ca = createCa();
  const state: LabState = { tenant: healthyTenant('https://ece.example.com'), keys: createKeys() };
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-lab-mail-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  const token = (o: Partial<AccessClaims> = {}) =>
    mintAccessToken(state.keys, {
      aud: 'https://outlook.office.com',
      tid: state.tenant.tenantId,
      appid: state.tenant.eceApp.appId,
      scp: ALL_SCOPES,
      upn: 'support@example.com',
      lifetimeMinutes: 60,
      ...o,
    });
  return {
    ca,
    state,
    dir,
    caFile,
    token,
    resetTenant: () => {
      state.tenant = healthyTenant('https://ece.example.com');
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The XOAUTH2 initial response (o365-facts.md §1.5). */
export function xoauth2(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
}

/**
 * A line-oriented client on a raw socket, to read the servers' exact words. `lines()` waits
 * until `until` matches a received line (or the socket closes) and returns everything since
 * the previous call.
 */
export class Wire {
  private text = '';
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(public socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  private listen(s: Socket | TLSSocket): void {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      this.text += d;
      this.wake();
    });
    s.on('close', () => {
      this.closed = true;
      this.wake();
    });
    s.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Implicit TLS to the lab name on 127.0.0.1. */
  static tls(port: number, servername: string, ca: string): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername, ca }, () => resolve(new Wire(s)));
      s.once('error', reject);
    });
  }

  /** Plain TCP (SMTP before STARTTLS). */
  static plain(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = netConnect(port, '127.0.0.1', () => resolve(new Wire(s)));
      s.once('error', reject);
    });
  }

  /** STARTTLS (RFC 3207): continue over TLS on the same socket. */
  upgrade(servername: string, ca: string): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ socket: raw as Socket, servername, ca }, () => resolve());
      s.once('error', reject);
      this.socket = s;
      this.listen(s);
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Lines received up to and including the first that matches `until`. */
  async lines(until: RegExp, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = this.text.split('\r\n');
      const complete = all.slice(0, -1);
      const idx = complete.findIndex(l => until.test(l));
      if (idx >= 0) {
        const out = complete.slice(0, idx + 1);
        this.text = all.slice(idx + 1).join('\r\n');
        return out;
      }
      if (this.closed) throw new Error(`closed before ${until}; got ${JSON.stringify(complete)}`);
      if (Date.now() > deadline) throw new Error(`no ${until}; got ${JSON.stringify(complete)}`);
      await new Promise<void>(r => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>(r => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Result of running curl. */
export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run Debian's curl with arguments only (no shell). `-q` first ignores any ~/.curlrc;
 * `--noproxy *` keeps a proxy in the environment from taking the loopback connection.
 */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise(resolve => {
    execFile(
      'curl',
      ['-q', '--noproxy', '*', '--silent', '--show-error', '--max-time', '10', ...args],
      { timeout: 20000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** curl's exit code for "The remote server denied curl to login" (libcurl CURLE_LOGIN_DENIED). */
export const CURLE_LOGIN_DENIED = 67;
