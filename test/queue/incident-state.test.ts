/**
 * The on-call state, on real Redis (random prefix) and in memory: the same rules for both.
 * Two people pressing Acknowledge at once end with one acknowledgement (compare-and-set); what
 * Redis holds is parsed before use (a record that does not parse is no incident); notes and
 * posts are bounded; records expire; one-off windows that ended are dropped.
 */
import { Redis } from 'ioredis';
import { acknowledge, addNote, openIncident } from '../../src/notify/incident';
import {
  INCIDENT_TTL_MS,
  MAX_NOTES,
  MemoryIncidentState,
  RedisIncidentState,
  type IncidentState,
} from '../../src/notify/incident-state';
import { durationMs, onCallConfigOf } from '../../src/notify/oncall-config';
import type { QueueConfig } from '../../src/redis/connection';
import { cleanup, findingOf, freshQueue } from './support';

const T0 = new Date(Date.UTC(2026, 11, 1, 10));
const fresh = (run = 'prod-1') =>
  openIncident(
    'prod',
    run,
    [{ kind: 'alert', item: 'network', finding: findingOf('network', 'fail'), failures: 2 }],
    T0,
  );
const by = (name: string) => ({ id: `29:${name}`, name, at: T0.toISOString() });

describe.each(['memory', 'redis'] as const)('%s state', kind => {
  let cfg: QueueConfig;
  let a: IncidentState;
  let b: IncidentState;

  beforeEach(() => {
    cfg = freshQueue();
    if (kind === 'redis') {
      a = new RedisIncidentState(cfg);
      b = new RedisIncidentState(cfg);
    } else a = b = new MemoryIncidentState();
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await cleanup(cfg);
  });

  test('an incident is created once; a second create with its id changes nothing', async () => {
    const i = fresh();
    expect(await a.create(i)).toBe(true);
    expect(await b.create({ ...i, items: ['token'] })).toBe(false);
    expect((await b.get(i.id))?.items).toEqual(['network']);
  });

  test('ten acknowledgements at once, from two connections: one wins, the rest see it', async () => {
    const i = fresh();
    await a.create(i);
    const names = Array.from({ length: 10 }, (_, n) => `user${n}`);
    const results = await Promise.all(
      names.map((n, k) => (k % 2 ? a : b).update(i.id, cur => acknowledge(cur, by(n)))),
    );
    expect(results.filter(r => r?.changed)).toHaveLength(1);
    const winner = results.find(r => r?.changed)!.incident.acknowledged!.name;
    expect((await a.get(i.id))?.acknowledged?.name).toBe(winner);
    expect((await a.get(i.id))?.rev).toBe(1);
  });

  test('notes are kept up to the bound, the latest ones', async () => {
    const i = fresh();
    await a.create(i);
    for (let n = 0; n < MAX_NOTES + 5; n++)
      await a.update(i.id, cur =>
        addNote(cur, { by: 'Alex', at: T0.toISOString(), text: `n${n}` }),
      );
    const notes = (await b.get(i.id))!.notes;
    expect(notes).toHaveLength(MAX_NOTES);
    expect(notes.at(-1)?.text).toBe(`n${MAX_NOTES + 4}`);
    expect(notes[0]?.text).toBe('n5');
  });

  test('items point at the incident that alerted them', async () => {
    await a.setIncidentOf('prod', ['network', 'token'], 'inc-prod-1');
    expect(await b.incidentOf('prod', 'token')).toBe('inc-prod-1');
    expect(await b.incidentOf('prod', 'license')).toBeUndefined();
    expect(await b.incidentOf('lab', 'token')).toBeUndefined();
  });

  test('one-off windows: ended ones are dropped when one is added; off clears them', async () => {
    const now = new Date();
    const iso = (h: number) => new Date(now.getTime() + h * 3600_000).toISOString();
    await a.addWindow(
      'prod',
      { kind: 'once', from: iso(-5), to: iso(-4) },
      new Date(now.getTime() - 5 * 3600_000),
    );
    await a.addWindow('prod', { kind: 'once', from: iso(1), to: iso(2) }, now);
    expect(await b.windows('prod')).toEqual([{ kind: 'once', from: iso(1), to: iso(2) }]);
    expect(await b.windows('lab')).toEqual([]);
    await b.clearWindows('prod');
    expect(await a.windows('prod')).toEqual([]);
  });

  if (kind === 'redis')
    test('Redis: records expire, and one that does not parse is no incident', async () => {
      const i = fresh();
      await a.create(i);
      const r = new Redis(cfg.url);
      try {
        const key = `${cfg.prefix}:oncall:inc:${i.id}`;
        const ttl = await r.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(INCIDENT_TTL_MS);
        await r.set(key, JSON.stringify({ ...i, status: 'pwned' }));
        expect(await a.get(i.id)).toBeUndefined();
        expect(await a.update(i.id, cur => acknowledge(cur, by('x')))).toBeUndefined();
        await r.set(key, '{not json');
        expect(await a.get(i.id)).toBeUndefined();
        await r.set(
          `${cfg.prefix}:oncall:windows:prod`,
          JSON.stringify([{ kind: 'once', from: 1 }]),
        );
        expect(await a.windows('prod')).toEqual([]);
      } finally {
        r.disconnect();
      }
    });
});

describe('inventory alerts → on-call settings', () => {
  test('durations', () => {
    expect(durationMs('30m')).toBe(30 * 60_000);
    expect(durationMs('4h')).toBe(4 * 3600_000);
    expect(durationMs('1d')).toBe(86_400_000);
    expect(durationMs('2s')).toBe(2000);
  });

  test('escalation defaults to 30 minutes when only the conversation is named', () => {
    const env = { alerts: { escalateTo: '19:esc@thread.tacv2', reminder: '1h' } };
    const inv = { environments: new Map([['prod', env]]) } as never;
    expect(onCallConfigOf(() => inv)('prod')).toEqual({
      reminderMs: 3600_000,
      escalation: { to: '19:esc@thread.tacv2', afterMs: 30 * 60_000 },
      windows: [],
    });
    expect(onCallConfigOf(() => inv)('lab')).toBeUndefined();
  });
});
