/**
 * The Redis key layout, in one place. BullMQ refuses `:` in queue names, so the per-vantage
 * queues use the BullMQ prefix `<prefix>:vantage` and the vantage name as the queue name: their
 * keys are `<prefix>:vantage:<name>:…`, as the design card says.
 */

/** Queue of run parents (assembly) and, under the same prefix, the outbox and schedules. */
export const RUNS_QUEUE = 'runs';
/** Queue of proactive sends (see src/notify/outbox.ts). */
export const OUTBOX_QUEUE = 'outbox';
/** Queue the job schedulers feed (one scheduler per environment with `schedule.every`). */
export const SCHEDULE_QUEUE = 'schedules';

/** BullMQ prefix of the per-vantage queues. */
export function vantagePrefix(prefix: string): string {
  return `${prefix}:vantage`;
}

/** Queue names are vantage names; BullMQ forbids `:` and inventory names never hold one. */
export function vantageQueue(vantage: string): string {
  if (vantage.includes(':')) throw new Error(`vantage names cannot contain ":" (${vantage})`);
  return vantage;
}

/** Plain keys ecebot owns beside the BullMQ ones. */
export const keys = {
  /** Heartbeat of a vantage's workers (a string with a TTL). */
  heartbeat: (p: string, vantage: string) => `${p}:heartbeat:${vantage}`,
  /** Hash vantage → ISO time a worker of it was last seen (no TTL, for "seen since …"). */
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
  /** Which replica owns a run's progress events (and so updates its cards). */
  owner: (p: string, runId: string) => `${p}:run:${runId}:owner`,
};
