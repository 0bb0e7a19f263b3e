/**
 * Durable state behind one interface: runs and their history, conversation references,
 * subscriptions, mute windows, the card each run was posted as, and secrets ecebot keeps
 * (refresh tokens from a Teams sign-in, encrypted at rest by the Redis store). The memory
 * store implements the same interface for the demo and single-process trials; production
 * uses Redis so nothing lives only in process memory.
 */
import type { Run } from '../model';

/** A run without its evidence, for lists. */
export interface RunSummary {
  id: string;
  environment: string;
  status: Run['status'];
  startedAt: string;
  finishedAt: string;
  /** Items that did not pass, with their status. */
  problems: { item: string; status: string }[];
}

export function summarise(run: Run): RunSummary {
  return {
    id: run.id,
    environment: run.environment,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    problems: run.findings
      .filter(f => f.status !== 'pass')
      .map(f => ({ item: f.item, status: f.status })),
  };
}

/** Where a run's card was posted, so it can be updated in place. */
export interface CardRef {
  /** Key of the conversation (see ConversationStore). */
  conversation: string;
  activityId: string;
}

export interface Store {
  /** Keep a finished run (bounded history per environment, with a TTL). */
  saveRun(run: Run): Promise<void>;
  getRun(id: string): Promise<Run | undefined>;
  /** Newest first. */
  history(environment: string, limit: number): Promise<RunSummary[]>;
  /** Runs whose id or environment starts with `query` (case-insensitive), newest first. */
  searchRuns(query: string, limit: number): Promise<RunSummary[]>;

  /** Conversation references (opaque JSON from the Teams layer), by a stable key. */
  saveConversation(key: string, reference: unknown): Promise<void>;
  getConversation(key: string): Promise<unknown | undefined>;

  subscribe(environment: string, conversation: string): Promise<void>;
  unsubscribe(environment: string, conversation: string): Promise<boolean>;
  subscribers(environment: string): Promise<string[]>;
  subscriptionsOf(conversation: string): Promise<string[]>;

  /** Mute alerts for an environment until a time; `undefined` clears. */
  setMute(environment: string, until: Date | undefined): Promise<void>;
  mutedUntil(environment: string): Promise<Date | undefined>;

  /** Remember where a run's card lives (one run may be shown in several conversations). */
  addCard(runId: string, card: CardRef): Promise<void>;
  cards(runId: string): Promise<CardRef[]>;

  /** Secrets ecebot keeps itself (e.g. a refresh token from `signin`); encrypted at rest in Redis. */
  putSecret(name: string, value: string): Promise<void>;
  getSecret(name: string): Promise<string | undefined>;
  /** Remove a kept secret (e.g. `ecebot token delete`); true when there was one. */
  deleteSecret(name: string): Promise<boolean>;

  close(): Promise<void>;
}
