/**
 * The run service: how the bot and the CLI ask for a checklist run and follow it. One
 * interface, two implementations: in-process (no REDIS_URL: demo, one-machine trial, tests)
 * and BullMQ on Redis (a flow per run, one child job per vantage point).
 */
import type { Finding, ItemId, Run } from '../model';

/** Who asked for a run, and why. */
export interface RunRequest {
  environment: string;
  /** Items to run; all when empty. */
  items?: ItemId[];
  reason: 'chat' | 'cli' | 'schedule' | 'rerun';
  /** The person (Teams user id and name) or `schedule`. */
  requestedBy?: { id: string; name?: string };
}

/**
 * At most one run per environment is in flight, whatever its items (each run signs in to
 * Exchange as ECE's mailboxes). A request whose items the running run covers joins it; one that
 * asks for more (or other) items is refused with this error until that run has finished: it
 * names the run, so the caller can show it, and says when to ask again.
 */
export class RunBusyError extends Error {
  override name = 'RunBusyError';
  constructor(
    readonly environment: string,
    /** The run in flight. */
    readonly runId: string,
    /** Its items. */
    readonly items: readonly ItemId[],
  ) {
    super(
      `${environment} is being checked right now (run ${runId}, items ${items.join(', ')}); ask again when it has finished`,
    );
  }
}

/** Whether a run of `held` items answers a request for `wanted` (all items when empty). */
export function covers(
  held: readonly string[],
  wanted: readonly string[],
  all: readonly string[],
): boolean {
  const want = wanted.length ? wanted : all;
  return want.every(i => held.includes(i));
}

/** What `submit` answers. */
export interface RunHandle {
  runId: string;
  /** True when the request joined a run of the same environment already in flight. */
  joined: boolean;
}

/** Progress of one run, emitted as vantage points report. */
export interface RunProgress {
  runId: string;
  environment: string;
  /** Items of the run, in checklist order. */
  items: ItemId[];
  /** Vantage points that have reported so far. */
  reported: string[];
  /** Vantage points still expected. */
  pending: string[];
  /** Final findings of the items that are ready (see runner/progress.ts). */
  findings: Finding[];
}

/** Requests and follows checklist runs. */
export interface RunService {
  /** Queue a run (or join one in flight for the same environment and items). */
  submit(req: RunRequest): Promise<RunHandle>;
  /** Listen to progress of every run; returns an unsubscribe function. */
  onProgress(listener: (p: RunProgress) => void): () => void;
  /** Listen to finished runs; returns an unsubscribe function. */
  onDone(listener: (run: Run) => void): () => void;
  /** Resolve when the run finishes (or at once if it has). */
  wait(runId: string): Promise<Run>;
  close(): Promise<void>;
}
