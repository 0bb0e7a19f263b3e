/**
 * What a run leaves in Redis outside the stored run: a real flow (the lab, the real Redis,
 * BullMQ workers for every vantage point, the assembler, the Redis store), then every key under
 * the test's prefix is read back in full (strings, job hashes with their data and return values,
 * parents' processed hashes, event streams by XRANGE, sets, sorted sets) and searched for the
 * personal data the run observed but its card does not show: the tenant's mailbox and user
 * addresses, sign-in addresses and user agents from Entra's sign-in log, and the transcript
 * lines of exchanges that went well (the card shows transcripts only under failing evidence,
 * src/render/card.ts `evidenceLines`).
 *
 * Only two keys may hold them, on purpose: the run in the store (history, `share`, the support
 * bundle) and the run's result key, read once by the client that waits for it (`ecebot check
 * --json` prints the whole run). Both are the finished run; docs/security.md, "What Redis keeps".
 */
import { Redis } from 'ioredis';
import type { Run } from '../../src/model';
import { loadInventory } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { pickScenarios } from '../../src/lab/scenarios';
import { keys } from '../../src/queue/names';
import { RedisRunService } from '../../src/queue/redis-run-service';
import { renderRunCard } from '../../src/render/card';
import { RedisStore } from '../../src/store/redis';
import { VantageWorker } from '../../src/worker/vantage-worker';
import { cleanup, freshQueue, REDIS_URL } from './support';
import type { QueueConfig } from '../../src/redis/connection';

/** Every value of a key, as text, whatever its type. */
async function dump(r: Redis, key: string): Promise<string> {
  const type = await r.type(key);
  switch (type) {
    case 'string':
      return (await r.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await r.hgetall(key));
    case 'stream':
      return JSON.stringify(await r.xrange(key, '-', '+'));
    case 'list':
      return JSON.stringify(await r.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await r.smembers(key));
    case 'zset':
      return JSON.stringify(await r.zrange(key, '0', '-1'));
    default:
      return '';
  }
}

async function allKeys(r: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out;
}

/** A needle as it appears raw, JSON-escaped once and twice (values nest JSON in JSON). */
function forms(s: string): string[] {
  const once = JSON.stringify(s).slice(1, -1);
  return [s, once, JSON.stringify(once).slice(1, -1)];
}

describe('personal data in Redis beside the stored run', () => {
  let l: Lab;
  let cfg: QueueConfig;
  let r: Redis;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    // A token generated as a workstation user (sign-in rows from 192.0.2.50 as jdoe@) and port
    // 993 refused on services-1 (a failing exchange, whose transcript the card does show).
    l = await startLab({
      scenarios: pickScenarios(
        'ece-token-windows-user,port-993-blocked-on-services',
        () => undefined,
      ),
    });
    r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    r.disconnect();
    await l.stop();
  });
  beforeEach(() => {
    cfg = freshQueue();
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await cleanup(cfg);
  });

  test('job return values, job data, event streams and other keys hold none of what the card does not show', async () => {
    const inv = l.info.inventory;
    for (const vantage of ['lab/services-1', 'lab/app-1', 'central']) {
      const w = new VantageWorker({ vantage, queue: cfg, inventory: () => loadInventory(inv) });
      await w.start();
      closers.push(() => w.close());
    }
    const store = new RedisStore({ queue: cfg, secrets: undefined });
    closers.push(() => store.close());
    const service = new RedisRunService({ queue: cfg, inventory: () => loadInventory(inv), store });
    closers.push(() => service.close());
    await service.ready();
    const h = await service.submit({ environment: 'lab', reason: 'chat' });
    const run: Run = await service.wait(h.runId);
    const stored = await store.getRun(h.runId);
    expect(stored).toEqual(run);

    // What the card shows, in both languages, with the markdown escapes taken off.
    const card = ['en', 'nl']
      .map(lang => JSON.stringify(renderRunCard(run, { lang: lang as 'en' | 'nl' })))
      .join('\n')
      .replace(/\\\\/g, '');
    const onCard = (s: string) => forms(s).some(f => card.includes(f));

    // What the run observed, from the tenant the lab serves and from the stored run.
    const t = l.tenant;
    const addresses = [
      ...t.mailboxes.map(m => m.address),
      ...t.users.map(u => u.userPrincipalName),
      ...t.signIns.map(s => s.userPrincipalName),
    ];
    // The loopback address is every lab endpoint's host, so it says nothing about a person.
    const signIn = t.signIns.flatMap(s =>
      [s.ipAddress, s.userAgent].filter((v): v is string => !!v && v !== '127.0.0.1'),
    );
    const failingLines = new Set(
      run.findings.flatMap(f => f.evidence.filter(e => !e.ok).flatMap(e => e.transcript ?? [])),
    );
    const goodTranscripts = run.findings.flatMap(f =>
      f.evidence
        .filter(e => e.ok)
        .flatMap(e => e.transcript ?? [])
        .filter(line => line.length >= 12 && !failingLines.has(line)),
    );
    const needles = [...new Set([...addresses, ...signIn, ...goodTranscripts])].filter(
      n => !onCard(n),
    );
    // The run did observe such data: the workstation's sign-in address and transcripts of good
    // exchanges (without them this test could not fail). The mailbox addresses this run meets
    // are all on its card, so here they count only should a card leave one out.
    expect(signIn).toContain('192.0.2.50');
    expect(needles).toContain('192.0.2.50');
    expect(goodTranscripts.filter(n => needles.includes(n)).length).toBeGreaterThan(5);

    const allowed = new Set([`${cfg.prefix}:store:run:${run.id}`, keys.result(cfg.prefix, run.id)]);
    const all = await allKeys(r, cfg.prefix);
    // The job hashes and the event streams are there to be searched.
    expect(all).toContain(`${cfg.prefix}:runs:${run.id}`);
    expect(all).toContain(`${cfg.prefix}:runs:events`);
    expect(all).toContain(`${cfg.prefix}:vantage:lab/services-1:events`);
    expect(all.filter(k => allowed.has(k)).sort()).toEqual([...allowed].sort());
    // The vantage points' observations were deleted once the run was assembled.
    expect(all.filter(k => k.includes(':part:'))).toEqual([]);

    const found: string[] = [];
    for (const key of all) {
      if (allowed.has(key)) continue;
      const text = await dump(r, key);
      for (const n of needles) if (forms(n).some(f => text.includes(f))) found.push(`${key}: ${n}`);
    }
    expect(found).toEqual([]);
    // And the allowed keys do hold them: the stored run keeps what share and bundles need.
    const kept = await dump(r, `${cfg.prefix}:store:run:${run.id}`);
    expect(goodTranscripts.some(n => forms(n).some(f => kept.includes(f)))).toBe(true);
  });
});
