/**
 * The zip writer against independent readers (Python's zipfile, Info-ZIP's unzip). The
 * expectations come from PKWARE's APPNOTE.TXT 6.3.10: method 0 stored / 8 deflated (§4.4.5),
 * MS-DOS date and time with 2-second resolution (§4.4.6), bit 11 for UTF-8 names (§4.4.4,
 * Appendix D.2), no drive letter or leading slash in a name (§4.4.17.1).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zip, zipNameProblem } from '../../src/util/zip';
import { readZip, unzipTest } from './zip-reader';

const dir = mkdtempSync(join(tmpdir(), 'ecebot-zip-'));
let n = 0;
function write(buf: Buffer): string {
  const p = join(dir, `t${++n}.zip`);
  writeFileSync(p, buf);
  return p;
}

test('entries come back byte for byte, deflated when that is smaller and stored when not', () => {
  const text = 'S: * OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\n'.repeat(200);
  const noise = randomBytes(4096);
  const path = write(
    zip([
      { name: 'run.json', data: text },
      { name: 'transcripts/token.txt', data: noise },
      { name: 'empty.txt', data: '' },
    ]),
  );
  const entries = readZip(path);
  expect(entries.map(e => e.name)).toEqual(['run.json', 'transcripts/token.txt', 'empty.txt']);
  expect(entries[0]!.data.toString('utf8')).toBe(text);
  expect(entries[1]!.data.equals(noise)).toBe(true);
  expect(entries[2]!.data.length).toBe(0);
  // Repetitive text deflates (method 8); random bytes and the empty file do not (method 0).
  expect(entries.map(e => e.method)).toEqual([8, 0, 0]);
  const t = unzipTest(path);
  if (t) {
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/No errors detected/);
  }
});

test('store only: every entry is method 0 and still reads back', () => {
  const path = write(zip([{ name: 'a.txt', data: 'aaaa'.repeat(100) }], { method: 'store' }));
  const [e] = readZip(path);
  expect(e!.method).toBe(0);
  expect(e!.data.toString()).toBe('aaaa'.repeat(100));
});

test('the date is written in MS-DOS form, seconds rounded down to even', () => {
  const path = write(
    zip([{ name: 'x', data: 'x' }], { date: new Date(Date.UTC(2026, 11, 3, 9, 14, 37)) }),
  );
  expect(readZip(path)[0]!.dateTime).toEqual([2026, 12, 3, 9, 14, 36]);
});

test('a UTF-8 name sets general purpose bit 11 and reads back as written', () => {
  const path = write(zip([{ name: 'omgeving-één.txt', data: 'ü' }]));
  const [e] = readZip(path);
  expect(e!.name).toBe('omgeving-één.txt');
  expect(e!.flags & (1 << 11)).toBe(1 << 11);
  expect(e!.data.toString('utf8')).toBe('ü');
});

test('an empty archive is still a valid zip (end record only)', () => {
  const buf = zip([]);
  expect(buf.length).toBe(22);
  expect(readZip(write(buf))).toEqual([]);
});

test('the same entries and date give the same bytes', () => {
  const entries = [{ name: 'a', data: 'hello '.repeat(50) }];
  const date = new Date(Date.UTC(2026, 0, 2));
  expect(zip(entries, { date }).equals(zip(entries, { date }))).toBe(true);
});

test('names that would escape the extraction folder, and repeated names, are refused', () => {
  for (const bad of ['/etc/passwd', 'C:/x', '../x', 'a/../../x', 'a\\b', '', 'a//b', 'a\nb'])
    expect(zipNameProblem(bad)).toBeDefined();
  expect(zipNameProblem('transcripts/token.txt')).toBeUndefined();
  expect(() => zip([{ name: '../evil', data: 'x' }])).toThrow(/\.\./);
  expect(() =>
    zip([
      { name: 'a', data: '1' },
      { name: 'a', data: '2' },
    ]),
  ).toThrow(/twice/);
});
