/**
 * The CLI behaves like one: `help CMD` and `CMD --help` print that command's synopsis and exit
 * 0; an option the command lacks is named with the closest one it has, the synopsis follows,
 * exit 2 and nothing runs; `--json` gives exactly one JSON document on stdout (what the demo
 * says goes to stderr); a misspelt inventory key is named at its own line with the key it
 * should be. Run in-process through main() with captured streams.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type Io } from '../../src/cli';
import { ROOT } from './support';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: s => out.push(s),
    err: s => err.push(s),
    env: { NO_COLOR: '1' },
    cwd: mkdtempSync(join(tmpdir(), 'ecebot-usage-')),
    isTTY: false,
  };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const COMMANDS = ['check', 'probe', 'worker', 'assembler', 'lab', 'demo', 'serve'];

describe('help for one command', () => {
  test.each(COMMANDS)('%s: `help %s` and `%s --help` print its synopsis and exit 0', async cmd => {
    const a = await run(['help', cmd]);
    const b = await run([cmd, '--help']);
    const c = await run([cmd, '-h']);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(new RegExp(`^Usage: ecebot ${cmd}\\b`));
    // Only that command: the general usage lists them all.
    for (const other of COMMANDS.filter(o => o !== cmd))
      expect(a.out).not.toContain(`ecebot ${other} `);
    expect(b).toEqual({ code: 0, out: a.out, err: '' });
    expect(c).toEqual(b);
  });

  test('help for a command that does not exist says which do', async () => {
    const r = await run(['help', 'chek']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "chek"[\s\S]*did you mean check\?/);
  });
});

describe('an option the command does not have', () => {
  test('is named with the closest one, the synopsis follows, exit 2', async () => {
    const r = await run(['check', 'lab', '--detail']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('unknown option --detail (did you mean --details?)');
    expect(r.err).toContain('Usage: ecebot check ENV');
    // Not Node's own words.
    expect(r.err).not.toContain("Unknown option '--detail'");
  });

  test.each([
    ['lab', '--scenarios', '--scenario'],
    ['probe', '--tokenfile', '--token-file'],
    ['demo', '--jsn', '--json'],
    ['serve', '--prot', '--port'],
  ])('%s %s: did you mean %s', async (cmd, bad, good) => {
    const r = await run([cmd, bad, 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`unknown option ${bad} (did you mean ${good}?)`);
  });

  test('one with nothing close gets no guess', async () => {
    const r = await run(['check', 'lab', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --frobnicate');
    expect(r.err).not.toContain('did you mean');
  });
});

describe('a misspelt inventory key', () => {
  test('is named at its own line with the key it should be, not as the missing key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecebot-cli-'));
    const p = join(dir, 'typo.yaml');
    const text = readFileSync(join(ROOT, 'examples', 'inventory.yaml'), 'utf8').replace(
      'retrieve: imap',
      'retreive: imap',
    );
    writeFileSync(p, text);
    const line = text.split('\n').findIndex(l => l.includes('retreive: imap')) + 1;
    expect(line).toBeGreaterThan(0);
    const r = await run(['check', 'prod', '--config', p]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(
        `${p}:${line}: environments\\.prod\\.mailboxes\\.\\d+\\.retreive: unknown field retreive \\(did you mean retrieve\\?\\)`,
      ),
    );
    expect(r.err).not.toContain('must be one of');
  });
});

describe('--json', () => {
  test('demo --json: stdout is exactly one JSON document, the words go to stderr', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ecebot-demo-'));
    const r = await run(['demo', '--json', '--out', out]);
    expect(r.code).toBe(0);
    const run1 = JSON.parse(r.out) as { id: string; findings: unknown[] };
    expect(run1.findings).toHaveLength(9);
    expect(r.err).toContain('Starting the lab');
    // The card the demo writes is the bot's: who asked, no command line on it.
    const card = readFileSync(join(out, 'run-card.json'), 'utf8');
    expect(card).toContain('requested by');
    expect(card).not.toContain('ecebot check');
  });
});
