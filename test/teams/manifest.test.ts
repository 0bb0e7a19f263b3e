/**
 * The Teams app manifest and package: the manifest validates offline against the schema bundled
 * in @microsoft/app-manifest (in a child process, because the package require()s an ESM-only
 * module that Jest cannot load: teams-bot-notes.md §5), its command lists are the registry's,
 * and `npm run package:teams` writes a zip whose entries, CRCs and icons (192×192 colour,
 * 32×32 white-on-transparent outline) are what Teams asks for.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync, crc32 } from 'node:zlib';
import { COMMANDS, syntaxOf } from '../../src/teams/commands';

const ROOT = join(__dirname, '..', '..');
const GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');
const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest', 'manifest.json'), 'utf8')) as {
  $schema: string;
  manifestVersion: string;
  bots: {
    botId: string;
    scopes: string[];
    commandLists: { scopes: string[]; commands: { title: string; description: string }[] }[];
  }[];
  composeExtensions: {
    botId: string;
    commands: { id: string; type: string; parameters: { name: string }[] }[];
  }[];
  icons: { color: string; outline: string };
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<Ran> {
  return new Promise(resolve => {
    const child = execFile(
      process.execPath,
      ['-r', GUARD, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Schema errors from @microsoft/app-manifest's own validator, run outside Jest. */
async function schemaErrors(m: unknown): Promise<string[]> {
  const script = `
    const { AppManifestUtils } = require('@microsoft/app-manifest');
    let text = '';
    process.stdin.on('data', c => (text += c));
    process.stdin.on('end', async () => {
      const errors = await AppManifestUtils.validateAgainstSchema(JSON.parse(text));
      process.stdout.write(JSON.stringify(errors));
    });`;
  const r = await node(['-e', script], {}, JSON.stringify(m));
  expect(r.stderr).not.toMatch(/loopback guard/);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

describe('manifest', () => {
  test('validates against the bundled schema of a current version', async () => {
    expect(manifest.$schema).toBe(
      `https://developer.microsoft.com/en-us/json-schemas/teams/v${manifest.manifestVersion}/MicrosoftTeams.schema.json`,
    );
    expect(Number(manifest.manifestVersion.split('.')[1])).toBeGreaterThanOrEqual(22);
    expect(await schemaErrors(manifest)).toEqual([]);
  });

  test('the validator really validates: broken manifests are refused', async () => {
    const broken = structuredClone(manifest) as unknown as Record<string, unknown> &
      typeof manifest;
    (broken as unknown as { name: { short: string } }).name.short = 'x'.repeat(31);
    broken.bots[0]!.scopes = ['personal', 'groupchat'];
    delete (broken as Record<string, unknown>).accentColor;
    const errors = (await schemaErrors(broken)).join('\n');
    expect(errors).toMatch(/short/);
    expect(errors).toMatch(/groupchat|allowed values/);
    expect(errors).toMatch(/accentColor/);
  });

  test('bot in personal, team and group chat, with the registry’s commands', () => {
    const [bot] = manifest.bots;
    expect(bot!.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    // The schema allows 10 commands per list (commandLists.commands maxItems 10); commands
    // marked `menu: false` are left out of it and found through `help`.
    const expected = COMMANDS.filter(c => c.menu !== false).map(c => ({
      title: c.name,
      description: `${syntaxOf(c)}: ${c.description.en}`,
    }));
    expect(bot!.commandLists.flatMap(l => l.scopes).sort()).toEqual([
      'groupChat',
      'personal',
      'team',
    ]);
    for (const list of bot!.commandLists) expect(list.commands).toEqual(expected);
    expect(expected.length).toBeLessThanOrEqual(10);
  });

  test('the compose extension is the same bot, a query command with the parameter the bot reads', () => {
    const [ext] = manifest.composeExtensions;
    expect(ext!.botId).toBe(manifest.bots[0]!.botId);
    expect(ext!.commands).toHaveLength(1);
    expect(ext!.commands[0]).toMatchObject({ type: 'query', parameters: [{ name: 'query' }] });
  });
});

/** The stored entries of a zip, checked against their CRC-32 (local headers and central directory). */
function unzip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end).toBeGreaterThan(0);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    expect(method).toBe(0);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    expect(zip.readUInt32LE(local + 14)).toBe(crc);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    expect(crc32(data) >>> 0).toBe(crc);
    out.set(name, data);
    at += 46 + nameLen + extra;
  }
  return out;
}

/** Width, height and RGBA pixels of an 8-bit RGBA PNG whose rows use filter 0. */
function decodePng(png: Buffer): {
  width: number;
  height: number;
  px: (x: number, y: number) => number[];
} {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('ascii');
    const data = png.subarray(at + 8, at + 8 + len);
    expect(png.readUInt32BE(at + 8 + len)).toBe(crc32(png.subarray(at + 4, at + 8 + len)) >>> 0);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 6]);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4 + 1;
  for (let y = 0; y < height; y++) expect(raw[y * stride]).toBe(0);
  return {
    width,
    height,
    px: (x, y) => [...raw.subarray(y * stride + 1 + x * 4, y * stride + 1 + x * 4 + 4)],
  };
}

describe('npm run package:teams', () => {
  const BOT_ID = '3f1c2a6b-1111-4222-8333-944455556666';
  const APP_ID = '8e2d4c6a-aaaa-4bbb-8ccc-ddddeeeeffff';
  let files: Map<string, Buffer>;

  beforeAll(async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'teams-app-')), 'teams-app.zip');
    const r = await node(['scripts/package-teams.js', '--out', out], {
      MicrosoftAppId: BOT_ID,
      TEAMS_APP_ID: APP_ID,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    files = unzip(readFileSync(out));
  });

  test('the zip holds the manifest with this version and ids, and both icons', () => {
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const m = JSON.parse(files.get('manifest.json')!.toString('utf8')) as typeof manifest & {
      version: string;
      id: string;
    };
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(m.version).toBe(pkg.version);
    expect(m.id).toBe(APP_ID);
    expect(m.bots[0]!.botId).toBe(BOT_ID);
    expect(m.composeExtensions[0]!.botId).toBe(BOT_ID);
  });

  test('colour icon: 192×192, opaque accent colour with a white glyph', () => {
    const icon = decodePng(files.get(manifest.icons.color)!);
    expect([icon.width, icon.height]).toEqual([192, 192]);
    const colours = new Set<string>();
    for (let y = 0; y < 192; y += 3)
      for (let x = 0; x < 192; x += 3) colours.add(icon.px(x, y).join(','));
    expect(colours).toContain('31,111,178,255');
    expect(colours).toContain('255,255,255,255');
    expect(icon.px(96, 10)[3]).toBe(255);
  });

  test('outline icon: 32×32, only white or fully transparent pixels', () => {
    const icon = decodePng(files.get(manifest.icons.outline)!);
    expect([icon.width, icon.height]).toEqual([32, 32]);
    let white = 0;
    let clear = 0;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const [r, g, b, a] = icon.px(x, y);
        if (a === 0) clear++;
        else {
          expect([r, g, b, a]).toEqual([255, 255, 255, 255]);
          white++;
        }
      }
    expect(white).toBeGreaterThan(20);
    expect(clear).toBeGreaterThan(white);
  });

  test('a bot id that is not a GUID stops packaging', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'teams-app-')), 'x.zip');
    const r = await node(['scripts/package-teams.js', '--out', out], {
      MicrosoftAppId: 'not-a-guid',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MicrosoftAppId must be a GUID');
  });
});
