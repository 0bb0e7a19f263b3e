/**
 * A small zip writer for the support bundle: stored or deflated entries, no native module, no
 * dependency, following PKWARE's APPNOTE.TXT (version 6.3.10): local file headers (§4.3.7), the
 * central directory (§4.3.12) and its end record (§4.3.16). No ZIP64, no encryption, no data
 * descriptors: every size is known before the entry is written, so the local header carries
 * the CRC-32 and both sizes (§4.4.4 bit 3 clear). Archives past the classic limits (65 535
 * entries, 4 GiB) are refused rather than written wrong.
 *
 * Deterministic: the same entries and date give the same bytes (no "now" inside).
 */
import { Buffer } from 'node:buffer';
import { crc32, deflateRawSync } from 'node:zlib';

/** One file of the archive. */
export interface ZipEntry {
  /** Path inside the archive, forward slashes, relative (APPNOTE §4.4.17). */
  name: string;
  data: Buffer | string;
}

/** How to write the archive. */
export interface ZipOptions {
  /** Modification time of every entry (MS-DOS time, 2-second resolution, local = UTC here). */
  date?: Date;
  /** `deflate` (default) deflates an entry when that makes it smaller, else stores it. */
  method?: 'deflate' | 'store';
}

/** Compression methods (APPNOTE §4.4.5). */
const STORED = 0;
const DEFLATED = 8;
/** Version needed to extract: 2.0 for deflate and for folders (APPNOTE §4.4.3.2). */
const VERSION_NEEDED = 20;
/** Version made by: upper byte 3 = UNIX (§4.4.2.2), lower byte 63 = APPNOTE 6.3. */
const VERSION_MADE_BY = (3 << 8) | 63;
/** General purpose flag bit 11: file names are UTF-8 (APPNOTE §4.4.4, Appendix D.2). */
const UTF8_NAMES = 1 << 11;
/** The classic format's limits (§4.4.8, §4.4.9, §4.4.21): beyond them ZIP64 is needed. */
const MAX_ENTRIES = 0xffff;
const MAX_SIZE = 0xffffffff;

/** The date as MS-DOS date and time fields (APPNOTE §4.4.6; years 1980–2107). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/**
 * Why a name cannot go in the archive, or undefined: relative, forward slashes only, no `..`
 * (APPNOTE §4.4.17.1: "MUST NOT contain a drive or device letter, or a leading slash").
 */
export function zipNameProblem(name: string): string | undefined {
  if (!name) return 'empty name';
  if (name.startsWith('/')) return 'leading slash';
  if (/^[A-Za-z]:/.test(name)) return 'drive letter';
  if (name.includes('\\')) return 'backslash (use /)';
  if (name.split('/').some(p => p === '..' || p === '.' || p === '')) return 'empty, . or .. part';
  // eslint-disable-next-line no-control-regex -- control characters have no place in a name
  if (/[\x00-\x1f\x7f]/.test(name)) return 'control character';
  return undefined;
}

/** One entry, compressed (or not), with what both headers need. */
interface Packed {
  name: Buffer;
  method: number;
  crc: number;
  size: number;
  body: Buffer;
  offset: number;
}

/** Local file header (APPNOTE §4.3.7) followed by the entry's data (§4.3.8). */
function localHeader(p: Packed, dos: { time: number; date: number }): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0); // local file header signature
  h.writeUInt16LE(VERSION_NEEDED, 4);
  h.writeUInt16LE(UTF8_NAMES, 6);
  h.writeUInt16LE(p.method, 8);
  h.writeUInt16LE(dos.time, 10);
  h.writeUInt16LE(dos.date, 12);
  h.writeUInt32LE(p.crc, 14);
  h.writeUInt32LE(p.body.length, 18); // compressed size
  h.writeUInt32LE(p.size, 22); // uncompressed size
  h.writeUInt16LE(p.name.length, 26);
  h.writeUInt16LE(0, 28); // extra field length
  return h;
}

/** Central directory file header (APPNOTE §4.3.12). */
function centralHeader(p: Packed, dos: { time: number; date: number }): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0); // central file header signature
  h.writeUInt16LE(VERSION_MADE_BY, 4);
  h.writeUInt16LE(VERSION_NEEDED, 6);
  h.writeUInt16LE(UTF8_NAMES, 8);
  h.writeUInt16LE(p.method, 10);
  h.writeUInt16LE(dos.time, 12);
  h.writeUInt16LE(dos.date, 14);
  h.writeUInt32LE(p.crc, 16);
  h.writeUInt32LE(p.body.length, 20);
  h.writeUInt32LE(p.size, 24);
  h.writeUInt16LE(p.name.length, 28);
  h.writeUInt16LE(0, 30); // extra field length
  h.writeUInt16LE(0, 32); // file comment length
  h.writeUInt16LE(0, 34); // disk number start
  h.writeUInt16LE(0, 36); // internal attributes
  // External attributes: UNIX mode in the upper 16 bits (§4.4.15), a regular file, rw-r-----:
  // a bundle is for the people handling the case, not for everyone on the machine.
  h.writeUInt32LE((0o100640 * 0x10000) >>> 0, 38);
  h.writeUInt32LE(p.offset, 42); // relative offset of local header
  return h;
}

/** End of central directory record (APPNOTE §4.3.16). */
function endRecord(count: number, size: number, offset: number): Buffer {
  const h = Buffer.alloc(22);
  h.writeUInt32LE(0x06054b50, 0); // end of central dir signature
  h.writeUInt16LE(0, 4); // number of this disk
  h.writeUInt16LE(0, 6); // disk where the central directory starts
  h.writeUInt16LE(count, 8); // entries on this disk
  h.writeUInt16LE(count, 10); // entries in all
  h.writeUInt32LE(size, 12);
  h.writeUInt32LE(offset, 16);
  h.writeUInt16LE(0, 20); // comment length
  return h;
}

/** The archive of `entries`, in their order. Throws on a bad or repeated name or past the limits. */
export function zip(entries: readonly ZipEntry[], opts: ZipOptions = {}): Buffer {
  if (entries.length > MAX_ENTRIES)
    throw new Error(`zip: ${entries.length} entries (at most ${MAX_ENTRIES})`);
  const dos = dosDateTime(opts.date ?? new Date(Date.UTC(1980, 0, 1)));
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  const packed: Packed[] = [];
  let offset = 0;
  for (const e of entries) {
    const problem = zipNameProblem(e.name);
    if (problem) throw new Error(`zip: ${JSON.stringify(e.name)}: ${problem}`);
    if (seen.has(e.name)) throw new Error(`zip: ${JSON.stringify(e.name)} twice`);
    seen.add(e.name);
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    const deflated = opts.method === 'store' ? undefined : deflateRawSync(data, { level: 9 });
    const useDeflate = !!deflated && deflated.length < data.length;
    const p: Packed = {
      name: Buffer.from(e.name, 'utf8'),
      method: useDeflate ? DEFLATED : STORED,
      crc: crc32(data) >>> 0,
      size: data.length,
      body: useDeflate ? deflated : data,
      offset,
    };
    if (p.size > MAX_SIZE || offset + 30 + p.name.length + p.body.length > MAX_SIZE)
      throw new Error('zip: archive past 4 GiB (ZIP64 is not written)');
    const head = localHeader(p, dos);
    parts.push(head, p.name, p.body);
    offset += head.length + p.name.length + p.body.length;
    packed.push(p);
  }
  const cdStart = offset;
  for (const p of packed) {
    const head = centralHeader(p, dos);
    parts.push(head, p.name);
    offset += head.length + p.name.length;
  }
  parts.push(endRecord(packed.length, offset - cdStart, cdStart));
  return Buffer.concat(parts);
}
