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
