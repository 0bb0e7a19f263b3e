/**
 * The Redis store: everything the bot must remember, in Redis and nowhere else (anchors.md,
 * style lesson 10), so any replica answers `status` and `history` and nothing is lost when a
 * replica restarts. History is bounded per environment and every run expires after a TTL;
 * secrets are sealed with AES-256-GCM (./crypto.ts) and refused without a key.
 *
 * Keys, all under `<prefix>:store:`: `run:<id>` (JSON, TTL), `summary:<id>` (JSON, TTL),
 * `history:<env>` and `runs` (sorted sets by finish time), `conversations` (hash),
 * `subs:<env>` / `conv:<key>` (sets), `mute:<env>` (expires at the mute's end),
 * `cards:<runId>` (set, TTL), `secrets` (hash of sealed values).
 *
 * Values read back are checked (../redis/stored.ts): a run that is not one (`getRun`) is an
 * error naming the key; a bad summary, card reference, subscription member or mute is skipped
 * with a warning, as a list or a mute can do without it; a conversation reference that is not
 * JSON comes back as its text, which src/teams/conversations.ts reports as malformed.
 */
import type { Redis } from 'ioredis';
import type { Run } from '../model';
import type { QueueLog } from '../queue/log';
import { connect, firstConnection, guardRedis, type QueueConfig } from '../redis/connection';
import { parseJsonSafely, parseStored, StoredDataError, tryStored } from '../redis/stored';
import { noKeyError, SecretBox } from './crypto';
import { HISTORY_LIMIT } from './memory';
import { cardRefSchema, runSchema, summarySchema } from './schemas';
import { summarise, type CardRef, type RunSummary, type Store } from './types';

/** Runs (and their cards) are kept this long by default. */
const RUN_TTL_MS = 30 * 24 * 3600_000;
/** The cross-environment index used by `searchRuns` keeps this many runs. */
const SEARCH_LIMIT = 1000;

/** Replace hash field ARGV[1] by ARGV[3] only while it still holds ARGV[2] (compare-and-set). */
const RESEAL = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return -1`;

/** Options of the Redis store. */
export interface RedisStoreOptions {
  queue: QueueConfig;
  /** Runs kept per environment (default 50, as the memory store). */
  historyLimit?: number;
  /** How long a run is kept (default 30 days). */
  runTtlMs?: number;
  /** The box for secrets; `undefined` refuses `putSecret` (default: from ECEBOT_SECRET_KEY). */
  secrets?: SecretBox;
  /** Where ECEBOT_SECRET_KEY is read when `secrets` is not given. */
  vars?: NodeJS.ProcessEnv;
  /** Where skipped values are reported (a warning each; silent by default). */
  log?: Pick<QueueLog, 'warn'>;
}

/** Longest conversation key accepted back from a set (Teams conversation ids are far shorter). */
const MEMBER_MAX = 2000;

export class RedisStore implements Store {
  private readonly redis: Redis;
  private readonly p: string;
  private readonly limit: number;
  private readonly ttl: number;
  private readonly box: SecretBox | undefined;

  constructor(private readonly opts: RedisStoreOptions) {
    // The key is checked before connecting: a bad key stops here without a dangling client.
    this.box = 'secrets' in opts ? opts.secrets : SecretBox.fromEnv(opts.vars ?? process.env);
    this.p = `${opts.queue.prefix}:store`;
    this.limit = opts.historyLimit ?? HISTORY_LIMIT;
    this.ttl = opts.runTtlMs ?? RUN_TTL_MS;
    this.redis = connect(opts.queue, 'producer');
  }

  /** Resolve once connected (or after `timeoutMs`; the next call then says unavailable). */
  async ready(timeoutMs = 5000): Promise<void> {
    await firstConnection(this.redis, timeoutMs);
  }

  private skip(err: StoredDataError): void {
    this.opts.log?.warn({ err }, 'stored value skipped');
  }

  /** Members of a set of conversation keys or environment names that look like one. */
  private members(key: string, raw: string[]): string[] {
    const ok = raw.filter(m => m.length > 0 && m.length <= MEMBER_MAX && !/\p{Cc}/u.test(m));
    if (ok.length < raw.length)
      this.skip(new StoredDataError(key, 'a set member', `${raw.length - ok.length} not a name`));
    return ok.sort();
  }

  private run<T>(op: (r: Redis) => Promise<T>): Promise<T> {
    return guardRedis(this.redis, this.opts.queue.url, () => op(this.redis));
  }

  async saveRun(run: Run): Promise<void> {
    const at = Date.parse(run.finishedAt) || Date.now();
    const hist = `${this.p}:history:${run.environment}`;
    const all = `${this.p}:runs`;
    await this.run(async r => {
      await r
        .multi()
        .set(`${this.p}:run:${run.id}`, JSON.stringify(run), 'PX', this.ttl)
        .set(`${this.p}:summary:${run.id}`, JSON.stringify(summarise(run)), 'PX', this.ttl)
        .zadd(hist, at, run.id)
        .zadd(all, at, run.id)
        .pexpire(hist, this.ttl)
        .pexpire(all, this.ttl)
        .exec();
      // Bounded history: drop the oldest beyond the limit, with their data.
      const dropped = await r.zrange(hist, 0, String(-(this.limit + 1)));
      if (dropped.length) {
        const m = r
          .multi()
          .zrem(hist, ...dropped)
          .zrem(all, ...dropped);
        for (const id of dropped) m.del(`${this.p}:run:${id}`, `${this.p}:summary:${id}`);
        await m.exec();
      }
      await r.zremrangebyrank(all, 0, -(SEARCH_LIMIT + 1));
    });
  }

  /** The run, checked; throws StoredDataError when the value is not that run. */
  async getRun(id: string): Promise<Run | undefined> {
    const key = `${this.p}:run:${id}`;
    const s = await this.run(r => r.get(key));
    if (s === null) return undefined;
    const run = parseStored(runSchema, s, key, 'a stored run');
    if (run.id !== id) throw new StoredDataError(key, 'a stored run', `it is run ${run.id}`);
    return run;
  }

  /** Summaries for ids, newest first, skipping runs that expired meanwhile. */
  private async summaries(ids: string[]): Promise<RunSummary[]> {
    if (!ids.length) return [];
    const keys = ids.map(id => `${this.p}:summary:${id}`);
    const raw = await this.run(r => r.mget(...keys));
    const out: RunSummary[] = [];
    raw.forEach((s, i) => {
      const v = s
        ? tryStored(summarySchema, s, keys[i]!, 'a run summary', e => this.skip(e))
        : undefined;
      if (v) out.push(v);
    });
    return out;
  }

  async history(environment: string, limit: number): Promise<RunSummary[]> {
    if (limit <= 0) return [];
    const ids = await this.run(r => r.zrevrange(`${this.p}:history:${environment}`, 0, limit - 1));
    return this.summaries(ids);
  }

  async searchRuns(query: string, limit: number): Promise<RunSummary[]> {
    if (limit <= 0) return [];
    const q = query.trim().toLowerCase();
    const ids = await this.run(r => r.zrevrange(`${this.p}:runs`, 0, SEARCH_LIMIT - 1));
    const all = await this.summaries(ids);
    return all
      .filter(
        s => !q || s.id.toLowerCase().startsWith(q) || s.environment.toLowerCase().startsWith(q),
      )
      .slice(0, limit);
  }

  async saveConversation(key: string, reference: unknown): Promise<void> {
    await this.run(r => r.hset(`${this.p}:conversations`, key, JSON.stringify(reference)));
  }

  async getConversation(key: string): Promise<unknown | undefined> {
    const s = await this.run(r => r.hget(`${this.p}:conversations`, key));
    if (s === null) return undefined;
    try {
      return parseJsonSafely(s);
    } catch {
      // Not JSON: handed on as text, which the reader's schema reports as a malformed record.
      this.skip(
        new StoredDataError(`${this.p}:conversations ${key}`, 'a conversation', 'not JSON'),
      );
      return s;
    }
  }

  async subscribe(environment: string, conversation: string): Promise<void> {
    await this.run(r =>
      r
        .multi()
        .sadd(`${this.p}:subs:${environment}`, conversation)
        .sadd(`${this.p}:conv:${conversation}`, environment)
        .exec(),
    );
  }

  async unsubscribe(environment: string, conversation: string): Promise<boolean> {
    const res = await this.run(r =>
      r
        .multi()
        .srem(`${this.p}:subs:${environment}`, conversation)
        .srem(`${this.p}:conv:${conversation}`, environment)
        .exec(),
    );
    return Number(res?.[0]?.[1] ?? 0) === 1;
  }

  async subscribers(environment: string): Promise<string[]> {
    const key = `${this.p}:subs:${environment}`;
    return this.members(key, await this.run(r => r.smembers(key)));
  }

  async subscriptionsOf(conversation: string): Promise<string[]> {
    const key = `${this.p}:conv:${conversation}`;
    return this.members(key, await this.run(r => r.smembers(key)));
  }

  async setMute(environment: string, until: Date | undefined): Promise<void> {
    const key = `${this.p}:mute:${environment}`;
    await this.run(async r => {
      // The key expires when the mute ends, so an old mute never lingers.
      if (until && until.getTime() > Date.now())
        await r.set(key, until.toISOString(), 'PXAT', until.getTime());
      else await r.del(key);
    });
  }

  async mutedUntil(environment: string): Promise<Date | undefined> {
    const key = `${this.p}:mute:${environment}`;
    const s = await this.run(r => r.get(key));
    if (!s) return undefined;
    // Written as an ISO time (setMute); anything else is not a mute, and alerts go out.
    const d = /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(s) ? new Date(s) : undefined;
    if (!d || Number.isNaN(d.getTime())) {
      this.skip(new StoredDataError(key, 'a mute', 'not an ISO time'));
      return undefined;
    }
    return d.getTime() > Date.now() ? d : undefined;
  }

  async addCard(runId: string, card: CardRef): Promise<void> {
    const key = `${this.p}:cards:${runId}`;
    const member = JSON.stringify({ conversation: card.conversation, activityId: card.activityId });
    await this.run(r => r.multi().sadd(key, member).pexpire(key, this.ttl).exec());
  }

  async cards(runId: string): Promise<CardRef[]> {
    const key = `${this.p}:cards:${runId}`;
    const members = await this.run(r => r.smembers(key));
    return members
      .map(m => tryStored(cardRefSchema, m, key, 'a card reference', e => this.skip(e)))
      .filter((c): c is CardRef => !!c);
  }

  async putSecret(name: string, value: string): Promise<void> {
    if (!this.box) throw noKeyError(name);
    const sealed = this.box.seal(name, value);
    await this.run(r => r.hset(`${this.p}:secrets`, name, sealed));
  }

  async getSecret(name: string): Promise<string | undefined> {
    const sealed = await this.run(r => r.hget(`${this.p}:secrets`, name));
    if (sealed === null) return undefined;
    if (!this.box)
      throw new Error(`secret ${name} is stored sealed, but ECEBOT_SECRET_KEY is not set here`);
    const { value, stale } = this.box.unseal(name, sealed);
    // Opened with an old key (or sealed before key ids): re-seal it with the current key now, so
    // ECEBOT_SECRET_KEY_OLD can be dropped once every value was read once (docs/deployment.md).
    // Only if the value is still the one read: a newer token written meanwhile must not be
    // replaced by this older one. A failed re-seal costs nothing: the next read tries again.
    if (stale)
      await this.resealIfUnchanged(name, sealed, this.box.seal(name, value)).catch(() => false);
    return value;
  }

  /**
   * Replace secret `name` by `fresh` only while it still holds `was` (compare-and-set in one
   * script): true when replaced.
   */
  async resealIfUnchanged(name: string, was: string, fresh: string): Promise<boolean> {
    const n = await this.run(r => r.eval(RESEAL, 1, `${this.p}:secrets`, name, was, fresh));
    return n !== -1;
  }

  /** Remove a kept secret; true when there was one. */
  async deleteSecret(name: string): Promise<boolean> {
    return (await this.run(r => r.hdel(`${this.p}:secrets`, name))) === 1;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
