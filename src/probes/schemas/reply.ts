/**
 * Reading a Graph or Exchange admin reply against its schema, once, at the probe: either the
 * typed facts, or why the reply was not understood — the schema issues (paths and expected
 * types) and an outline of the reply (keys and JSON types). Neither carries a value from the
 * reply, so both can be kept as evidence and reported as they are; the redactor still runs
 * over them in the probe, as over every other line.
 */
import type { z } from 'zod';
import type { UnexpectedReply } from '../../model';

/** The outcome of reading one reply. */
export type ReplyReading<T> = { ok: true; value: T } | { ok: false; unexpected: UnexpectedReply };

/** Issues listed at most (a reply of the wrong kind fails everywhere; the first few tell it). */
const MAX_ISSUES = 5;
/** Longest outline kept; the rest is cut with `…`. */
const MAX_SHAPE = 600;
/** Nesting shown in the outline before `…`. */
const MAX_DEPTH = 5;
/** Keys shown per object before `…`. */
const MAX_KEYS = 12;

/**
 * Parse `body` (the decoded JSON, or undefined when the body was not JSON) with `schema`.
 * `text` is the raw body, used only to say how long a non-JSON body was.
 */
export function readReply<S extends z.ZodType>(
  schema: S,
  body: unknown,
  text = '',
): ReplyReading<z.output<S>> {
  if (body === undefined) {
    return {
      ok: false,
      unexpected: {
        issues: ['the body is not JSON'],
        shape: text.length ? `text of ${text.length} characters` : 'empty body',
      },
    };
  }
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.slice(0, MAX_ISSUES).map(i => issueLine(i, body));
  const more = r.error.issues.length - MAX_ISSUES;
  if (more > 0) issues.push(`and ${more} more issue${more === 1 ? '' : 's'}`);
  return { ok: false, unexpected: { issues, shape: shapeOf(body) } };
}

/** The `server` line of a reply not understood: its issues, in one line. */
export function notUnderstood(u: UnexpectedReply): string {
  return `reply not understood: ${u.issues.join('; ')}`;
}

/** The transcript line with the reply's outline. */
export function shapeLine(u: UnexpectedReply): string {
  return `reply shape: ${u.shape}`;
}

/** `value[0].passwordCredentials[1].endDateTime` from a zod path. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(the reply)';
}

/** The JSON type of a value as a person names it: string, number, boolean, null, array, object. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v === undefined) return 'nothing';
  return typeof v;
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let cur = body;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/**
 * One issue as a line without the offending value. Zod's own messages are not used: some
 * issue kinds may quote the input, and a reply can hold anything.
 */
function issueLine(issue: z.core.$ZodIssue, body: unknown): string {
  const where = pathText(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      return `${where}: expected ${issue.expected}, got ${jsonType(valueAt(body, issue.path))}`;
    case 'invalid_format':
      return `${where}: expected a ${issue.format} string`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return `${where}: matches none of the accepted forms`;
    default:
      return `${where}: ${issue.code}`;
  }
}

/** An outline of a JSON value: keys and types, never values. */
export function shapeOf(value: unknown): string {
  const text = outline(value, 0);
  return text.length > MAX_SHAPE ? `${text.slice(0, MAX_SHAPE - 1)}…` : text;
}

function outline(v: unknown, depth: number): string {
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    if (depth >= MAX_DEPTH) return `[…${v.length}]`;
    // The first element stands for the rest; the count says how many there were.
    return `[${v.length} × ${outline(v[0], depth + 1)}]`;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) return '{}';
    if (depth >= MAX_DEPTH) return '{…}';
    const shown = keys
      .slice(0, MAX_KEYS)
      .map(k => `${keyText(k)}: ${outline((v as Record<string, unknown>)[k], depth + 1)}`);
    if (keys.length > MAX_KEYS) shown.push(`…${keys.length - MAX_KEYS} more`);
    return `{ ${shown.join(', ')} }`;
  }
  return jsonType(v);
}

/** A key as written in the outline: bare when it is a plain name, else quoted and cut short. */
function keyText(k: string): string {
  if (/^[A-Za-z_@$][\w.@$-]{0,63}$/.test(k)) return k;
  return JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k);
}
