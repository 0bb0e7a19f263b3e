/**
 * Secret references (`env:NAME`, `file:PATH`) are resolved only when a run is about to start,
 * all at once, so a missing secret stops the run before any probe goes out. Values go straight
 * into the run's Redactor. Only the kinds of secret a process's reads declare are resolved
 * (least privilege, docs/security.md): an application server never reads the probe app's secret.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadClientCertificate, type ClientCertificate } from '../probes/client-assertion';
import { InputError } from './errors';
import type { Inventory } from './load';
import type { Environment } from './types';

/** Resolve one reference. `field` is the path under the environment (for the error message). */
export function resolveSecret(
  ref: string,
  env: Environment,
  inv: Inventory | undefined,
  field: (string | number)[],
  vars: NodeJS.ProcessEnv,
): string {
  const where = {
    file: env.file,
    line: inv?.lineOf(env.name, field),
    field: ['environments', env.name, ...field].join('.'),
  };
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = vars[name];
    if (!value) {
      throw new InputError(
        `secret ${ref} is not set in the environment`,
        `set the variable ${name} before running (its value is never printed)`,
        where.file,
        where.line,
        where.field,
      );
    }
    return value.trim();
  }
  if (ref.startsWith('file:')) {
    const path = resolve(dirname(env.file), ref.slice(5));
    let value: string;
    try {
      value = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new InputError(
        `secret ${ref} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${path})`,
        'create the file or fix the path (relative paths start at the inventory file)',
        where.file,
        where.line,
        where.field,
      );
    }
    if (!value)
      throw new InputError(
        `secret ${ref} is empty (${path})`,
        'put the secret value in the file',
        where.file,
        where.line,
        where.field,
      );
    return value;
  }
  throw new InputError(
    `not a secret reference: ${JSON.stringify(ref.slice(0, 8))}…`,
    'use env:NAME or file:PATH',
    where.file,
    where.line,
    where.field,
  );
}

/**
 * The kinds of secret a read can need (src/runner/reads/read.ts `needs`): ECE's app credential
 * (inventory `app.secret` / `app.certificate`), ecebot's read-only probe app's secret
 * (`probe.secret`), and the mailboxes' refresh tokens (`mailboxes[].refreshToken`, and those
 * ecebot keeps from sign-ins).
 */
export type SecretKind = 'eceApp' | 'probeApp' | 'refreshTokens';

/** Every kind of secret, for a process that makes every read (an in-process run). */
export const SECRET_KINDS: readonly SecretKind[] = ['eceApp', 'probeApp', 'refreshTokens'];

/** The secrets one environment's run resolved for its reads. */
export interface EnvironmentSecrets {
  /** The kinds resolved; a read using another kind is a bug (`requireSecrets`). */
  resolved: ReadonlySet<SecretKind>;
  appSecret?: string;
  /** The ECE app's certificate credential (inventory `app.certificate`), checked. */
  appCertificate?: ClientCertificate;
  /** The certificate's private key as read (PEM), only so the run's redactor knows it. */
  appCertificateKeyPem?: string;
  probeSecret?: string;
  /** Refresh token per mailbox address. */
  refreshTokens: Map<string, string>;
}

/**
 * Resolve up front the secrets of an environment of the kinds `needs` names, and no other: a
 * reference of a kind not needed is not even looked at, so a server without the probe app's
 * secret file still runs its part.
 */
export function resolveEnvironmentSecrets(
  env: Environment,
  inv: Inventory | undefined,
  vars: NodeJS.ProcessEnv,
  needs: Iterable<SecretKind> = SECRET_KINDS,
): EnvironmentSecrets {
  const resolved = new Set(needs);
  const out: EnvironmentSecrets = { resolved, refreshTokens: new Map() };
  if (resolved.has('eceApp') && env.app.secret)
    out.appSecret = resolveSecret(env.app.secret, env, inv, ['app', 'secret'], vars);
  if (resolved.has('eceApp') && env.app.certificate) {
    const cert = resolveSecret(
      env.app.certificate.cert,
      env,
      inv,
      ['app', 'certificate', 'cert'],
      vars,
    );
    const key = resolveSecret(
      env.app.certificate.key,
      env,
      inv,
      ['app', 'certificate', 'key'],
      vars,
    );
    try {
      out.appCertificate = loadClientCertificate(cert, key);
      out.appCertificateKeyPem = key;
    } catch (err) {
      throw new InputError(
        `app.certificate cannot be used: ${(err as Error).message}`,
        'point `cert` at the PEM certificate uploaded to the ECE app registration and `key` at its unencrypted PEM private key',
        env.file,
        inv?.lineOf(env.name, ['app', 'certificate']),
        ['environments', env.name, 'app', 'certificate'].join('.'),
      );
    }
  }
  if (resolved.has('probeApp') && env.probe)
    out.probeSecret = resolveSecret(env.probe.secret, env, inv, ['probe', 'secret'], vars);
  env.mailboxes.forEach((m, i) => {
    if (resolved.has('refreshTokens') && m.refreshToken)
      out.refreshTokens.set(
        m.address.toLowerCase(),
        resolveSecret(m.refreshToken, env, inv, ['mailboxes', i, 'refreshToken'], vars),
      );
  });
  return out;
}

/**
 * Stop a read that uses a kind of secret its declaration does not name: without this it would
 * quietly find nothing (and be judged as "not configured") on a vantage that never resolved it.
 */
export function requireSecrets(
  secrets: Pick<EnvironmentSecrets, 'resolved'>,
  kind: SecretKind,
  by: string,
): void {
  if (!secrets.resolved.has(kind))
    throw new Error(
      `${by} uses the ${kind} secret, which this process did not resolve: name it in the read's \`needs\``,
    );
}
