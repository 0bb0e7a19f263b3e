/**
 * `ecebot serve` starts without a deprecation warning: Node prints DEP0111 when a module reads
 * process.binding('http_parser'), which restify's SPDY dependency did as it loaded
 * (src/teams/no-spdy.ts). Runs the built CLI (`npm run build`) in local mode on a free port.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, childEnv, ROOT } from './support';

test('serve starts, listens and stops with no deprecation warning', async () => {
  const p = spawn(
    process.execPath,
    [BIN, 'serve', '--config', join(ROOT, 'examples', 'inventory.yaml'), '--port', '0'],
    { cwd: ROOT, env: childEnv({ MicrosoftAppId: '' }) },
  );
  let stderr = '';
  let stdout = '';
  const listening = new Promise<void>((resolve, reject) => {
    const seen = () => `${stdout}${stderr}`.includes('listening on http://127.0.0.1:') && resolve();
    p.stdout.on('data', (c: Buffer) => ((stdout += c.toString()), seen()));
    p.stderr.on('data', (c: Buffer) => ((stderr += c.toString()), seen()));
    p.once('exit', code => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  await listening;
  const exited = new Promise<number | null>(resolve => p.once('exit', resolve));
  p.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(`${stdout}\n${stderr}`).not.toMatch(/DeprecationWarning|DEP0\d+/);
});
