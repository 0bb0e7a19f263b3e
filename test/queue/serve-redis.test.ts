/**
 * `ecebot serve` with REDIS_URL: the bot queues `check lab` on Redis, the workers of each
 * vantage point (separate processes) answer, and the card posted at once is updated in place
 * with the final verdict. Nothing of the run happens in the bot's own process.
 */
import { suggest } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import type { QueueConfig } from '../../src/redis/connection';
import { cardTexts } from '../teams/support/adaptive';
import { message, post } from '../teams/support/bot-client';
import { cardOf, FakeConnector } from '../teams/support/fake-connector';
import {
  cleanup,
  freshQueue,
  spawnServe,
  spawnWorker,
  stopWorker,
  type SpawnedServe,
  type SpawnedWorker,
} from './support';

let cfg: QueueConfig;
let lab: Lab;
let fake: FakeConnector;
let bot: SpawnedServe | undefined;
const workers: SpawnedWorker[] = [];

beforeAll(async () => {
  cfg = freshQueue();
  lab = await startLab({ scenarios: pickScenarios('healthy', suggest) });
  fake = await FakeConnector.start();
});

afterAll(async () => {
  if (bot && bot.child.exitCode === null) bot.child.kill('SIGKILL');
  for (const w of workers) await stopWorker(w);
  await fake?.close();
  await lab?.stop();
  await cleanup(cfg);
});

test('check lab through Redis: running card at once, final card from the workers', async () => {
  for (const v of ['services-1', 'app-1', 'central'])
    workers.push(await spawnWorker(cfg, v, lab.info.inventory));
  bot = await spawnServe(cfg, lab.info.inventory);
  const { url } = bot;

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

  bot.child.kill('SIGTERM');
  expect(await bot.exited).toBe(0);
});
