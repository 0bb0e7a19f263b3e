/**
 * Prometheus metrics of the bot (`GET /metrics`), on a registry of our own: the process-wide
 * default registry would mix in whatever else the process (or a test) registers, and two bots
 * in one process would collide on metric names.
 *
 * Labels are item ids, codes and probe kinds (and environment names only with
 * ECEBOT_METRICS_DETAIL=1): bounded sets from the inventory and the code registry, never user
 * input or secrets.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Run } from '../model';
import type { RunService } from '../queue/types';

/** What the server needs from the metrics. */
export interface BotMetrics {
  readonly registry: Registry;
  /** The content type of `text()` (Prometheus text exposition format 0.0.4). */
  readonly contentType: string;
  /** The exposition text. */
  text(): Promise<string>;
  /** Stop listening to the run service. */
  close(): void;
}

/** Options of `createMetrics`. */
export interface MetricsOptions {
  runs: RunService;
  /**
   * Runs in the queue (waiting, waiting for their vantage parts, or being assembled), when
   * Redis is used; read at scrape time. Omitted in process mode, where there is no queue, and
   * then the gauge is not registered.
   */
  queueDepth?: () => Promise<number>;
  /**
   * Label runs with their environment (ECEBOT_METRICS_DETAIL=1). Off by default: `/metrics` is
   * unauthenticated, and environment names tell a stranger which customers the service watches
   * and how their checks go.
   */
  detail?: boolean;
  /** Register prom-client's default process metrics (CPU, memory, event loop); true by default. */
  processMetrics?: boolean;
}

/**
 * Buckets in seconds for probe durations: a loopback answer is milliseconds, a black-holed
 * connection runs to its phase deadline (tens of seconds, src/probes/context.ts).
 */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

/** Create the registry and start counting finished runs. */
export function createMetrics(o: MetricsOptions): BotMetrics {
  const registry = new Registry();
  if (o.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const detail = o.detail === true;
  const runsTotal = new Counter<'environment' | 'status'>({
    name: 'ecebot_runs_total',
    help: detail
      ? 'Checklist runs finished, by environment and overall status.'
      : 'Checklist runs finished, by overall status (ECEBOT_METRICS_DETAIL=1 adds the environment).',
    labelNames: detail ? ['environment', 'status'] : ['status'],
    registers: [registry],
  });
  const itemFailures = new Counter({
    name: 'ecebot_item_failures_total',
    help: 'Findings with status fail or error, by checklist item and main code.',
    labelNames: ['item', 'code'] as const,
    registers: [registry],
  });
  // Findings carry evidence, not the observation kind; the checklist item each piece of
  // evidence was judged under stands for the kind of probe that produced it.
  const probeDuration = new Histogram({
    name: 'ecebot_probe_duration_seconds',
    help: 'Duration of each piece of evidence of a finished run, by kind (checklist item).',
    labelNames: ['kind'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const depth = o.queueDepth;
  if (depth) {
    new Gauge({
      name: 'ecebot_queue_depth',
      help: 'Runs in the queue: waiting, waiting for their vantage parts, or being assembled.',
      registers: [registry],
      // Read at scrape time; a Redis that does not answer leaves the last value.
      async collect() {
        try {
          this.set(await depth());
        } catch {
          // Readiness reports Redis; a scrape must not fail because of it.
        }
      },
    });
  }

  const observeRun = (run: Run) => {
    runsTotal.inc(
      detail ? { environment: run.environment, status: run.status } : { status: run.status },
    );
    for (const f of run.findings) {
      if (f.status === 'fail' || f.status === 'error')
        itemFailures.inc({ item: f.item, code: f.code });
      for (const e of f.evidence)
        if (typeof e.durationMs === 'number')
          probeDuration.observe({ kind: f.item }, e.durationMs / 1000);
    }
  };
  const off = o.runs.onDone(observeRun);

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close: off,
  };
}
