/**
 * An independent zip reader for the tests: Python's zipfile module (CPython's own
 * implementation of PKWARE's APPNOTE), run as a child process, and Info-ZIP's `unzip -t` where
 * installed. Neither shares a line with src/util/zip.ts, so a wrong header field shows here.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** One entry as Python's zipfile read it. */
export interface ReadEntry {
  name: string;
  data: Buffer;
  /** 0 stored, 8 deflated (APPNOTE §4.4.5). */
  method: number;
  /** (year, month, day, hour, minute, second) from the MS-DOS fields. */
  dateTime: number[];
  flags: number;
  crc: number;
}

const READER = `
import sys, json, zipfile, base64
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
if bad is not None:
    sys.exit("bad CRC in " + bad)
out = []
for i in z.infolist():
    out.append({"name": i.filename, "data": base64.b64encode(z.read(i)).decode(),
                "method": i.compress_type, "dateTime": list(i.date_time),
                "flags": i.flag_bits, "crc": i.CRC})
print(json.dumps(out))
`;

/** Every entry of the zip file at `path`, read and CRC-checked by Python's zipfile. */
export function readZip(path: string): ReadEntry[] {
  const out = execFileSync('python3', ['-c', READER, path], { encoding: 'utf8' });
  return (JSON.parse(out) as (Omit<ReadEntry, 'data'> & { data: string })[]).map(e => ({
    ...e,
    data: Buffer.from(e.data, 'base64'),
  }));
}

/** `unzip -t` on the file: its exit code and output, or undefined when unzip is not installed. */
export function unzipTest(path: string): { code: number; out: string } | undefined {
  const r = spawnSync('unzip', ['-t', path], { encoding: 'utf8' });
  if (r.error) return undefined;
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
