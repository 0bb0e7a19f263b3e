/** ecebot's version, from package.json (one folder above both src/ and dist/). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const VERSION = (
  JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;
