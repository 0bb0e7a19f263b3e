/**
 * The support bundle of one run: a zip an engineer can attach to a support case, holding what
 * is needed to understand the run and nothing that opens a door.
 *
 * - `run.json`: the run as stored (findings, evidence, remediation), redacted again.
 * - `transcripts/<item>.txt`: each item's protocol transcripts (`C: …` / `S: …`), by vantage.
 * - `versions.json`: ecebot's, Node's and the platform's versions, and the ECE release as the
 *   run saw it and as the inventory declares it.
 * - `inventory.json`: that environment only (never another), every secret reference replaced
 *   by `<redacted>`, the file it came from cut to its name.
 * - `facts.json`: the inventory facts the checklist rules judge on (src/runner/facts.ts).
 * - `manifest.json`: the files with their sizes and SHA-256, and how many values of each kind
 *   were redacted (counts only).
 *
 * Every entry goes through {@link BundleRedactor} (./redact.ts) with the environment's secret
 * values it could resolve, and through the shape rules for the rest.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { z } from 'zod';
import type { Inventory } from '../inventory/load';
import { resolveSecret } from '../inventory/secrets';
import type { Environment } from '../inventory/types';
import type { Run } from '../model';
import { factsOf } from '../runner/facts';
import type { Store } from '../store/types';
import { eceRefreshTokenKey, refreshTokenKey } from '../store/tokens';
import { VERSION } from '../version';
import { zip, type ZipEntry } from '../util/zip';
import { BundleRedactor, type RedactionCounts } from './redact';

/**
 * A run id as src/runner/prepare.ts newRunId makes it: `<env>-<yyyymmddhhmmss>-<4 hex>`, the
 * environment named as the inventory allows (lowercase letters, digits, `-`, `_`).
 */
const RUN_ID = /^([a-z0-9][a-z0-9_-]*)-\d{14}-[0-9a-f]{4}$/;
/** Longer than any run id ecebot makes; keeps junk out of logs and keys. */
const RUN_ID_MAX = 200;

/** The run id and its environment, or undefined when `raw` is not a run id. */
export function parseRunId(raw: string): { runId: string; environment: string } | undefined {
  if (typeof raw !== 'string' || raw.length > RUN_ID_MAX) return undefined;
  const m = RUN_ID.exec(raw);
  return m ? { runId: raw, environment: m[1]! } : undefined;
}

/** The file name a bundle is offered as. */
export function bundleFileName(runId: string): string {
  return `ecebot-${runId}.zip`;
}

/** What is in the bundle, as manifest.json says. */
export interface BundleManifest {
  format: 'ecebot-support-bundle/1';
  runId: string;
  environment: string;
  createdAt: string;
  ecebot: string;
  files: { name: string; bytes: number; sha256: string }[];
  /** How many values of each kind were replaced by `<redacted>` while building the bundle. */
  redacted: RedactionCounts;
  /** Markers already in the stored run (redacted where it was observed). */
  alreadyRedacted: number;
  /** What a reader should know (e.g. the environment is no longer in the inventory). */
  notes: string[];
}

/** A built bundle. */
export interface SupportBundle {
  fileName: string;
  bytes: Buffer;
  manifest: BundleManifest;
}

/** The versions of what built the bundle (injectable so tests pin them). */
export interface BundleVersions {
  ecebot: string;
  node: string;
  platform: string;
}

/** What a bundle is built from. */
export interface BundleInput {
  run: Run;
  /** The run's environment from the inventory; undefined when it is gone from it. */
  env: Environment | undefined;
  /** Secret values to cut out wherever they appear ({@link knownSecretsOf}). */
  knownSecrets: Iterable<string | undefined>;
  createdAt: Date;
  versions?: BundleVersions;
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** One transcript file per item that has transcripts, blocks by vantage and target. */
function transcripts(run: Run): ZipEntry[] {
  const out: ZipEntry[] = [];
  for (const f of run.findings) {
    const blocks = f.evidence
      .filter(e => e.transcript?.length)
      .map(
        e =>
          `## ${e.vantage} → ${e.target} (${e.code}${e.durationMs !== undefined ? `, ${e.durationMs} ms` : ''})\n${e.transcript!.join('\n')}\n`,
      );
    if (!blocks.length) continue;
    const name = String(f.item).replace(/[^A-Za-z0-9_-]/g, '_');
    out.push({
      name: `transcripts/${name}.txt`,
      data: `# ${f.item}: ${f.title} (${f.status})\n\n${blocks.join('\n')}`,
    });
  }
  return out;
}

/** The environment for the bundle: its own fields, the file cut to its name. */
function inventoryOf(env: Environment): unknown {
  const { file, name, ...rest } = env;
  return { environments: { [name]: rest }, source: basename(file) };
}

/** Which mailboxes the inventory gives a refresh token (a reference, never its value). */
function configuredTokens(env: Environment): Map<string, string> {
  return new Map(env.mailboxes.filter(m => m.refreshToken).map(m => [m.address.toLowerCase(), '']));
}

/** Build the bundle of a run. Pure but for hashing and deflating. */
export function buildBundle(input: BundleInput): SupportBundle {
  const { run, env } = input;
  const versions = input.versions ?? {
    ecebot: VERSION,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const r = new BundleRedactor(input.knownSecrets);
  const notes: string[] = [];
  const entries: ZipEntry[] = [{ name: 'run.json', data: json(r.value(run)) }];
  for (const t of transcripts(run)) entries.push({ name: t.name, data: r.text(String(t.data)) });
  entries.push({
    name: 'versions.json',
    data: json(
      r.value({
        ecebot: versions.ecebot,
        node: versions.node,
        platform: versions.platform,
        ece: {
          run: run.ece,
          ...(env
            ? {
                inventory: {
                  version: env.ece.version,
                  es: env.ece.es,
                  ...(env.ece.et !== undefined ? { et: env.ece.et } : {}),
                },
              }
            : {}),
        },
      }),
    ),
  });
  if (env) {
    entries.push({ name: 'inventory.json', data: json(r.value(inventoryOf(env), { refs: true })) });
    const facts = factsOf(env, { refreshTokens: configuredTokens(env) });
    entries.push({ name: 'facts.json', data: json(r.value(facts)) });
    notes.push(
      'facts.json: hasToken means the inventory names a refresh token for the mailbox; tokens kept from sign-ins are not looked up.',
    );
  } else {
    notes.push(
      `environment ${run.environment} is no longer in the inventory: inventory.json and facts.json are left out`,
    );
  }
  const files = entries.map(e => {
    const data = Buffer.from(e.data);
    return {
      name: e.name,
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    };
  });
  const manifest: BundleManifest = {
    format: 'ecebot-support-bundle/1',
    runId: run.id,
    environment: run.environment,
    createdAt: input.createdAt.toISOString(),
    ecebot: versions.ecebot,
    files,
    redacted: { ...r.counts },
    alreadyRedacted: r.alreadyRedacted,
    notes,
  };
  entries.push({ name: 'manifest.json', data: json(manifest) });
  return {
    fileName: bundleFileName(run.id),
    bytes: zip(entries, { date: input.createdAt }),
    manifest,
  };
}

/**
 * The token inside a kept value: the store may keep a refresh token with its bookkeeping as
 * JSON (`{"refreshToken": …}`, src/store/tokens.ts); the token alone is cut out too.
 */
function keptTokenValues(v: string): string[] {
  if (!v.startsWith('{')) return [];
  try {
    const token = (JSON.parse(v) as { refreshToken?: unknown }).refreshToken;
    return typeof token === 'string' ? [token] : [];
  } catch {
    return [];
  }
}

/**
 * The secret values of an environment this process can read, to cut out wherever they appear:
 * each reference resolved on its own (one that cannot be resolved here is skipped: the shape
 * rules still apply), and the refresh tokens ecebot keeps for its mailboxes when a store (with
 * its key) is at hand. Never throws.
 */
export async function knownSecretsOf(
  env: Environment,
  inv: Inventory | undefined,
  vars: NodeJS.ProcessEnv,
  store?: Pick<Store, 'getSecret'>,
): Promise<string[]> {
  const out: string[] = [];
  const tryRef = (ref: string | undefined, field: (string | number)[]) => {
    if (!ref) return;
    try {
      const v = resolveSecret(ref, env, inv, field, vars);
      out.push(v);
      // `user:password` (the proxy's Basic credentials, RFC 7617): the password alone too.
      const colon = v.indexOf(':');
      if (field.includes('proxyCredentials') && colon >= 0) out.push(v.slice(colon + 1));
    } catch {
      // Not readable here (another machine's file, an unset variable): nothing to add.
    }
  };
  tryRef(env.app.secret, ['app', 'secret']);
  tryRef(env.app.certificate?.key, ['app', 'certificate', 'key']);
  tryRef(env.probe?.secret, ['probe', 'secret']);
  tryRef(env.endpoints?.proxyCredentials, ['endpoints', 'proxyCredentials']);
  env.mailboxes.forEach((m, i) => tryRef(m.refreshToken, ['mailboxes', i, 'refreshToken']));
  if (store)
    for (const m of env.mailboxes)
      for (const key of [
        refreshTokenKey(env.name, m.address),
        eceRefreshTokenKey(env.name, m.address),
      ]) {
        try {
          const v = await store.getSecret(key);
          if (v) out.push(v, ...keptTokenValues(v));
        } catch {
          // No key to open it with, or Redis is away: the shape rules still apply.
        }
      }
  return out;
}

/**
 * What the bundle reads of a stored run, checked: Redis is a trust boundary, and a value there
 * that is not a run ecebot wrote must not become a file (or an exception) here.
 */
const StoredRun = z.looseObject({
  id: z.string().max(RUN_ID_MAX),
  environment: z.string().max(RUN_ID_MAX),
  ece: z.looseObject({}),
  findings: z.array(
    z.looseObject({
      item: z.string().max(100),
      title: z.string().max(1000),
      status: z.string().max(20),
      evidence: z.array(
        z.looseObject({
          vantage: z.string().max(1000),
          target: z.string().max(1000),
          code: z.string().max(200),
          durationMs: z.number().optional(),
          transcript: z.array(z.string()).optional(),
        }),
      ),
    }),
  ),
});

/**
 * The stored run of a run id, or undefined: when the id is not a run id, when no such run is
 * stored, or when what is stored is not a run of the id's environment.
 */
export async function storedRun(
  store: Pick<Store, 'getRun'>,
  raw: string,
): Promise<Run | undefined> {
  const id = parseRunId(raw);
  if (!id) return undefined;
  const found = await store.getRun(id.runId);
  const ok = StoredRun.safeParse(found);
  if (!ok.success || ok.data.id !== id.runId || ok.data.environment !== id.environment)
    return undefined;
  return found;
}
