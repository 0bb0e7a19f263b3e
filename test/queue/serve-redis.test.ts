/**
 * `ecebot serve` with REDIS_URL: the bot queues `check lab` on Redis, the workers of each
 * vantage point (separate processes) answer, and the card posted at once is updated in place
 * with the final verdict. Nothing of the run happens in the bot's own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { suggest } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { QueueConfig } from '../../src/queue/connection';
import { cardTexts } from '../teams/support/adaptive';
import { message, post } from '../teams/support/bot-client';
import { cardOf, FakeConnector } from '../teams/support/fake-connector';
import {
  BIN,
  cleanup,
  freshQueue,
  ROOT,
  spawnWorker,
  stopWorker,
  workerEnv,
  type SpawnedWorker,
} from './support';

let cfg: QueueConfig;
let lab: Lab;
let fake: FakeConnector;
let bot: ChildProcess | undefined;
const workers: SpawnedWorker[] = [];

beforeAll(async () => {
  cfg = freshQueue();
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  fake = await FakeConnector.start();
});

afterAll(async () => {
  if (bot && bot.exitCode === null) bot.kill('SIGKILL');
  for (const w of workers) await stopWorker(w);
  await fake?.close();
  await lab?.stop();
  await cleanup(cfg);
});

test('check lab through Redis: running card at once, final card from the workers', async () => {
  for (const v of ['services-1', 'app-1', 'central'])
    workers.push(await spawnWorker(cfg, v, lab.info.inventory));
  bot = spawn(process.execPath, [BIN, 'serve', '--config', lab.info.inventory, '--port', '0'], {
    cwd: ROOT,
    env: workerEnv(cfg, { ECEBOT_SECRET_KEY: randomBytes(32).toString('base64') }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  bot.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: bot!.stdout! }).on('line', l => {
      lines.push(l);
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m) resolve(m[1]!);
    });
    bot!.once('exit', c => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (lines.some(l => /queue at 127\.0\.0\.1/.test(l))) {
        clearInterval(t);
        resolve();
      }
    }, 50);
    bot!.once('exit', c => reject(new Error(`serve exited ${c}: ${err}`)));
  });

  const from = fake.requests.length;
  const res = await post(url, message(fake.url, { conversationId: 'a:redis-check' }, 'check lab'));
  expect(res.status).toBeLessThan(300);
  const first = await fake.waitFor(
    r => r.conversationId === 'a:redis-check' && r.method === 'POST',
    'the running card',
    from,
  );
  const done = await fake.waitFor(
    r =>
      r.conversationId === 'a:redis-check' &&
      r.method === 'PUT' &&
      cardTexts(cardOf(r)).some(t => /All checks passed/.test(t)),
    'the final card',
    from,
    60_000,
  );
  // Updated in place: the PUT targets the activity the running card was posted as.
  expect(done.activityId).toBe(first.answer);
  // The workers did the observing: each served its vantage point.
  for (const w of workers) expect(w.lines.join('\n')).toMatch(/lab-/);

  bot.kill('SIGTERM');
  expect(await new Promise(r => bot!.once('exit', c => r(c)))).toBe(0);
});
