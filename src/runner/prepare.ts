/**
 * Preparing a run: everything that can fail because of the input (unknown items, missing
 * secrets, an unreadable CA file) fails here, before any probe goes out.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isItemId, itemIds } from '../checklist/items';
import type { ItemId } from '../model/items';
import { InputError } from '../inventory/errors';
import { suggest, type Inventory } from '../inventory/load';
import { resolveEnvironmentSecrets, type EnvironmentSecrets } from '../inventory/secrets';
import type { Environment } from '../inventory/types';
import { DEFAULT_DEADLINES, type Deadlines } from '../probes/context';
import { Redactor } from '../util/redact';
import { vantagesForItems } from './progress';

/** A run ready to execute. Holds secrets: never serialise it. */
export interface PreparedRun {
  id: string;
  env: Environment;
  secrets: EnvironmentSecrets;
  ca?: string;
  deadlines: Deadlines;
  items: ItemId[];
  redactor: Redactor;
}

/** Validate `--item` values against the catalogue, suggesting the closest id for typos. */
export function parseItems(raw: string[] | undefined): ItemId[] {
  const known = itemIds();
  if (!raw?.length) return known;
  const out: ItemId[] = [];
  for (const r of raw.flatMap(v => v.split(','))) {
    const id = r.trim().toLowerCase();
    if (!isItemId(id)) {
      const close = suggest(id, known);
      throw new InputError(
        `unknown checklist item ${JSON.stringify(r)}`,
        `${close ? `did you mean ${close}? ` : ''}items: ${known.join(', ')}`,
      );
    }
    if (!out.includes(id)) out.push(id);
  }
  // Keep the checklist's order whatever order they were given in.
  return known.filter(i => out.includes(i));
}

/** A short, sortable, unique run id: `<env>-<yyyymmddhhmmss>-<4 hex>`. */
export function newRunId(env: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${env}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export function prepareRun(
  env: Environment,
  inv: Inventory | undefined,
  opts: {
    items?: string[];
    vars: NodeJS.ProcessEnv;
    now?: Date;
    /** Refresh tokens ecebot keeps itself (from a Teams sign-in), by mailbox; the inventory's win. */
    storedRefreshTokens?: ReadonlyMap<string, string>;
  },
): PreparedRun {
  const items = parseItems(opts.items);
  const secrets = resolveEnvironmentSecrets(env, inv, opts.vars);
  for (const [mailbox, rt] of opts.storedRefreshTokens ?? []) {
    if (!secrets.refreshTokens.has(mailbox.toLowerCase()))
      secrets.refreshTokens.set(mailbox.toLowerCase(), rt);
  }
  let ca: string | undefined;
  if (env.endpoints?.caFile) {
    const path = resolve(dirname(env.file), env.endpoints.caFile);
    try {
      ca = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InputError(
        `CA file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${path})`,
        'fix endpoints.caFile (relative paths start at the inventory file)',
        env.file,
        inv?.lineOf(env.name, ['endpoints', 'caFile']),
        `environments.${env.name}.endpoints.caFile`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new InputError(
        `CA file ${path} holds no PEM certificate`,
        'point endpoints.caFile at a PEM file',
        env.file,
        inv?.lineOf(env.name, ['endpoints', 'caFile']),
        `environments.${env.name}.endpoints.caFile`,
      );
    }
  }
  const b = env.budget ?? {};
  const deadlines: Deadlines = {
    dnsMs: b.dnsMs ?? DEFAULT_DEADLINES.dnsMs,
    connectMs: b.connectMs ?? DEFAULT_DEADLINES.connectMs,
    tlsMs: b.tlsMs ?? DEFAULT_DEADLINES.tlsMs,
    greetingMs: b.greetingMs ?? DEFAULT_DEADLINES.greetingMs,
    commandMs: b.commandMs ?? DEFAULT_DEADLINES.commandMs,
    totalMs: b.totalMs ?? DEFAULT_DEADLINES.totalMs,
  };
  const redactor = new Redactor([
    secrets.appSecret ?? '',
    secrets.probeSecret ?? '',
    ...secrets.refreshTokens.values(),
  ]);
  return {
    id: newRunId(env.name, opts.now ?? new Date()),
    env,
    secrets,
    ca,
    deadlines,
    items,
    redactor,
  };
}

/**
 * Vantage points a run needs: the servers and `central` its items' declarations draw on
 * (`check --item version` needs none; a full run needs every server and `central`).
 */
export function vantagesOf(run: PreparedRun): string[] {
  return vantagesForItems(run.env, run.items);
}
