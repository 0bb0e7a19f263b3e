#!/usr/bin/env node
'use strict';
/**
 * `npm run package:teams`: the Teams app package (manifest.json, color.png, outline.png in a
 * zip) for uploading to Teams or the Developer Portal.
 *
 * - The manifest comes from manifest/manifest.json; `version` is package.json's, and the app's
 *   bot id (bots[].botId, composeExtensions[].botId) is $MicrosoftAppId when set; the package
 *   id is $TEAMS_APP_ID when set.
 * - It is validated offline against the schema bundled in @microsoft/app-manifest (the `$schema`
 *   URL selects the bundled file; nothing is fetched). Packaging stops on any error.
 * - The icons are drawn here: a 192×192 full-colour icon and a 32×32 white-on-transparent outline
 *   (Teams app icon guidelines), encoded as PNG with node:zlib (RFC 2083: IHDR, IDAT, IEND).
 * - The zip is written with the "stored" method (PKWARE APPNOTE 6.3.10 §4.3), fixed timestamps,
 *   so the same input gives the same bytes.
 *
 * Usage: node scripts/package-teams.js [--out FILE] [--check-only]
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { Buffer } = require('node:buffer');

const ROOT = path.join(__dirname, '..');
const ACCENT = [0x1f, 0x6f, 0xb2];
const GUID = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;

// ---------------------------------------------------------------------------------------------
// PNG

/** One PNG chunk: length, type, data, CRC-32 of type and data (RFC 2083 §3.2). */
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGBA PNG from a pixel function (x, y) → [r, g, b, a]. Every row uses filter 0. */
function png(width, height, pixel) {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixel(x, y);
      raw.set([r, g, b, a], row + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Distance from point p to segment ab. */
function segment(px, py, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/**
 * The ecebot glyph in a unit square: an envelope (its outline and flap),
 * as a list of segments and a stroke width, scaled by the caller.
 */
function glyph(u, v, stroke) {
  const lines = [
    [0.14, 0.26, 0.86, 0.26],
    [0.86, 0.26, 0.86, 0.74],
    [0.86, 0.74, 0.14, 0.74],
    [0.14, 0.74, 0.14, 0.26],
    [0.14, 0.26, 0.5, 0.54],
    [0.5, 0.54, 0.86, 0.26],
  ];
  return lines.some(([ax, ay, bx, by]) => segment(u, v, ax, ay, bx, by) <= stroke / 2);
}

/** 192×192 full-colour icon: white glyph on the accent colour, rounded corners. */
function colorIcon() {
  const n = 192;
  const r = 36;
  return png(n, n, (x, y) => {
    const cx = Math.min(Math.max(x + 0.5, r), n - r);
    const cy = Math.min(Math.max(y + 0.5, r), n - r);
    if (Math.hypot(x + 0.5 - cx, y + 0.5 - cy) > r) return [0, 0, 0, 0];
    if (glyph((x + 0.5) / n, (y + 0.5) / n, 0.06)) return [255, 255, 255, 255];
    return [...ACCENT, 255];
  });
}

/** 32×32 outline icon: the glyph in white on a transparent background. */
function outlineIcon() {
  const n = 32;
  return png(n, n, (x, y) =>
    glyph((x + 0.5) / n, (y + 0.5) / n, 0.09) ? [255, 255, 255, 255] : [0, 0, 0, 0],
  );
}

// ---------------------------------------------------------------------------------------------
// Zip (stored entries only)

/** MS-DOS date and time of 2026-01-01 00:00 (APPNOTE §4.4.6): fixed, for reproducible output. */
const DOS_TIME = 0;
const DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1;

/** A zip archive of `files` ([name, Buffer] pairs) with stored (uncompressed) entries. */
function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // local file header signature
    local.writeUInt16LE(20, 4); // version needed: 2.0
    local.writeUInt16LE(0x0800, 6); // flags: UTF-8 names
    local.writeUInt16LE(0, 8); // method: stored
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18); // compressed size
    local.writeUInt32LE(data.length, 22); // uncompressed size
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28); // extra field length
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); // central directory header signature
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6); // version needed
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk number, internal and external attributes: all 0
    central.writeUInt32LE(offset, 42); // local header offset
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // end of central directory signature
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

// ---------------------------------------------------------------------------------------------

/** The manifest to package: the committed one with version and ids filled in. */
function buildManifest(env) {
  const manifest = JSON.parse(
    fs.readFileSync(path.join(ROOT, 'manifest', 'manifest.json'), 'utf8'),
  );
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  manifest.version = pkg.version;
  for (const [name, value] of [
    ['TEAMS_APP_ID', env.TEAMS_APP_ID],
    ['MicrosoftAppId', env.MicrosoftAppId],
  ]) {
    if (value && !GUID.test(value))
      throw new Error(`${name} must be a GUID, got ${JSON.stringify(value)}`);
  }
  if (env.TEAMS_APP_ID) manifest.id = env.TEAMS_APP_ID;
  if (env.MicrosoftAppId) {
    for (const b of manifest.bots ?? []) b.botId = env.MicrosoftAppId;
    for (const c of manifest.composeExtensions ?? []) c.botId = env.MicrosoftAppId;
  }
  return manifest;
}

/** Schema errors of a manifest (empty when valid), from the bundled schema of its version. */
async function validate(manifest) {
  const { AppManifestUtils } = require('@microsoft/app-manifest');
  return AppManifestUtils.validateAgainstSchema(manifest);
}

async function main(argv) {
  const outAt = argv.indexOf('--out');
  const out = path.resolve(outAt >= 0 ? argv[outAt + 1] : path.join(ROOT, 'dist', 'teams-app.zip'));
  const manifest = buildManifest(process.env);
  const errors = await validate(manifest);
  if (errors.length) {
    console.error(
      `manifest/manifest.json does not validate against schema v${manifest.manifestVersion}:`,
    );
    for (const e of errors) console.error(`  ${e}`);
    return 1;
  }
  if (argv.includes('--check-only')) {
    console.log(`manifest/manifest.json is valid (schema v${manifest.manifestVersion})`);
    return 0;
  }
  const files = [
    ['manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8')],
    [manifest.icons.color, colorIcon()],
    [manifest.icons.outline, outlineIcon()],
  ];
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, zip(files));
  console.log(
    `wrote ${path.relative(process.cwd(), out) || out} (manifest v${manifest.manifestVersion}, app ${manifest.id}, bot ${manifest.bots[0].botId})`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  code => {
    process.exitCode = code;
  },
  err => {
    console.error(`package-teams: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  },
);
