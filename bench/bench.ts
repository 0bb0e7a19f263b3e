/**
 * `npm run bench`: runs every benchmark against the lab on this machine, prints a table and
 * writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchBot } from './bot';
import { benchChecks } from './checks';
import { benchProcess } from './process';
import { benchQueue } from './queue';
import { benchWan } from './wan';
import { metric, type Metric } from './measure';

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
  const started = Date.now();
  const metrics: Metric[] = [];
  metrics.push(...(await benchChecks(rounds)));
  metrics.push(
    metric(
      'rss_check_process_mb',
      process.memoryUsage().rss / 1048576,
      'MB',
      { op: '<=', target: 120 },
      'resident set size of this process, which ran the checks above in-process (the lab runs in its own process)',
    ),
  );
  metrics.push(...(await benchQueue()));
  metrics.push(...(await benchBot()));
  metrics.push(...(await benchWan()));
  metrics.push(...(await benchProcess()));
  const results = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    metrics,
  };
  const path = join(__dirname, '..', '..', 'bench', 'results.json');
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  const w = Math.max(...metrics.map(m => m.name.length));
  console.log(`${'metric'.padEnd(w)}  ${'value'.padStart(9)}  unit   goal      met`);
  for (const m of metrics)
    console.log(
      `${m.name.padEnd(w)}  ${String(m.value).padStart(9)}  ${m.unit.padEnd(5)}  ${m.goal.padEnd(8)}  ${m.met === null ? '-' : m.met ? 'yes' : 'NO'}`,
    );
  console.log(
    `\n${metrics.length} metrics in ${results.seconds} s on ${results.machine.cpus} cores; written to ${path}`,
  );
}

main().catch(err => {
  console.error(err);
  process.exitCode = 1;
});
