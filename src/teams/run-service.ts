/**
 * The bot's run service without Redis: the in-process service, fed with the refresh tokens
 * kept from Teams sign-ins (`signin ENV MAILBOX`), so a sign-in takes effect on the next run.
 */
import type { Inventory } from '../inventory/load';
import { InProcessRunService } from '../queue/in-process';
import type { Store } from '../store/types';

/** Runs checks in this process with stored sign-in tokens; joins identical runs in flight. */
export class EmbeddedRunService extends InProcessRunService {
  constructor(
    inventory: () => Inventory,
    store: Pick<Store, 'getSecret'>,
    vars: NodeJS.ProcessEnv = process.env,
  ) {
    super(inventory, vars, store);
  }
}
