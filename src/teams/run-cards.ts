/**
 * Run cards that update in place. A run's card is posted once in its running state; as the run
 * service reports progress and the end of the run, every card posted for that run is replaced
 * by a fresh rendering of the latest state (updateActivity through a proactive turn, see
 * ./proactive.ts). The GitHub-for-Teams pattern: one card per run, never a stream of messages
 * (anchors.md C, lesson 9).
 *
 * Updates to one card are serialised and coalesced: at most one is in flight and at most one
 * waits, and the waiting one renders whatever is newest when it runs, so the final state always
 * lands last. Finished runs are saved to the store before their cards change, so a button on
 * the final card always finds its run.
 */
import { type ItemId, type Run } from '../model';
import { itemIds } from '../checklist/items';
import type { Inventory } from '../inventory/load';
import type { RunProgress, RunRequest, RunService } from '../queue/types';
import type { RunProgressView } from '../render/card';
import type { AdaptiveCard } from '../render/card-data';
import type { CardRef, Store } from '../store/types';
import { finishedRunCard, runningRunCard } from './cards';
import type { Lang } from '../i18n';
import type { BotLog } from './log';

/** Replaces a posted card (implemented with the Bot Connector in ./proactive.ts). */
export interface CardUpdater {
  update(conversationKey: string, activityId: string, card: AdaptiveCard): Promise<void>;
}

/** What the run cards need. */
export interface RunCardsDeps {
  runs: RunService;
  store: Store;
  updater: CardUpdater;
  inventory: () => Inventory;
  /** The language a conversation's cards are written in. */
  langOf: (conversationKey: string) => Promise<Lang>;
  log: BotLog;
  now?: () => Date;
}

/** What is known about a run in flight (or just finished) in this process. */
interface Tracked {
  progress?: RunProgress;
  run?: Run;
  items?: ItemId[];
  environment?: string;
  startedAt?: string;
  requestedBy?: string;
}

interface Chain {
  busy: boolean;
  again: boolean;
  idle: Promise<void>;
}

/** How many runs are remembered in memory (the store keeps the finished ones). */
const TRACKED_LIMIT = 500;

/**
 * How long `close` waits for runs whose cards are still running: under Kubernetes' default
 * 30 s between SIGTERM and SIGKILL (terminationGracePeriodSeconds), so a stopping bot still
 * turns those cards into verdicts when the run finishes in time.
 */
const CLOSE_GRACE_MS = 25_000;

const cardKey = (ref: CardRef) => `${ref.conversation}\n${ref.activityId}`;

/** Keeps every card of a run in step with the run. */
export class RunCards {
  private readonly tracked = new Map<string, Tracked>();
  /** Which run each posted card shows now (a Re-run moves a card to a new run). */
  private readonly owner = new Map<string, string>();
  private readonly chains = new Map<string, Chain>();
  /** The last card sent to each posted card, so an unchanged state is not sent again. */
  private readonly lastSent = new Map<string, string>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Runs with a card posted in this process that have not finished yet. */
  private readonly awaiting = new Set<string>();
  private awaitingChanged: (() => void) | undefined;
  private offs: (() => void)[] = [];

  constructor(private readonly deps: RunCardsDeps) {}

  /** Follow the run service's events. */
  start(): this {
    this.offs = [
      this.deps.runs.onProgress(p => this.onProgress(p)),
      this.deps.runs.onDone(r => this.track(this.onDone(r))),
    ];
    return this;
  }

  /**
   * Wait (up to `graceMs`) for the runs whose cards this process posted to finish, so their
   * final card is sent; then stop following events and wait for updates in flight.
   */
  async close(graceMs: number = CLOSE_GRACE_MS): Promise<void> {
    if (this.offs.length && this.awaiting.size) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>(r => (timer = setTimeout(r, graceMs)));
      let over = false;
      void expired.then(() => (over = true));
      while (this.awaiting.size && !over) {
        // With several replicas only one reports a run done; the others see it in the store.
        for (const runId of [...this.awaiting])
          if (await this.deps.store.getRun(runId).catch(() => undefined))
            this.awaiting.delete(runId);
        if (!this.awaiting.size) break;
        await Promise.race([
          new Promise<void>(r => (this.awaitingChanged = r)),
          new Promise<void>(r => setTimeout(r, 1000).unref()),
          expired,
        ]);
      }
      clearTimeout(timer);
      this.awaitingChanged = undefined;
    }
    for (const off of this.offs) off();
    this.offs = [];
    await this.idle();
  }

  /** Resolves when no update is in flight or waiting. */
  async idle(): Promise<void> {
    while (this.pending.size || [...this.chains.values()].some(c => c.busy)) {
      await Promise.allSettled([...this.pending, ...[...this.chains.values()].map(c => c.idle)]);
    }
  }

  /** Remember who asked for a run and which items it covers (for its card). */
  noteRequest(runId: string, req: RunRequest): void {
    const t = this.get(runId);
    t.environment ??= req.environment;
    if (req.items?.length) t.items ??= itemIds().filter(i => req.items!.includes(i));
    if (req.requestedBy?.name) t.requestedBy ??= req.requestedBy.name;
  }

  /**
   * The card to post now for a run just submitted or joined: always its running state, even if
   * the run has already finished, so the card's first update is the one that completes it.
   */
  initialCard(runId: string, lang: Lang): AdaptiveCard {
    const t = this.get(runId);
    return runningRunCard(this.progressView(runId, t), {
      lang,
      ...(t.requestedBy ? { requestedBy: t.requestedBy } : {}),
    });
  }

  /** A run's card in its current state: finished (memory or store) or running; undefined if unknown. */
  async currentCard(runId: string, lang: Lang): Promise<AdaptiveCard | undefined> {
    const t = this.tracked.get(runId);
    const run = t?.run ?? (await this.deps.store.getRun(runId));
    const by = t?.requestedBy ? { requestedBy: t.requestedBy } : {};
    if (run) return finishedRunCard(run, { lang, ...by });
    if (!t) return undefined;
    return runningRunCard(this.progressView(runId, t), { lang, ...by });
  }

  /** A card was posted (or re-pointed by Re-run) for a run: remember it and bring it up to date. */
  async attach(runId: string, ref: CardRef): Promise<void> {
    this.owner.set(cardKey(ref), runId);
    if (!this.tracked.get(runId)?.run) this.awaiting.add(runId);
    await this.deps.store.addCard(runId, ref);
    this.schedule(runId, ref);
  }

  private get(runId: string): Tracked {
    let t = this.tracked.get(runId);
    if (!t) {
      t = {};
      this.tracked.set(runId, t);
      if (this.tracked.size > TRACKED_LIMIT) {
        // Forget the oldest finished run first (it is in the store), else the oldest.
        const victim =
          [...this.tracked.entries()].find(([, v]) => v.run)?.[0] ??
          this.tracked.keys().next().value!;
        this.tracked.delete(victim);
      }
    }
    return t;
  }

  private progressView(runId: string, t: Tracked): RunProgressView {
    const envName =
      t.progress?.environment ?? t.environment ?? runId.replace(/-\d{14}-[0-9a-f]+$/, '');
    const env = this.environment(envName);
    return {
      runId,
      environment: envName,
      ...(env ? { ece: { version: env.ece.version, es: env.ece.es } } : {}),
      items: t.progress?.items ?? t.items ?? itemIds(),
      findings: t.progress?.findings ?? [],
      started: !!t.progress,
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
    };
  }

  private environment(name: string) {
    try {
      return this.deps.inventory().environments.get(name);
    } catch {
      return undefined;
    }
  }

  private onProgress(p: RunProgress): void {
    const t = this.get(p.runId);
    if (t.run) return;
    t.progress = p;
    t.startedAt ??= (this.deps.now?.() ?? new Date()).toISOString();
    this.track(this.refreshAll(p.runId));
  }

  private async onDone(run: Run): Promise<void> {
    const t = this.get(run.id);
    t.run = run;
    if (this.awaiting.delete(run.id)) this.awaitingChanged?.();
    try {
      await this.deps.store.saveRun(run);
    } catch (err) {
      this.deps.log.error({ err, runId: run.id }, 'saving the finished run failed');
    }
    await this.refreshAll(run.id);
  }

  private async refreshAll(runId: string): Promise<void> {
    let refs: CardRef[];
    try {
      refs = await this.deps.store.cards(runId);
    } catch (err) {
      this.deps.log.error({ err, runId }, 'reading the cards of a run failed');
      return;
    }
    for (const ref of refs) this.schedule(runId, ref);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Queue an update of one card; coalesces with one already waiting. */
  private schedule(runId: string, ref: CardRef): void {
    const key = cardKey(ref);
    const owner = this.owner.get(key);
    // A card re-pointed to a newer run ignores the older run's late events.
    if (owner !== undefined && owner !== runId) return;
    if (owner === undefined) this.owner.set(key, runId);
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { busy: false, again: false, idle: Promise.resolve() };
      this.chains.set(key, chain);
    }
    if (chain.busy) {
      chain.again = true;
      return;
    }
    chain.busy = true;
    chain.idle = this.drain(ref, chain);
  }

  private async drain(ref: CardRef, chain: Chain): Promise<void> {
    try {
      do {
        chain.again = false;
        const runId = this.owner.get(cardKey(ref));
        if (!runId) break;
        await this.updateOne(runId, ref);
      } while (chain.again);
    } finally {
      chain.busy = false;
      // Finished cards need no chain any more; running ones keep theirs until they finish.
      const runId = this.owner.get(cardKey(ref));
      if (runId && this.tracked.get(runId)?.run) {
        this.chains.delete(cardKey(ref));
        this.lastSent.delete(cardKey(ref));
      }
    }
  }

  private async updateOne(runId: string, ref: CardRef): Promise<void> {
    try {
      const lang = await this.deps.langOf(ref.conversation);
      const card = await this.currentCard(runId, lang);
      if (!card) return;
      const json = JSON.stringify(card);
      if (this.lastSent.get(cardKey(ref)) === json) return;
      await this.deps.updater.update(ref.conversation, ref.activityId, card);
      this.lastSent.set(cardKey(ref), json);
    } catch (err) {
      // A deleted message or a removed bot cannot be updated; the run itself is unaffected.
      this.deps.log.warn(
        { err, runId, conversation: ref.conversation, activityId: ref.activityId },
        'updating a run card failed',
      );
    }
  }
}
