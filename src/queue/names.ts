/**
 * The Redis key layout, in one place. BullMQ refuses `:` in queue names, so the per-vantage
 * queues use the BullMQ prefix `<prefix>:vantage` and the vantage's queue identity as the queue
 * name: their keys are `<prefix>:vantage:<identity>:…`.
 *
 * A queue identity is `ENV/SERVER` for an ECE server and `central` for the central vantage.
 * Server names are unique only within an environment: two customers may both call their
 * services server `services-1`, and a shared queue would let one customer's worker probe the
 * other customer's tenant from the wrong network. `central` reaches Entra, Graph and Exchange
 * Online only, from wherever it runs, so every environment shares it.
 */
import { CENTRAL } from '../model';

/** Queue of run parents (assembly) and, under the same prefix, the outbox and schedules. */
export const RUNS_QUEUE = 'runs';
/** Queue of proactive sends (see src/notify/outbox.ts). */
export const OUTBOX_QUEUE = 'outbox';
/** Queue the job schedulers feed (one scheduler per environment with `schedule.every`). */
export const SCHEDULE_QUEUE = 'schedules';

/**
 * Events kept per queue in BullMQ's event stream (`<queue>:events`). BullMQ trims each stream
 * to `streams.events.maxLen` (approximately, XADD MAXLEN ~), 10,000 by default, and every
 * `completed` event carries the job's return value: a run's id and status on `runs`, a vantage
 * point's name and observation count on its queue (./jobs.ts keeps observations out of return
 * values). Readers follow the stream live (QueueEvents reads from `$`), and a missed event is
 * made up for by polling the stored result, so a short stream loses nothing. The value is
 * written into each queue's meta by every Queue opened with it (see `streamOptions`).
 */
export const EVENTS_MAX_LEN = 200;

/** Queue options that bound the queue's event stream (BullMQ 6 `streams.events.maxLen`). */
export const streamOptions = { streams: { events: { maxLen: EVENTS_MAX_LEN } } } as const;

/** BullMQ prefix of the per-vantage queues. */
export function vantagePrefix(prefix: string): string {
  return `${prefix}:vantage`;
}

/**
 * The queue identity of a run's vantage point: `central` (shared), or `ENV/SERVER`. Inventory
 * names never hold `/` or `:` (src/inventory/schema.ts), so the identity parses back uniquely.
 */
export function vantageId(environment: string, vantage: string): string {
  if (vantage === CENTRAL) return CENTRAL;
  for (const n of [environment, vantage])
    if (!n || n.includes('/') || n.includes(':'))
      throw new Error(`environment and server names cannot contain "/" or ":" (${n})`);
  return `${environment}/${vantage}`;
}

/** A queue identity split again: the environment (none for `central`) and the vantage name. */
export function parseVantageId(id: string): { environment?: string; vantage: string } {
  const cut = id.indexOf('/');
  if (cut < 0) return { vantage: id };
  return { environment: id.slice(0, cut), vantage: id.slice(cut + 1) };
}

/** Queue names are queue identities; BullMQ forbids `:` and inventory names never hold one. */
export function vantageQueue(id: string): string {
  if (id.includes(':')) throw new Error(`vantage names cannot contain ":" (${id})`);
  return id;
}

/** Plain keys ecebot owns beside the BullMQ ones. */
export const keys = {
  /** Heartbeat of a vantage's workers, by queue identity (a string with a TTL). */
  heartbeat: (p: string, id: string) => `${p}:heartbeat:${id}`,
  /** Hash queue identity → ISO time a worker of it was last seen (no TTL, for "seen since …"). */
  lastSeen: (p: string) => `${p}:last-seen`,
  /**
   * Heartbeat of the assemblers (`ecebot serve`, `ecebot assembler`): one string with a TTL that
   * every live assembler refreshes, so a client can tell "nobody will assemble this run".
   */
  assemblerHeartbeat: (p: string) => `${p}:assembler:heartbeat`,
  /** ISO time an assembler was last seen (no TTL, for "none seen since …"). */
  assemblerLastSeen: (p: string) => `${p}:assembler:last-seen`,
  /**
   * The run in flight for an environment, whatever its items: at most one per environment
   * (./types.ts RunBusyError). Environment names are case-insensitive in the inventory.
   */
  inFlight: (p: string, environment: string) => `${p}:inflight:${environment.toLowerCase()}`,
  /** Hash vantage → reason, for vantage points that ended without observations. */
  missing: (p: string, runId: string) => `${p}:run:${runId}:missing`,
  /** Sorted set of runs in flight, scored by their worker deadline (epoch ms). */
  watch: (p: string) => `${p}:runs:watch`,
  /** The finished run (JSON), kept a while for `wait` after the event has passed. */
  result: (p: string, runId: string) => `${p}:run:${runId}:result`,
  /**
   * A vantage point's observations for a run (JSON `VantagePart`, TTL, deleted once assembled):
   * under the vantage's own queue keys, which its worker's ACL user may write (src/redis/acl.ts).
   */
  part: (p: string, id: string, runId: string) => `${vantagePrefix(p)}:${id}:part:${runId}`,
  /** Which replica owns a run's progress events (and so updates its cards). */
  owner: (p: string, runId: string) => `${p}:run:${runId}:owner`,
};
