/**
 * Secret references (`env:NAME`, `file:PATH`) are resolved only when a run is about to start,
 * all at once, so a missing secret stops the run before any probe goes out. Values go straight
 * into the run's Redactor.
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

/** Every secret one environment's run needs, resolved. */
export interface EnvironmentSecrets {
  appSecret?: string;
  /** The ECE app's certificate credential (inventory `app.certificate`), checked. */
  appCertificate?: ClientCertificate;
  /** The certificate's private key as read (PEM), only so the run's redactor knows it. */
  appCertificateKeyPem?: string;
  probeSecret?: string;
  /** Refresh token per mailbox address. */
  refreshTokens: Map<string, string>;
}

/** Resolve all secrets of an environment up front. */
export function resolveEnvironmentSecrets(
  env: Environment,
  inv: Inventory | undefined,
  vars: NodeJS.ProcessEnv,
): EnvironmentSecrets {
  const out: EnvironmentSecrets = { refreshTokens: new Map() };
  if (env.app.secret)
    out.appSecret = resolveSecret(env.app.secret, env, inv, ['app', 'secret'], vars);
  if (env.app.certificate) {
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
  if (env.probe)
    out.probeSecret = resolveSecret(env.probe.secret, env, inv, ['probe', 'secret'], vars);
  env.mailboxes.forEach((m, i) => {
    if (m.refreshToken)
      out.refreshTokens.set(
        m.address.toLowerCase(),
        resolveSecret(m.refreshToken, env, inv, ['mailboxes', i, 'refreshToken'], vars),
      );
  });
  return out;
}
