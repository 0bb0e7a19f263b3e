/**
 * ecebot's version, from package.json: the nearest one above this file (src/, dist/ and the
 * benchmark build sit at different depths).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function packageJson(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new Error(`package.json not found above ${__dirname}`);
  }
}

export const VERSION = (JSON.parse(readFileSync(packageJson(), 'utf8')) as { version: string })
  .version;
