/**
 * Loading the inventory: YAML (one file or a folder of *.yaml / *.yml), validated with the zod
 * schema; every problem is reported with file, line and field, and nothing is returned unless
 * the whole inventory is valid.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError } from './errors';
import { InventorySchema } from './schema';
import type { Environment } from './types';

/** A loaded inventory: the environments by name, and where each field came from. */
export interface Inventory {
  environments: Map<string, Environment>;
  /** Line of a field (dotted path under `environments.NAME…`) in its file, for later errors. */
  lineOf(env: string, path: (string | number)[]): number | undefined;
}

interface ParsedFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Where to look when no --config is given. */
export const DEFAULT_CONFIG_PATHS = ['ecebot.yaml', 'ecebot.yml', 'inventory'];

/** Resolve the inventory path from --config, ECEBOT_CONFIG, or the defaults in the cwd. */
export function findInventoryPath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): string {
  const chosen = explicit ?? env.ECEBOT_CONFIG;
  if (chosen) {
    const p = resolve(cwd, chosen);
    if (!existsSync(p)) {
      throw new InputError(
        `inventory not found: ${p}`,
        'pass an existing file or folder with --config FILE (or set ECEBOT_CONFIG)',
      );
    }
    return p;
  }
  for (const c of DEFAULT_CONFIG_PATHS) {
    const p = resolve(cwd, c);
    if (existsSync(p)) return p;
  }
  throw new InputError(
    `no inventory given and none found in ${cwd} (looked for ${DEFAULT_CONFIG_PATHS.join(', ')})`,
    'pass --config FILE; examples/inventory.yaml shows the format',
  );
}

function filesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const files = readdirSync(path)
    .filter(f => /\.ya?ml$/i.test(f))
    .sort()
    .map(f => join(path, f));
  if (!files.length)
    throw new InputError(
      `the inventory folder ${path} has no .yaml or .yml file`,
      'add at least one YAML file describing an environment',
    );
  return files;
}

function parseFile(file: string): ParsedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'check the path and its permissions',
      file,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = lines.linePos(first.pos[0]).line;
    throw new InputError(
      `YAML syntax: ${first.message.split('\n')[0]}`,
      'fix the YAML syntax at that line',
      file,
      line,
    );
  }
  return { file, doc, lines };
}

/** The line of the deepest existing node on `path` (a missing field points at its parent). */
function lineAt(p: ParsedFile, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = p.doc.getIn(path.slice(0, n) as unknown[], true) as
      { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return p.lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The line of a key itself in the mapping at `parent` (a key's value may start below it). */
function keyLine(p: ParsedFile, parent: readonly PropertyKey[], key: string): number | undefined {
  const map = parent.length ? p.doc.getIn(parent as unknown[], true) : p.doc.contents;
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    const k = pair.key as { value?: unknown; range?: [number, number, number] } | null;
    if (k && String(k.value) === key && k.range) return p.lines.linePos(k.range[0]).line;
  }
  return undefined;
}

/**
 * The field names the schema allows at `path` (an object's shape, through optional, nullable,
 * default, array, record and pipe wrappers); empty when the path leads elsewhere.
 */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  type Def = {
    type: string;
    shape?: Record<string, z.ZodType>;
    innerType?: z.ZodType;
    element?: z.ZodType;
    valueType?: z.ZodType;
    in?: z.ZodType;
  };
  let cur: z.ZodType | undefined = schema;
  const rest = [...path];
  for (let guard = 0; cur && guard < 64; guard++) {
    const def: Def = (cur as unknown as { _zod: { def: Def } })._zod.def;
    if (def.innerType) cur = def.innerType;
    else if (def.type === 'pipe') cur = def.in;
    else if (!rest.length) return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
    else if (def.type === 'object') cur = def.shape?.[String(rest.shift())];
    else if (def.type === 'array' || def.type === 'record') {
      rest.shift();
      cur = def.type === 'array' ? def.element : def.valueType;
    } else return [];
  }
  return [];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): { message: string; hint: string } {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(data, issue.path) === undefined
        ? { message: `is required (${issue.expected})`, hint: 'add the field' }
        : {
            message: `must be ${issue.expected}`,
            hint: `change the value to ${issue.expected === 'number' ? 'a number (no quotes)' : `a ${issue.expected}`}`,
          };
    case 'unrecognized_keys':
      return {
        message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`,
        hint: 'remove it or check its spelling against examples/inventory.yaml',
      };
    case 'invalid_value':
      return {
        message: `must be one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`,
        hint: 'use one of the allowed values',
      };
    default:
      return { message: issue.message, hint: 'see examples/inventory.yaml for the expected form' };
  }
}

/** Load and validate an inventory file or folder. Throws InputError on the first problem. */
export function loadInventory(path: string): Inventory {
  const parsed = filesOf(path).map(parseFile);
  const environments = new Map<string, Environment>();
  const owner = new Map<string, ParsedFile>();
  for (const p of parsed) {
    let data: unknown;
    try {
      data = p.doc.toJS();
    } catch (err) {
      // Parsed but not convertible, e.g. an alias (`*name`) with no anchor (YAML 1.2 §7.1).
      throw new InputError(
        `YAML: ${(err as Error).message}`,
        'fix the YAML (an alias needs its &anchor)',
        p.file,
        1,
      );
    }
    if (!isMap(p.doc.contents)) {
      throw new InputError(
        'the file must be a mapping with an `environments` key',
        'start the file with `environments:`',
        p.file,
        1,
      );
    }
    const result = InventorySchema.safeParse(data);
    if (!result.success) {
      // An unknown field first: a misspelt key (`retreive`) also makes the real one missing,
      // and the misspelling is what the reader must fix, at its own line.
      const issue =
        result.error.issues.find(i => i.code === 'unrecognized_keys') ?? result.error.issues[0]!;
      if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0]!;
        const path = [...issue.path, key];
        const known = keysAt(InventorySchema, issue.path).filter(
          k => valueAt(data, [...issue.path, k]) === undefined,
        );
        const close = suggest(key, known);
        throw new InputError(
          `unknown field ${key}${close ? ` (did you mean ${close}?)` : ''}`,
          close
            ? `rename it to ${close}`
            : 'remove it or check its spelling against examples/inventory.yaml',
          p.file,
          keyLine(p, issue.path, key) ?? lineAt(p, path),
          path.map(String).join('.'),
        );
      }
      const path = issue.path;
      const { message, hint } = describeIssue(issue, data);
      throw new InputError(message, hint, p.file, lineAt(p, path), path.map(String).join('.'));
    }
    for (const [name, env] of Object.entries(result.data.environments)) {
      const prior = owner.get(name);
      if (prior) {
        throw new InputError(
          `environment ${name} is defined twice (also in ${prior.file} line ${lineAt(prior, ['environments', name])})`,
          'keep one definition per environment name',
          p.file,
          lineAt(p, ['environments', name]),
          `environments.${name}`,
        );
      }
      const names = new Set<string>();
      env.servers.forEach((s, i) => {
        if (names.has(s.name)) {
          throw new InputError(
            `server ${s.name} is listed twice`,
            'give each server a unique name',
            p.file,
            lineAt(p, ['environments', name, 'servers', i, 'name']),
            `environments.${name}.servers.${i}.name`,
          );
        }
        names.add(s.name);
      });
      if (!env.servers.some(s => s.role === 'services')) {
        throw new InputError(
          'no server has role services',
          'list the ECE services server (it runs the retriever and dispatcher, checklist item 8)',
          p.file,
          lineAt(p, ['environments', name, 'servers']),
          `environments.${name}.servers`,
        );
      }
      environments.set(name, { ...env, name, file: p.file });
      owner.set(name, p);
    }
  }
  return {
    environments,
    lineOf(env, path) {
      const p = owner.get(env);
      return p ? lineAt(p, ['environments', env, ...path]) : undefined;
    },
  };
}

/** Pick one environment, with a "did you mean" suggestion for typos. */
export function pickEnvironment(inv: Inventory, name: string, source: string): Environment {
  const env = inv.environments.get(name);
  if (env) return env;
  const known = [...inv.environments.keys()];
  const close = suggest(name, known);
  throw new InputError(
    `unknown environment ${JSON.stringify(name)} in ${source}`,
    close
      ? `did you mean ${close}? Known: ${known.join(', ')}`
      : `known environments: ${known.join(', ') || '(none)'}`,
  );
}

/** The closest candidate by edit distance, if it is close enough to be a typo. */
export function suggest(input: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(input.length / 3))
    ? best
    : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 200 || b.length > 200) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}
