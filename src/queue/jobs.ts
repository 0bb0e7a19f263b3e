/**
 * What travels in BullMQ jobs. Never a secret: workers read the inventory and its secret
 * references themselves, so a child carries the environment name, the items and the run id,
 * and returns observations, which probes have already redacted.
 */
import type { ItemId } from '../model';
import type { Observation } from '../model';
import type { RunRequest } from './types';

/**
 * How long a vantage point's part may wait for a worker by default: the submitter writes the
 * deadline into the watch set, and the watchdog gives up on the part after it.
 */
export const DEFAULT_WORKER_DEADLINE_MS = 30_000;

/** Data of a child job: one vantage point's part of a run. */
export interface VantageJobData {
  runId: string;
  environment: string;
  items: ItemId[];
  vantage: string;
}

/** What a vantage worker returns. */
export interface VantageResult {
  vantage: string;
  observations: Observation[];
  /** Which worker observed (host name and process id; no secrets). */
  worker: { host: string; pid: number };
}

/** Data of the parent job: the run as requested. */
export interface RunJobData {
  runId: string;
  environment: string;
  items: ItemId[];
  reason: RunRequest['reason'];
  requestedBy?: RunRequest['requestedBy'];
  /** ISO time the run was submitted (its start). */
  submittedAt: string;
  /** Vantage points that had no live worker at submit time, with the reason. */
  missing: Record<string, string>;
  /** Every vantage point of the run, in order. */
  vantages: string[];
  /** The coalescing key this run holds while in flight. */
  inFlightKey: string;
}

/** Progress event a worker (or the watchdog) publishes on the parent job. */
export interface RunProgressEvent {
  vantage: string;
}

/**
 * The queue identity (`ENV/SERVER` or `central`, see ./names.ts) named by a child job key
 * `<prefix>:vantage:<identity>:<jobId>`.
 */
export function vantageOfChildKey(key: string, prefix: string): string | undefined {
  const head = `${prefix}:vantage:`;
  if (!key.startsWith(head)) return undefined;
  const rest = key.slice(head.length);
  const cut = rest.lastIndexOf(':');
  return cut > 0 ? rest.slice(0, cut) : undefined;
}
