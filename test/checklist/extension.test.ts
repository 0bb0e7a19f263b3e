/**
 * A tenth item, declared from this file alone: its id and read name by declaration merging, one
 * read (DNS of Entra's login host from every ECE server), a pure rule, and one registration
 * each. Everything else — the reads a worker makes, the run, the run card, progress, `--item`,
 * help and NO_WORKER marking — must follow from the declaration (docs/architecture.md).
 */
import type { ItemDeclaration } from '../../src/checklist/item';
import { registerItem } from '../../src/checklist/items';
import { judge, part } from '../../src/checklist/rule';
import { main } from '../../src/cli';
import type { Io } from '../../src/cli/io';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { startLab, type Lab } from '../../src/lab/index';
import { CENTRAL, type Observation } from '../../src/model';
import { probeDns } from '../../src/probes/dns';
import { InProcessRunService } from '../../src/queue/in-process';
import { withMissing } from '../../src/queue/missing';
import type { RunProgress } from '../../src/queue/types';
import { renderRunCard } from '../../src/render/card';
import { factsOf } from '../../src/runner/facts';
import { parseItems, prepareRun, vantagesOf } from '../../src/runner/prepare';
import { vantagesForItem } from '../../src/runner/progress';
import { registerRead } from '../../src/runner/reads';
import { runInProcess } from '../../src/runner/run';
import { helpData } from '../../src/teams/cards';

declare module '../../src/model/items' {
  interface ItemIds {
    'login-dns': true;
  }
  interface ReadNames {
    'login-dns': true;
  }
}

const TITLE = { en: 'Login host resolves', nl: 'Inloghost wordt gevonden' };

const extra: ItemDeclaration = {
  id: 'login-dns',
  title: TITLE,
  reads: [{ read: 'login-dns', on: ['services', 'application'] }],
  rule: ({ env, observations }) =>
    judge(
      'login-dns',
      TITLE.en,
      env,
      observations.map(o =>
        part(o.ok ? 'pass' : 'fail', o.code, `${o.target} from ${o.vantage}`, [
          { vantage: o.vantage, target: o.target, text: o.code, code: o.code, ok: o.ok },
        ]),
      ),
      { emptySummary: 'No ECE server resolved the login host.' },
    ),
};

let lab: Lab;
const undo: (() => void)[] = [];

beforeAll(async () => {
  undo.push(
    registerRead({
      name: 'login-dns',
      on: ['services', 'application'],
      observe: async ({ ctx, endpoints }): Promise<Observation[]> => [
        await probeDns(ctx, endpoints.login.host),
      ],
    }),
    registerItem(extra),
  );
  lab = await startLab({ scenarios: [] });
});
afterAll(async () => {
  for (const u of undo.reverse()) u();
  await lab?.stop();
});

function prepare(items?: string[]) {
  const inv = loadInventory(lab.info.inventory);
  const env = pickEnvironment(inv, 'lab', lab.info.inventory);
  return { inv, env, run: prepareRun(env, inv, { vars: {}, ...(items ? { items } : {}) }) };
}

test('a full run judges the extra item from every ECE server, after the nine', async () => {
  const { env, run } = prepare();
  const done = await runInProcess(run);
  expect(done.findings.map(f => f.item).slice(-2)).toEqual(['connectivity', 'login-dns']);
  const f = done.findings.find(x => x.item === 'login-dns')!;
  expect(f.status).toBe('pass');
  expect(f.title).toBe(TITLE.en);
  expect(f.vantages.sort()).toEqual(env.servers.map(s => s.name).sort());
});

test('--item selects it alone: only the ECE servers are asked, and only its read is made', async () => {
  expect(parseItems(['login-dns'])).toEqual(['login-dns']);
  const { env, run } = prepare(['login-dns']);
  expect(vantagesOf(run)).toEqual(env.servers.map(s => s.name));
  expect(vantagesOf(run)).not.toContain(CENTRAL);
  const done = await runInProcess(run);
  expect(done.findings.map(f => [f.item, f.status])).toEqual([['login-dns', 'pass']]);
  expect(done.findings[0]!.evidence.every(e => e.code === 'OK')).toBe(true);
});

test('progress: the item is final once the ECE servers have reported, without central', async () => {
  const { inv, env } = prepare();
  expect(vantagesForItem(env, 'login-dns')).toEqual(env.servers.map(s => s.name));
  const service = new InProcessRunService(() => inv, {});
  const seen: RunProgress[] = [];
  service.onProgress(p => seen.push(p));
  const { runId } = await service.submit({ environment: 'lab', reason: 'cli' });
  await service.wait(runId);
  expect(seen[0]!.items).toContain('login-dns');
  const first = seen.find(p => p.findings.some(x => x.item === 'login-dns'))!;
  expect(env.servers.every(s => first.reported.includes(s.name))).toBe(true);
  await service.close();
});

test('the run card shows its row with its title, in English and in Dutch', async () => {
  const { run } = prepare(['login-dns', 'version']);
  const done = await runInProcess(run);
  for (const lang of ['en', 'nl'] as const) {
    const card = JSON.stringify(renderRunCard(done, { lang }));
    expect(card).toContain(TITLE[lang]);
  }
});

test('help lists it: the CLI usage and the Teams help card', async () => {
  const out: string[] = [];
  const io: Io = { out: s => out.push(s), err: s => out.push(s), env: {}, cwd: '/', isTTY: false };
  expect(await main(['help'], io)).toBe(0);
  expect(out.join('\n')).toContain('login-dns');
  expect(helpData('nl').items).toContainEqual({ id: 'login-dns', title: TITLE.nl });
});

test('NO_WORKER marks it when an ECE server never reported', async () => {
  const { env, run } = prepare(['login-dns']);
  const done = await runInProcess(run);
  const server = env.servers[0]!.name;
  const marked = withMissing(
    done,
    env,
    factsOf(env, run.secrets),
    new Map([[server, `no worker for ${server}`]]),
  );
  const f = marked.findings.find(x => x.item === 'login-dns')!;
  expect(f.status).toBe('error');
  expect(f.codes).toContain('NO_WORKER');
  // A missing central worker does not touch an item that reads nothing from central.
  const central = withMissing(
    done,
    env,
    factsOf(env, run.secrets),
    new Map([[CENTRAL, 'no worker']]),
  );
  expect(central.findings.find(x => x.item === 'login-dns')!.status).toBe('pass');
});
