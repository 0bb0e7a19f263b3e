/**
 * What travels in BullMQ jobs. Never a secret: workers read the inventory and its secret
 * references themselves, so a child carries the environment name, the items and the run id.
 *
 * Never personal data either. A job's return value is kept in its job hash, in its parent's
 * `processed` hash and in its queue's event stream (every `completed` event carries it), for as
 * long as BullMQ keeps each of them. Observations hold what the tenant's servers said: mailbox
 * addresses, sign-in rows with their IP addresses, protocol transcripts. So a worker writes its
 * observations to one key of their own (`keys.part`, short TTL, deleted once the run is
 * assembled) and returns only which vantage point reported, by whom and how many observations;
 * the assembler returns only the run's id and status, and the finished run is read from the
 * result key (`keys.result`) and the store (docs/security.md, "What Redis keeps").
 */
import { z } from 'zod';
import { CODE_TABLE } from '../knowledge/codes';
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

/** What a vantage worker returns (its job's return value): no observations, see above. */
export interface VantageResult {
  vantage: string;
  /** How many observations the worker wrote to its part (`keys.part`). */
  observed: number;
  /** Which worker observed (host name and process id; no secrets). */
  worker: { host: string; pid: number };
}

/** A vantage point's observations for a run, kept under `keys.part` until the run is assembled. */
export interface VantagePart {
  runId: string;
  vantage: string;
  observations: Observation[];
}

/**
 * How long a part is kept when no assembler deletes it (a run given up on): the time a child's
 * job was kept before, and longer than any worker deadline.
 */
export const PART_TTL_MS = 3600_000;

/** What the assembler returns (the parent job's return value): the run's id and verdict only. */
export interface RunDone {
  id: string;
  status: 'pass' | 'warn' | 'fail';
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

/*
 * Return values and parts read back from Redis are parsed with these (../redis/stored.ts). A
 * part's observations are checked as far as the assembler relies on before the rules read them
 * (kind, vantage, code, outcome); the rules read the rest defensively, and a rule that throws
 * on a forged observation fails that run with its reason, nothing else.
 */

const name = z.string().min(1).max(200);

/** A vantage worker's return value. */
export const vantageResultSchema = z.object({
  vantage: name,
  observed: z.number().int().min(0),
  worker: z.object({ host: z.string().max(255), pid: z.number().int() }),
}) satisfies z.ZodType<VantageResult>;

const observationSchema = z.looseObject({
  kind: z.enum([
    'dns',
    'tcp',
    'tls',
    'https',
    'imap',
    'pop3',
    'smtp',
    'entra-token',
    'graph',
    'exo',
  ]),
  vantage: name,
  target: z.string().max(10_000),
  ok: z.boolean(),
  code: z.string().refine(c => Object.hasOwn(CODE_TABLE, c), 'not an ecebot code'),
  stage: z.string().max(200),
  startedAt: z.string().max(40),
  durationMs: z.number(),
  steps: z.array(z.unknown()).max(10_000),
});

/** A vantage point's part. */
export const vantagePartSchema = z
  .object({
    runId: name,
    vantage: name,
    observations: z.array(observationSchema).max(100_000),
  })
  .transform(v => v as unknown as VantagePart);

/** The assembler's return value. */
export const runDoneSchema = z.object({
  id: name,
  status: z.enum(['pass', 'warn', 'fail']),
}) satisfies z.ZodType<RunDone>;
