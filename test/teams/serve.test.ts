/**
 * `ecebot serve` as a process: it starts in local mode on 127.0.0.1, answers a Bot Framework
 * activity through the fake connector, reports its health and stops on SIGTERM. And loading
 * the bot (restify) leaves Node's HTTP servers working for everything else in the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { suggest } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import '../../src/teams/server';
import { cardTexts } from './support/adaptive';
import { message, post } from './support/bot-client';
import { cardOf, FakeConnector } from './support/fake-connector';

const ROOT = join(__dirname, '..', '..');
const GUARD = join(ROOT, 'test', 'support', 'loopback-guard.js');

let lab: Lab;
let fake: FakeConnector;
const children: ChildProcess[] = [];

beforeAll(async () => {
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  fake = await FakeConnector.start();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fake?.close();
  await lab?.stop();
});

function ecebot(args: string[]) {
  const child = spawn(process.execPath, ['-r', GUARD, join(ROOT, 'bin', 'ecebot.js'), ...args], {
    cwd: ROOT,
    // No MicrosoftAppId: local mode.
    env: { PATH: process.env.PATH, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', l => lines.push(l));
  const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)));
  const line = (re: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const found = () => lines.map(l => re.exec(l)).find(Boolean);
      const hit = found();
      if (hit) return resolve(hit);
      const on = () => {
        const m = found();
        if (m) {
          rl.off('line', on);
          resolve(m);
        }
      };
      rl.on('line', on);
      void exited.then(code =>
        reject(new Error(`ecebot exited ${code}: ${lines.join('\n')}\n${stderr}`)),
      );
    });
  return { child, line, exited, stderr: () => stderr };
}

test('ecebot serve runs the bot in local mode on loopback and stops on SIGTERM', async () => {
  const p = ecebot(['serve', '--config', lab.info.inventory, '--port', '0']);
  const m = await p.line(/listening on (http:\/\/127\.0\.0\.1:(\d+)\/api\/messages) \(local mode/);
  const url = m[1]!;
  const health = await fetch(url.replace('/api/messages', '/healthz')).then(r => r.json());
  expect(health).toEqual({ status: 'ok' });

  const from = fake.requests.length;
  const res = await post(url, message(fake.url, { conversationId: 'a:1serve' }, 'help'));
  expect(res.status).toBe(200);
  const reply = fake.requests.slice(from).find(r => r.conversationId === 'a:1serve')!;
  expect(cardTexts(cardOf(reply)).join('\n')).toContain('check ENV [ITEM]');

  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  await p.line(/ecebot serve: SIGTERM, stopping/);
});

test('ecebot serve refuses a bad port and a missing inventory with exit code 2', async () => {
  const bad = ecebot(['serve', '--config', lab.info.inventory, '--port', '99999']);
  expect(await bad.exited).toBe(2);
  expect(bad.stderr()).toContain('--port must be a number from 0 to 65535');
  const none = ecebot(['serve', '--config', join(lab.dir, 'nope.yaml'), '--port', '0']);
  expect(await none.exited).toBe(2);
  expect(none.stderr()).toContain('inventory not found');
});

test('with the bot loaded, other HTTP servers in the process can still chain writeHead', async () => {
  const server = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
  );
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    expect(await fetch(`http://127.0.0.1:${port}/`).then(r => r.text())).toBe('ok');
  } finally {
    await new Promise<void>(r => {
      server.close(() => r());
      server.closeAllConnections();
    });
  }
});
