/**
 * The in-flight registry: one Redis key per environment names the run in flight and its items,
 * so a request it covers joins it and any other waits (./types.ts RunBusyError): never two runs
 * of one environment at once, whatever items a client asks for.
 *
 * The key is written by the client that submits and cleared by the assembler that finishes the
 * run, each with a compare-and-set script (./scripts.ts), so neither ever clears a newer run's
 * key. A key whose run finished without clearing it (an assembler killed between the two) or
 * vanished (Redis restarted without persistence) is taken over by the next request.
 */
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { isItemId, itemIds } from '../checklist/items';
import type { ItemId } from '../model';
import { covers } from './types';
import type { QueueLog } from './log';
import type { ScriptedRedis } from './scripts';

/** An in-flight key that names no job yet is trusted this long (the flow is being added). */
const IN_FLIGHT_GRACE_MS = 10_000;

/** What an in-flight key holds. */
interface InFlightValue {
  runId: string;
  at: number;
  /** The run's items (absent in keys written before: then every item). */
  items?: ItemId[];
}

/** A run id as newRunId makes it: `<env>-<yyyymmddhhmmss>-<4 hex>`. */
const RUN_ID = /^([A-Za-z0-9_.-]+)-\d{14}-[0-9a-f]{4}$/;

const inFlightSchema = z.object({
  runId: z.string().max(200).regex(RUN_ID),
  at: z.number().finite(),
  // Item ids only: a value naming anything else is not one ecebot wrote.
  items: z
    .array(z.string().refine(isItemId))
    .max(100)
    .optional()
    .transform(v => v as ItemId[] | undefined),
});

/**
 * The value read back from Redis, when it is one ecebot writes for the same environment as
 * `runId`. Redis is a trust boundary: a forged value naming another environment's run must not
 * make a requester join (and be shown) that run; a garbled one must not fail every submit.
 */
function heldValue(cur: string, runId: string): InFlightValue | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(cur);
  } catch {
    return undefined;
  }
  const parsed = inFlightSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const env = RUN_ID.exec(runId)?.[1];
  return env !== undefined && RUN_ID.exec(parsed.data.runId)?.[1] === env ? parsed.data : undefined;
}

/**
 * A claim: the value written (to release it if the submit fails), the run joined (its items
 * cover the request), or the run in flight that does not (`busy`).
 */
export type Claim =
  { claimed: string } | { joined: string } | { busy: { runId: string; items: ItemId[] } };

export class InFlightRegistry {
  constructor(
    private readonly redis: ScriptedRedis,
    /** The runs queue, to tell a live holder from a finished or vanished one. */
    private readonly runs: Pick<Queue, 'getJobState'>,
    private readonly log: QueueLog,
  ) {}

  /**
   * Claim `key` (an environment's) for `runId` running `items` for `ttlMs`; or join the run
   * already holding it when its items cover `items`; or name it as busy.
   */
  async claim(key: string, runId: string, items: ItemId[], ttlMs: number): Promise<Claim> {
    const at = Date.now();
    const ttl = String(ttlMs);
    const mine = JSON.stringify({ runId, at, items } satisfies InFlightValue);
    const cur = await this.redis.ecebotClaimOrJoin(key, mine, ttl);
    if (!cur) return { claimed: mine };
    const held = heldValue(cur, runId);
    if (!held) {
      // Not a value ecebot wrote for this environment: never joined, taken over (no value logged).
      this.log.warn({ key }, 'in-flight key holds no run of this environment; taking it over');
      const took = await this.redis.ecebotReplaceIf(key, cur, mine, ttl);
      return took === 1 ? { claimed: mine } : this.claim(key, runId, items, ttlMs);
    }
    const state = await this.runs.getJobState(held.runId);
    const stale =
      state === 'completed' ||
      state === 'failed' ||
      (state === 'unknown' && at - held.at > IN_FLIGHT_GRACE_MS);
    if (!stale) {
      const heldItems = held.items ?? itemIds();
      return covers(heldItems, items, itemIds())
        ? { joined: held.runId }
        : { busy: { runId: held.runId, items: heldItems } };
    }
    // The holder finished without releasing (a crash) or vanished (Redis restarted): take over.
    this.log.info({ key, runId: held.runId, state }, 'taking over a stale in-flight key');
    const took = await this.redis.ecebotReplaceIf(key, cur, mine, ttl);
    return took === 1 ? { claimed: mine } : this.claim(key, runId, items, ttlMs);
  }

  /**
   * Give a claim back after the submit failed. Best effort: the submit's own error is what the
   * caller reports, and a key left behind names a job that does not exist, which the next
   * request takes over once the grace period has passed.
   */
  async abandon(key: string, claimed: string): Promise<void> {
    try {
      await this.redis.ecebotReplaceIf(key, claimed, '', '0');
    } catch (err) {
      this.log.warn({ err, key }, 'could not release the in-flight key of a failed submit');
    }
  }

  /** Release `key` if it still names `runId` (the run finished). */
  async release(key: string, runId: string): Promise<void> {
    const cur = await this.redis.get(key);
    if (!cur) return;
    const held = heldValue(cur, runId);
    if (held?.runId === runId) await this.redis.ecebotReplaceIf(key, cur, '', '0');
  }
}
