/**
 * The bot as the end-to-end tests run it: the real restify + CloudAdapter server on a free
 * loopback port, the in-process run service and a memory store behind it, and a fake Bot
 * Connector to record what it sends.
 */
import type { Inventory } from '../../../src/inventory/load';
import { MemoryStore } from '../../../src/store/memory';
import { EmbeddedRunService } from '../../../src/teams/run-service';
import { startBotServer, type BotServer, type BotServerOptions } from '../../../src/teams/server';
import { FakeConnector, type Channels } from './fake-connector';

/** A running bot and what it runs on. */
export interface BotRig {
  fake: FakeConnector;
  store: MemoryStore;
  runs: EmbeddedRunService;
  bot: BotServer;
  /** Stop the bot, then the run service, then the fake connector. */
  close(): Promise<void>;
}

/**
 * Start the fake connector (answering for `channels`), the run service and the bot. The bot
 * gets no variables (local mode) and a free port unless `server` says otherwise.
 */
export async function startBotRig(
  inventory: () => Inventory,
  o: {
    channels?: Channels;
    server?: Partial<Omit<BotServerOptions, 'inventory' | 'store' | 'runs'>>;
  } = {},
): Promise<BotRig> {
  const fake = await FakeConnector.start(o.channels);
  const store = new MemoryStore();
  const runs = new EmbeddedRunService(inventory, store, {});
  let bot: BotServer;
  try {
    bot = await startBotServer({ inventory, store, runs, vars: {}, port: 0, ...o.server });
  } catch (err) {
    await runs.close();
    await fake.close();
    throw err;
  }
  return {
    fake,
    store,
    runs,
    bot,
    async close() {
      await bot.close();
      await runs.close();
      await fake.close();
    },
  };
}
