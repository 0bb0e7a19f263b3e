/**
 * The bot's run service without Redis: the in-process service, fed with the refresh tokens
 * kept from Teams sign-ins (`signin ENV MAILBOX`), so a sign-in takes effect on the next run,
 * and keeping the refresh tokens Entra rotates to, so the next run redeems the newest.
 */
import type { Inventory } from '../inventory/load';
import { InProcessRunService } from '../queue/in-process';
import { refreshTokenKeeper, type KeeperLog } from '../store/tokens';
import type { Store } from '../store/types';

/** Logs nothing: for callers without a logger. */
const SILENT: KeeperLog = { warn: () => undefined };

/** Runs checks in this process with stored sign-in tokens; joins identical runs in flight. */
export class EmbeddedRunService extends InProcessRunService {
  constructor(
    inventory: () => Inventory,
    store: Pick<Store, 'getSecret' | 'putSecret'>,
    vars: NodeJS.ProcessEnv = process.env,
    /** Where a rotated token that cannot be kept is reported (never the token). */
    log: KeeperLog = SILENT,
  ) {
    super(inventory, vars, store, refreshTokenKeeper(store, log));
  }
}
