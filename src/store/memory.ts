/**
 * The in-memory store: the same behaviour as the Redis store, for the demo and one-process
 * trials. State is lost when the process ends; the README says so.
 */
import type { Run } from '../model';
import { summarise, type CardRef, type RunSummary, type Store } from './types';

/** How many runs per environment are kept. */
export const HISTORY_LIMIT = 50;

export class MemoryStore implements Store {
  private readonly runs = new Map<string, Run>();
  private readonly byEnv = new Map<string, string[]>();
  private readonly conversations = new Map<string, unknown>();
  private readonly subs = new Map<string, Set<string>>();
  private readonly mutes = new Map<string, Date>();
  private readonly cardRefs = new Map<string, CardRef[]>();
  private readonly secrets = new Map<string, string>();

  async saveRun(run: Run): Promise<void> {
    this.runs.set(run.id, structuredClone(run));
    const ids = (this.byEnv.get(run.environment) ?? []).filter(i => i !== run.id);
    ids.unshift(run.id);
    for (const old of ids.splice(HISTORY_LIMIT)) this.runs.delete(old);
    this.byEnv.set(run.environment, ids);
  }

  async getRun(id: string): Promise<Run | undefined> {
    const r = this.runs.get(id);
    return r ? structuredClone(r) : undefined;
  }

  async history(environment: string, limit: number): Promise<RunSummary[]> {
    return (this.byEnv.get(environment) ?? [])
      .slice(0, limit)
      .map(id => summarise(this.runs.get(id)!));
  }

  async searchRuns(query: string, limit: number): Promise<RunSummary[]> {
    const q = query.trim().toLowerCase();
    return [...this.runs.values()]
      .filter(
        r => !q || r.id.toLowerCase().startsWith(q) || r.environment.toLowerCase().startsWith(q),
      )
      .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))
      .slice(0, limit)
      .map(summarise);
  }

  async saveConversation(key: string, reference: unknown): Promise<void> {
    this.conversations.set(key, structuredClone(reference));
  }

  async getConversation(key: string): Promise<unknown | undefined> {
    const r = this.conversations.get(key);
    return r === undefined ? undefined : structuredClone(r);
  }

  async subscribe(environment: string, conversation: string): Promise<void> {
    let s = this.subs.get(environment);
    if (!s) this.subs.set(environment, (s = new Set()));
    s.add(conversation);
  }

  async unsubscribe(environment: string, conversation: string): Promise<boolean> {
    return this.subs.get(environment)?.delete(conversation) ?? false;
  }

  async subscribers(environment: string): Promise<string[]> {
    return [...(this.subs.get(environment) ?? [])];
  }

  async subscriptionsOf(conversation: string): Promise<string[]> {
    return [...this.subs.entries()].filter(([, s]) => s.has(conversation)).map(([e]) => e);
  }

  async setMute(environment: string, until: Date | undefined): Promise<void> {
    if (until) this.mutes.set(environment, until);
    else this.mutes.delete(environment);
  }

  async mutedUntil(environment: string): Promise<Date | undefined> {
    const u = this.mutes.get(environment);
    return u && u.getTime() > Date.now() ? u : undefined;
  }

  async addCard(runId: string, card: CardRef): Promise<void> {
    const list = this.cardRefs.get(runId) ?? [];
    if (!list.some(c => c.conversation === card.conversation && c.activityId === card.activityId))
      list.push(card);
    this.cardRefs.set(runId, list);
  }

  async cards(runId: string): Promise<CardRef[]> {
    return [...(this.cardRefs.get(runId) ?? [])];
  }

  async putSecret(name: string, value: string): Promise<void> {
    this.secrets.set(name, value);
  }

  async getSecret(name: string): Promise<string | undefined> {
    return this.secrets.get(name);
  }

  async deleteSecret(name: string): Promise<boolean> {
    return this.secrets.delete(name);
  }

  async close(): Promise<void> {}
}
