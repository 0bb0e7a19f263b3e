/**
 * docs/signatures.md (and README's block, where README has the markers) must be what
 * `npm run signatures:doc` makes of the corpus today: a corpus change without the regenerated
 * list fails here. The real script runs, in `--check` mode, as a child process of this Node.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  copyFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'signatures-doc.js');

function check(root: string): { code: number; stderr: string } {
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'signatures-doc.js'), '--check'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stderr?: Buffer };
    return { code: e.status ?? -1, stderr: e.stderr?.toString() ?? '' };
  }
}

test('docs/signatures.md (and README, if it has the markers) match the corpus', () => {
  expect(check(ROOT)).toEqual({ code: 0, stderr: '' });
});

describe('the check can fail', () => {
  let dir: string;
  beforeEach(() => {
    // A copy of what the script reads: itself, the corpus, the doc; no README (none to fill).
    dir = mkdtempSync(join(tmpdir(), 'sigdoc-'));
    for (const d of ['scripts', 'docs', join('test', 'signatures')])
      mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(SCRIPT, join(dir, 'scripts', 'signatures-doc.js'));
    copyFileSync(join(ROOT, 'docs', 'signatures.md'), join(dir, 'docs', 'signatures.md'));
    for (const f of readdirSync(join(ROOT, 'test', 'signatures')).filter(n => n.endsWith('.json')))
      copyFileSync(join(ROOT, 'test', 'signatures', f), join(dir, 'test', 'signatures', f));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a corpus entry without the regenerated doc is reported stale', () => {
    expect(check(dir).code).toBe(0);
    const file = join(dir, 'test', 'signatures', 'ece.json');
    const entries = JSON.parse(readFileSync(file, 'utf8')) as { id: string }[];
    entries[0]!.id = `${entries[0]!.id}-renamed`;
    writeFileSync(file, JSON.stringify(entries));
    const r = check(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('docs/signatures.md');
  });

  test('a README with the markers is checked too', () => {
    writeFileSync(
      join(dir, 'README.md'),
      '# x\n\n<!-- signatures:start -->\n<!-- signatures:end -->\n',
    );
    const r = check(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('README.md');
  });
});
