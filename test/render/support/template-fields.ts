/**
 * Which data fields a card template reads, checked against data it is expanded with.
 *
 * How it works: the template (cards/NAME.json) is walked as adaptivecards-templating expands
 * it. Every string is parsed with the templating library's own parser
 * (`Template.parseInterpolatedString`, the adaptive-expressions grammar), and the memory paths
 * each `${…}` expression reads come from `Expression.references()`: `title`, `labels.rerun`,
 * `$data`, `$root.runId`, `$index`. They are resolved the way the library resolves them
 * (adaptivecards-templating template-engine.js `EvaluationContext`): a bare path is read from
 * the current `$data`, which is the root outside any `$data` scope; `$root.…` from the root. A
 * `$data: "${path}"` on an element is read in the enclosing scope; an array repeats the
 * element with each entry as its `$data` (and `$index` set), an object becomes the `$data`.
 * `$when` and every other property of the element are read in the element's own scope. Paths
 * in a `$when`'s hidden branch are checked too: data that could show the branch must have them.
 *
 * Limits: it checks that a field is *present* in the data given (an own property, even if its
 * value is '' or false), not its type: the TypeScript interfaces in src/render/card-data.ts do
 * that for generated data. It sees only what the given data reaches: a `$data` array empty in
 * every sample hides its element's fields, so callers must also require each use to be reached
 * (`unreached`). `$data` must be a single `${path}` (not an inline array or a computed
 * expression), and lambda functions (`foreach(x, i, i.y)`) would report their iterator as a
 * field; the templates use neither, and the walker throws on the first.
 */
import * as ACData from 'adaptivecards-templating';

/** Where in a template an expression is: a JSON pointer, e.g. `/body/2/items/0/text`. */
type Pointer = string;

/** One field read by one expression of a template, and what the given data said about it. */
export interface FieldUse {
  /** The JSON pointer of the property the expression is in. */
  at: Pointer;
  /** The memory path as the expression wrote it (`labels.rerun`, `$data`, `$root.runId`). */
  ref: string;
  /** The data path it read, arrays as `[]` (`items[].remediation[].fix`). */
  path: string;
}

/** What one sample of data showed for one template. */
export interface SampleReport {
  /** Fields the sample provided. */
  found: FieldUse[];
  /** Fields the template read that the sample lacks. */
  missing: FieldUse[];
  /** `$data` scopes whose array was empty in this sample (their inside was not checked). */
  empty: Pointer[];
  /** Every data path the template read (arrays as `[]`), to find data no template reads. */
  read: Set<string>;
}

interface Scope {
  /** The current `$data`. */
  data: unknown;
  /** Its path from the root, arrays as `[]` ('' at the root). */
  path: string;
  /** Inside a repeated element (`$index` is set). */
  repeated: boolean;
}

const join = (base: string, seg: string) =>
  seg.startsWith('[') ? `${base}${seg}` : base ? `${base}.${seg}` : seg;

/** The references of a templated string (none for a plain one). */
export function referencesOf(s: string): string[] {
  const e = ACData.Template.parseInterpolatedString(s);
  return typeof e === 'string' ? [] : e.references();
}

/** Walk a property path (`a.b`, `a[0].b`) from a value; undefined when a step is missing. */
function resolve(
  from: unknown,
  basePath: string,
  path: string,
): { value: unknown; path: string } | undefined {
  let value = from;
  let at = basePath;
  for (const seg of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (seg.startsWith('[')) {
      if (!Array.isArray(value)) return undefined;
      value = value[Number(seg.slice(1, -1))];
      at = join(at, '[]');
      if (value === undefined) return undefined;
      continue;
    }
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, seg)) return undefined;
    value = (value as Record<string, unknown>)[seg];
    at = join(at, seg);
  }
  return { value, path: at };
}

/** Read one reference in a scope: the value and its data path, or undefined when missing. */
function read(ref: string, scope: Scope, root: unknown) {
  if (ref === '$index')
    return scope.repeated ? { value: 0, path: `${scope.path}#index` } : undefined;
  if (ref === '$root') return { value: root, path: '' };
  if (ref.startsWith('$root.')) return resolve(root, '', ref.slice('$root.'.length));
  if (ref === '$data') return { value: scope.data, path: scope.path };
  if (ref.startsWith('$data.')) return resolve(scope.data, scope.path, ref.slice('$data.'.length));
  if (ref.startsWith('$')) return undefined;
  return resolve(scope.data, scope.path, ref);
}

/** Check the fields a template reads against one sample of its data. */
export function checkTemplate(template: unknown, data: unknown): SampleReport {
  const report: SampleReport = { found: [], missing: [], empty: [], read: new Set() };
  const use = (at: Pointer, ref: string, scope: Scope) => {
    const r = read(ref, scope, data);
    if (r) {
      report.found.push({ at, ref, path: r.path });
      report.read.add(r.path);
    } else report.missing.push({ at, ref, path: ref });
    return r;
  };

  const walk = (node: unknown, scope: Scope, at: Pointer): void => {
    if (typeof node === 'string') {
      for (const ref of referencesOf(node)) use(at, ref, scope);
    } else if (Array.isArray(node)) {
      node.forEach((x, i) => walk(x, scope, `${at}/${i}`));
    } else if (typeof node === 'object' && node !== null) {
      const obj = node as Record<string, unknown>;
      const body = (s: Scope) => {
        for (const [k, v] of Object.entries(obj)) if (k !== '$data') walk(v, s, `${at}/${k}`);
      };
      if (!Object.hasOwn(obj, '$data')) return body(scope);
      const expr = obj.$data;
      const refs = typeof expr === 'string' ? referencesOf(expr) : [];
      if (typeof expr !== 'string' || refs.length !== 1 || expr.trim() !== `\${${refs[0]}}`)
        throw new Error(
          `${at}/$data: only "\${path}" is understood here, not ${JSON.stringify(expr)}`,
        );
      const r = use(`${at}/$data`, refs[0]!, scope);
      if (!r) return;
      if (Array.isArray(r.value)) {
        if (!r.value.length) report.empty.push(`${at}/$data`);
        for (const entry of r.value)
          body({ data: entry, path: join(r.path, '[]'), repeated: true });
      } else body({ data: r.value, path: r.path, repeated: scope.repeated });
    }
  };

  walk(template, { data, path: '', repeated: false }, '');
  return report;
}

/** Every data path of a value (arrays as `[]`), each object key once. */
export function dataPaths(value: unknown, base = ''): string[] {
  if (Array.isArray(value)) return value.flatMap(v => dataPaths(v, join(base, '[]')));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [join(base, k), ...dataPaths(v, join(base, k))]);
}

/** Whether a data path is read: itself, something inside it, or all of it through `$data`. */
export function isRead(path: string, read: ReadonlySet<string>): boolean {
  for (const r of read)
    if (r === path || r.startsWith(`${path}.`) || r.startsWith(`${path}[]`)) return true;
  return false;
}
