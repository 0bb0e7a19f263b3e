/**
 * Test support for test/entra: one lab Entra server on 127.0.0.1 with a certificate for
 * login.microsoftonline.com from a fresh lab CA, a probe context that maps the name to
 * 127.0.0.1 and trusts that CA only, and a raw HTTPS helper that dials the address with the
 * real name as servername (never a DNS lookup of a public name).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import https from 'node:https';
import { createCa, type LabCa } from '../../src/lab/ca';
import { startEntraServer } from '../../src/lab/entra-server';
import type { LabState, RunningServer } from '../../src/lab/server-types';
import { healthyTenant } from '../../src/lab/tenant';
import { createKeys, type LabKeys } from '../../src/lab/tokens';
import { DEFAULT_DEADLINES, type ProbeContext } from '../../src/probes/context';
import type { EntraTarget } from '../../src/probes/entra';
import { Redactor } from '../../src/util/redact';

export const LOGIN = 'login.microsoftonline.com';

/**
 * The lab's signing keys from `createKeys()`. On Node 20 that function currently throws
 * (`createPublicKey` of a key that is already public: "Invalid key object type public, expected
 * private"); until src/lab/tokens.ts is fixed, the same shape is built here from the public key.
 */
export function labKeys(): LabKeys {
  try {
    return createKeys();
  } catch {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = randomUUID().replace(/-/g, '').slice(0, 27);
    const jwk = {
      ...publicKey.export({ format: 'jwk' }),
      kid,
      use: 'sig',
      kty: 'RSA',
      alg: 'RS256',
    };
    return { kid, privateKey, publicKey, jwk };
  }
}

export interface LabEntra {
  ca: LabCa;
  state: LabState;
  server: RunningServer;
  ctx: ProbeContext;
  target: EntraTarget;
  /** Give the server a fresh healthy tenant (it reads `state.tenant` on every request). */
  resetTenant(): void;
}

export async function startLabEntra(): Promise<LabEntra> {
  const ca = createCa();
  const state: LabState = { tenant: healthyTenant('https://ece.example.com'), keys: labKeys() };
  const server = await startEntraServer({ state, tls: ca.issue({ names: [LOGIN] }) });
  const ctx: ProbeContext = {
    vantage: 'central',
    deadlines: DEFAULT_DEADLINES,
    ca: ca.certPem,
    hosts: { [LOGIN]: '127.0.0.1' },
    redactor: new Redactor(),
  };
  const lab: LabEntra = {
    ca,
    state,
    server,
    ctx,
    target: { login: { host: LOGIN, port: server.port }, tenantId: state.tenant.tenantId },
    resetTenant() {
      state.tenant = healthyTenant('https://ece.example.com');
      lab.target = { ...lab.target, tenantId: state.tenant.tenantId };
    },
  };
  return lab;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** One HTTPS request to the lab server as `login.microsoftonline.com:PORT`. */
export function raw(
  lab: LabEntra,
  method: 'GET' | 'POST',
  path: string,
  form?: Record<string, string>,
): Promise<RawAnswer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: lab.server.port,
        servername: LOGIN,
        ca: lab.ca.certPem,
        method,
        path,
        agent: false,
        headers: {
          host: `${LOGIN}:${lab.server.port}`,
          ...(body !== undefined
            ? {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': String(Buffer.byteLength(body)),
              }
            : {}),
        },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
