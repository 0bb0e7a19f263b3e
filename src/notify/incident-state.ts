/**
 * The on-call state: each alert as an incident (open, acknowledged, resolved; by whom and when;
 * notes; where its card was posted; whether it was escalated) and the one-off maintenance
 * windows typed in chat. Kept in Redis, bounded and with a TTL, or in memory for the
 * single-process mode; both behind one interface so the bot, the pipeline and the escalation
 * worker share it.
 *
 * Redis is a trust boundary (anything there may have been written by someone else): what is
 * read back is parsed with a schema, and a record that does not parse is treated as absent.
 * Changes are compare-and-set (a Lua script that writes only if the record is still the one
 * read), so two people pressing Acknowledge at once end with one acknowledgement.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { connect, guardRedis, type QueueConfig } from '../redis/connection';
import type { OneOffWindow } from './windows';

/** An incident's life: open until someone acknowledges it; resolved by a person or recovery. */
export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

/** Who did something, and when (ISO). */
export interface Actor {
  /** The Teams user id (`29:…`), or `ecebot` for what the bot did itself. */
  id: string;
  name: string;
  at: string;
}

/** A note someone added: text as typed (control characters stripped, bounded). */
export interface Note {
  by: string;
  at: string;
  text: string;
}

/** Where a card of the incident was posted. */
export interface Post {
  conversation: string;
  activityId: string;
}

/** One alert card and what happened to it. */
export interface Incident {
  /** `inc-<run id>`: derived from the run that raised it, so a retried job finds it again. */
  id: string;
  environment: string;
  runId: string;
  openedAt: string;
  /** The failing items the alert names. */
  items: string[];
  /** Items that passed again since. */
  recovered: string[];
  /** The alert's lines and first fixes, as rendered when it was raised (English). */
  lines: string[];
  fixes: string[];
  status: IncidentStatus;
  acknowledged?: Actor;
  resolved?: Actor;
  notes: Note[];
  posts: Post[];
  /** When it was escalated (ISO), and to which conversation. */
  escalated?: { at: string; to: string };
  /** Bumped on every change; a card rendered at an older revision is updated once posted. */
  rev: number;
}

/** Bounds: an incident is a card, not a log. */
export const MAX_NOTES = 20;
export const MAX_NOTE_CHARS = 500;
export const MAX_POSTS = 100;
export const MAX_WINDOWS = 20;
/** Incidents are kept 30 days after their last change. */
export const INCIDENT_TTL_MS = 30 * 24 * 3600_000;

const actor = z.object({ id: z.string().max(200), name: z.string().max(200), at: z.string() });
const incidentSchema = z.object({
  id: z.string().max(300),
  environment: z.string().max(200),
  runId: z.string().max(250),
  openedAt: z.string(),
  items: z.array(z.string().max(100)).max(100),
  recovered: z.array(z.string().max(100)).max(100),
  lines: z.array(z.string().max(4000)).max(100),
  fixes: z.array(z.string().max(4000)).max(100),
  status: z.enum(['open', 'acknowledged', 'resolved']),
  acknowledged: actor.optional(),
  resolved: actor.optional(),
  notes: z
    .array(z.object({ by: z.string().max(200), at: z.string(), text: z.string().max(2000) }))
    .max(MAX_NOTES),
  posts: z
    .array(z.object({ conversation: z.string().max(1024), activityId: z.string().max(1024) }))
    .max(MAX_POSTS),
  escalated: z.object({ at: z.string(), to: z.string().max(1024) }).optional(),
  rev: z.number().int().min(0),
});
const windowsSchema = z
  .array(z.object({ kind: z.literal('once'), from: z.string(), to: z.string() }))
  .max(MAX_WINDOWS);

/** The on-call state (Redis or memory). */
export interface IncidentState {
  get(id: string): Promise<Incident | undefined>;
  /** Keep a new incident; false (and nothing changed) when one with its id exists. */
  create(incident: Incident): Promise<boolean>;
  /**
   * Change an incident atomically: `change` gets the current record and returns the next one,
   * or undefined to leave it as it is. Resolves to the record as it now stands and whether it
   * changed; undefined when there is no such incident.
   */
  update(
    id: string,
    change: (current: Incident) => Incident | undefined,
  ): Promise<{ incident: Incident; changed: boolean } | undefined>;
  /** The incident an environment's item was last alerted in. */
  incidentOf(environment: string, item: string): Promise<string | undefined>;
  /** Remember which incident alerted each item. */
  setIncidentOf(environment: string, items: readonly string[], id: string): Promise<void>;
  /** One-off maintenance windows of an environment (ended ones dropped on write). */
  windows(environment: string): Promise<OneOffWindow[]>;
  addWindow(environment: string, w: OneOffWindow, now: Date): Promise<void>;
  clearWindows(environment: string): Promise<void>;
  close(): Promise<void>;
}

/** A change applied, with the revision bumped and the bounds kept. */
function bumped(next: Incident): Incident {
  return {
    ...next,
    notes: next.notes.slice(-MAX_NOTES),
    posts: next.posts.slice(-MAX_POSTS),
    rev: next.rev + 1,
  };
}

/** Windows still to come or open, the new one added, at most MAX_WINDOWS (the latest ones). */
function withWindow(list: OneOffWindow[], w: OneOffWindow, now: Date): OneOffWindow[] {
  return [...list.filter(x => Date.parse(x.to) > now.getTime()), w].slice(-MAX_WINDOWS);
}

/** Parse what was read back; anything else counts as absent. */
function parseIncident(raw: string | null | undefined): Incident | undefined {
  if (!raw) return undefined;
  try {
    const r = incidentSchema.safeParse(JSON.parse(raw));
    return r.success ? (r.data as Incident) : undefined;
  } catch {
    return undefined;
  }
}

function parseWindows(raw: string | null | undefined): OneOffWindow[] {
  if (!raw) return [];
  try {
    const r = windowsSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

/** In process memory: the single-process mode and tests of the rules. */
export class MemoryIncidentState implements IncidentState {
  private readonly incidents = new Map<string, string>();
  private readonly items = new Map<string, string>();
  private readonly wins = new Map<string, OneOffWindow[]>();

  get(id: string): Promise<Incident | undefined> {
    return Promise.resolve(parseIncident(this.incidents.get(id)));
  }

  create(incident: Incident): Promise<boolean> {
    if (this.incidents.has(incident.id)) return Promise.resolve(false);
    this.incidents.set(incident.id, JSON.stringify(incident));
    return Promise.resolve(true);
  }

  update(
    id: string,
    change: (current: Incident) => Incident | undefined,
  ): Promise<{ incident: Incident; changed: boolean } | undefined> {
    const current = parseIncident(this.incidents.get(id));
    if (!current) return Promise.resolve(undefined);
    const next = change(current);
    if (!next) return Promise.resolve({ incident: current, changed: false });
    const b = bumped(next);
    this.incidents.set(id, JSON.stringify(b));
    return Promise.resolve({ incident: b, changed: true });
  }

  incidentOf(environment: string, item: string): Promise<string | undefined> {
    return Promise.resolve(this.items.get(`${environment}\n${item}`));
  }

  setIncidentOf(environment: string, items: readonly string[], id: string): Promise<void> {
    for (const i of items) this.items.set(`${environment}\n${i}`, id);
    return Promise.resolve();
  }

  windows(environment: string): Promise<OneOffWindow[]> {
    return Promise.resolve([...(this.wins.get(environment) ?? [])]);
  }

  addWindow(environment: string, w: OneOffWindow, now: Date): Promise<void> {
    this.wins.set(environment, withWindow(this.wins.get(environment) ?? [], w, now));
    return Promise.resolve();
  }

  clearWindows(environment: string): Promise<void> {
    this.wins.delete(environment);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Write ARGV[2] (with PX ARGV[3]) only if the key still holds ARGV[1] ('' = absent). */
const CAS = `
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/** How often a compare-and-set is retried against concurrent changes before giving up. */
const CAS_TRIES = 20;

/** In Redis, under the queue prefix: `<prefix>:oncall:…`. */
export class RedisIncidentState implements IncidentState {
  private readonly redis: Redis;

  constructor(private readonly queue: QueueConfig) {
    this.redis = connect(queue, 'producer');
  }

  private key(kind: 'inc' | 'items' | 'windows', name: string): string {
    return `${this.queue.prefix}:oncall:${kind}:${name}`;
  }

  private guarded<T>(op: () => Promise<T>): Promise<T> {
    return guardRedis(this.redis, this.queue.url, op);
  }

  async get(id: string): Promise<Incident | undefined> {
    return parseIncident(await this.guarded(() => this.redis.get(this.key('inc', id))));
  }

  async create(incident: Incident): Promise<boolean> {
    const r = await this.guarded(() =>
      this.redis.set(
        this.key('inc', incident.id),
        JSON.stringify(incident),
        'PX',
        INCIDENT_TTL_MS,
        'NX',
      ),
    );
    return r === 'OK';
  }

  async update(
    id: string,
    change: (current: Incident) => Incident | undefined,
  ): Promise<{ incident: Incident; changed: boolean } | undefined> {
    const key = this.key('inc', id);
    for (let i = 0; i < CAS_TRIES; i++) {
      const raw = await this.guarded(() => this.redis.get(key));
      const current = parseIncident(raw);
      if (!current || !raw) return undefined;
      const next = change(current);
      if (!next) return { incident: current, changed: false };
      const b = bumped(next);
      const ok = await this.guarded(() =>
        this.redis.eval(CAS, 1, key, raw, JSON.stringify(b), String(INCIDENT_TTL_MS)),
      );
      if (ok === 1) return { incident: b, changed: true };
    }
    throw new Error(`incident ${id} kept changing under ${CAS_TRIES} tries; try again`);
  }

  async incidentOf(environment: string, item: string): Promise<string | undefined> {
    const v = await this.guarded(() => this.redis.hget(this.key('items', environment), item));
    return v ?? undefined;
  }

  async setIncidentOf(environment: string, items: readonly string[], id: string): Promise<void> {
    if (!items.length) return;
    const key = this.key('items', environment);
    await this.guarded(() =>
      this.redis
        .multi()
        .hset(key, Object.fromEntries(items.map(i => [i, id])))
        .pexpire(key, INCIDENT_TTL_MS)
        .exec(),
    );
  }

  async windows(environment: string): Promise<OneOffWindow[]> {
    return parseWindows(await this.guarded(() => this.redis.get(this.key('windows', environment))));
  }

  async addWindow(environment: string, w: OneOffWindow, now: Date): Promise<void> {
    const key = this.key('windows', environment);
    for (let i = 0; i < CAS_TRIES; i++) {
      const raw = await this.guarded(() => this.redis.get(key));
      const list = withWindow(parseWindows(raw), w, now);
      // Kept until the last window ends (and a day more, for `status` to show it ended).
      const ttl = Math.max(...list.map(x => Date.parse(x.to))) - now.getTime() + 86_400_000;
      const ok = await this.guarded(() =>
        this.redis.eval(CAS, 1, key, raw ?? '', JSON.stringify(list), String(ttl)),
      );
      if (ok === 1) return;
    }
    throw new Error(`the windows of ${environment} kept changing; try again`);
  }

  async clearWindows(environment: string): Promise<void> {
    await this.guarded(() => this.redis.del(this.key('windows', environment)));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
