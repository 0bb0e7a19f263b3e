/**
 * The in-process run service: the same interface as the Redis queue, running every vantage
 * point's probes in this process. It is the embedded default (no REDIS_URL), used by the demo,
 * a one-machine trial and the bot's own tests.
 */
import { EventEmitter } from 'node:events';
import type { Finding, Run } from '../model';
import type { Inventory } from '../inventory/load';
import { pickEnvironment } from '../inventory/load';
import type { Observation } from '../model';
import { observeFrom } from '../runner/observe';
import { prepareRun, vantagesOf, type PreparedRun } from '../runner/prepare';
import { readyItems } from '../runner/progress';
import { assemble } from '../runner/run';
import { storedRefreshTokens, type KeepRefreshToken } from '../store/tokens';
import type { Store } from '../store/types';
import { itemIds } from '../checklist/items';
import {
  covers,
  RunBusyError,
  type RunHandle,
  type RunProgress,
  type RunRequest,
  type RunService,
} from './types';

interface InFlight {
  key: string;
  prepared: PreparedRun;
  done: Promise<Run>;
}

/** Runs checks in this process; one run per environment in flight, which covered requests join. */
export class InProcessRunService implements RunService {
  private readonly events = new EventEmitter();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly byId = new Map<string, Promise<Run>>();

  constructor(
    private readonly inventory: () => Inventory,
    private readonly vars: NodeJS.ProcessEnv = process.env,
    /** Where refresh tokens from Teams sign-ins are kept; they are fed to each run. */
    private readonly store?: Pick<Store, 'getSecret'>,
    /** Where the refresh tokens Entra rotates to are kept (this process redeems them). */
    private readonly keepTokens?: KeepRefreshToken,
  ) {
    this.events.setMaxListeners(0);
  }

  async submit(req: RunRequest): Promise<RunHandle> {
    // One run per environment in flight (./types.ts RunBusyError).
    const key = req.environment.toLowerCase();
    const joinOrRefuse = (f: InFlight): RunHandle => {
      if (covers(f.prepared.items, req.items ?? [], itemIds()))
        return { runId: f.prepared.id, joined: true };
      throw new RunBusyError(f.prepared.env.name, f.prepared.id, f.prepared.items);
    };
    const existing = this.inFlight.get(key);
    if (existing) return joinOrRefuse(existing);
    const inv = this.inventory();
    const env = pickEnvironment(inv, req.environment, 'the request');
    const tokens = this.store ? await storedRefreshTokens(this.store, env) : undefined;
    // A request for the same environment may have arrived while the store answered.
    const raced = this.inFlight.get(key);
    if (raced) return joinOrRefuse(raced);
    // Input problems (missing secret, bad CA file) throw here, before anything runs.
    const prepared = prepareRun(env, inv, {
      ...(req.items?.length ? { items: req.items } : {}),
      vars: this.vars,
      ...(tokens ? { storedRefreshTokens: tokens } : {}),
      ...(this.keepTokens ? { keepRefreshTokens: this.keepTokens } : {}),
    });
    const done = this.execute(prepared).finally(() => this.inFlight.delete(key));
    // Nobody may be waiting on `done`; a failure is reported through the events.
    done.catch(() => undefined);
    this.inFlight.set(key, { key, prepared, done });
    this.byId.set(prepared.id, done);
    // Keep finished runs findable for a while without growing without bound.
    if (this.byId.size > 200) this.byId.delete(this.byId.keys().next().value!);
    return { runId: prepared.id, joined: false };
  }

  private async execute(run: PreparedRun): Promise<Run> {
    // Let `submit` hand out the run id before the first progress event.
    await Promise.resolve();
    const startedAt = new Date();
    const vantages = vantagesOf(run);
    const observations: Observation[] = [];
    const reported = new Set<string>();
    const emit = () => {
      const ready = readyItems(run.env, run.items, reported);
      let findings: Finding[] = [];
      if (ready.length)
        findings = assemble({ ...run, items: ready }, observations, startedAt, new Date()).findings;
      const p: RunProgress = {
        runId: run.id,
        environment: run.env.name,
        items: run.items,
        reported: [...reported],
        pending: vantages.filter(v => !reported.has(v)),
        findings,
      };
      this.events.emit('progress', p);
    };
    emit();
    await Promise.all(
      vantages.map(async v => {
        observations.push(...(await observeFrom(run, v)));
        reported.add(v);
        emit();
      }),
    );
    const final = assemble(run, observations, startedAt, new Date());
    this.events.emit('done', final);
    return final;
  }

  onProgress(listener: (p: RunProgress) => void): () => void {
    this.events.on('progress', listener);
    return () => this.events.off('progress', listener);
  }

  onDone(listener: (run: Run) => void): () => void {
    this.events.on('done', listener);
    return () => this.events.off('done', listener);
  }

  wait(runId: string): Promise<Run> {
    const p = this.byId.get(runId);
    return p ?? Promise.reject(new Error(`no run ${runId} in this process`));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()].map(f => f.done));
  }
}
