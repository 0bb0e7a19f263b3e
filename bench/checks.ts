/**
 * Benchmarks of the checks themselves, against the lab on this machine:
 * - check_over_slowest_probe: a full checklist's wall time over the slowest single probe in the
 *   same run (slow-imap lab): how well the probes overlap;
 * - check_over_curl_sequential: a full checklist over curl doing the IMAP, POP3 and SMTP XOAUTH2
 *   logins one after another against the same lab;
 * - imap_probe_over_curl: the in-process IMAP probe over curl's own time_total for the same login.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventory, pickEnvironment } from '../src/inventory/load';
import { DEFAULT_DEADLINES } from '../src/probes/context';
import { probeImap } from '../src/probes/imap';
import { prepareRun } from '../src/runner/prepare';
import { runInProcess } from '../src/runner/run';
import { Redactor } from '../src/util/redact';
import {
  cpuMs,
  curl,
  median,
  figure,
  metric,
  startLabProcess,
  timed,
  type LabProcess,
  type Metric,
} from './measure';

async function fullCheck(lab: LabProcess) {
  const inv = loadInventory(lab.info.inventory);
  const env = pickEnvironment(inv, 'lab', lab.info.inventory);
  return timed(() => runInProcess(prepareRun(env, inv, { vars: {} })));
}

function curlLogins(lab: LabProcess, dir: string) {
  const { imap, pop3, smtp } = lab.info.endpoints;
  const token = lab.info.tokens['support@example.com']!;
  const common = ['--cacert', lab.info.ca, '--oauth2-bearer', token];
  const msg = join(dir, 'bench-message.eml');
  writeFileSync(
    msg,
    'From: support@example.com\r\nTo: support@example.com\r\nSubject: ecebot bench\r\n\r\nhello\r\n',
  );
  return {
    imap: () =>
      curl([
        ...common,
        '--resolve',
        `${imap.host}:${imap.port}:127.0.0.1`,
        '--user',
        'support@example.com:',
        `imaps://${imap.host}:${imap.port}/`,
      ]),
    pop3: () =>
      curl([
        ...common,
        '--resolve',
        `${pop3.host}:${pop3.port}:127.0.0.1`,
        '--user',
        'support@example.com:',
        `pop3s://${pop3.host}:${pop3.port}/`,
      ]),
    smtp: () =>
      curl([
        ...common,
        '--resolve',
        `${smtp.host}:${smtp.port}:127.0.0.1`,
        '--user',
        'support@example.com:',
        '--ssl-reqd',
        '--mail-from',
        'support@example.com',
        '--mail-rcpt',
        'support@example.com',
        '--upload-file',
        msg,
        `smtp://${smtp.host}:${smtp.port}`,
      ]),
  };
}

export async function benchChecks(rounds: number): Promise<Metric[]> {
  const out: Metric[] = [];

  // 1. Overlap: slow-imap makes one probe the long pole.
  const slow = await startLabProcess('slow-imap');
  try {
    const ratios: number[] = [];
    for (let i = 0; i < Math.max(1, Math.floor(rounds / 3)); i++) {
      const { ms, value: run } = await fullCheck(slow);
      const slowest = Math.max(
        ...run.findings.flatMap(f => f.evidence.map(e => e.durationMs ?? 0)),
      );
      ratios.push(ms / slowest);
    }
    out.push(
      metric(
        'check_over_slowest_probe',
        median(ratios),
        'ratio',
        { op: '<=', target: 1.2 },
        `median over ${ratios.length} full checks of the slow-imap lab: check wall time / the slowest single probe's duration in the same run`,
      ),
    );
  } finally {
    await slow.stop();
  }

  // 2 and 3. Against curl, on the healthy lab.
  const lab = await startLabProcess('healthy');
  try {
    const c = curlLogins(lab, lab.dir);
    for (const f of [c.imap, c.pop3, c.smtp]) {
      const r = await f();
      if (r.code !== 0) throw new Error(`curl failed against the lab (exit ${r.code}): ${r.out}`);
    }
    await fullCheck(lab); // warm-up
    const ratios: number[] = [];
    const checkMs: number[] = [];
    const seqMs: number[] = [];
    // Where a check's time goes: this process's CPU (all probes of both servers and central
    // run here, on one thread) and the lab's CPU (one thread serving every connection).
    const checkCpu: number[] = [];
    const labCpu: number[] = [];
    const labCurlCpu: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const cpu0 = process.cpuUsage();
      const lab0 = cpuMs(lab.pid);
      const check = await fullCheck(lab);
      const cpu = process.cpuUsage(cpu0);
      checkCpu.push((cpu.user + cpu.system) / 1000);
      const lab1 = cpuMs(lab.pid);
      labCpu.push(lab1 - lab0);
      const seq = await timed(async () => {
        await c.imap();
        await c.pop3();
        await c.smtp();
      });
      labCurlCpu.push(cpuMs(lab.pid) - lab1);
      checkMs.push(check.ms);
      seqMs.push(seq.ms);
      ratios.push(check.ms / seq.ms);
    }
    out.push(
      figure(
        'check_over_curl_sequential',
        median(ratios),
        'ratio',
        `a figure, no longer a goal (it was <= 0.5: a full check does far more than curl's three logins, docs/performance.md). median over ${rounds} rounds: full nine-item checklist (both servers, central reads) wall time / curl IMAP + POP3 + SMTP XOAUTH2 logins run one after another (process start included), healthy lab. Medians: check ${Math.round(median(checkMs))} ms wall, ${Math.round(median(checkCpu))} ms CPU in this process, ${Math.round(median(labCpu))} ms CPU in the (single-threaded) lab; curl ${Math.round(median(seqMs))} ms for its 3 logins, ${Math.round(median(labCurlCpu))} ms lab CPU (CPU in 10 ms ticks)`,
      ),
    );

    const ctx = {
      vantage: 'bench',
      deadlines: DEFAULT_DEADLINES,
      ca: readFileSync(lab.info.ca, 'utf8'),
      hosts: { [lab.info.endpoints.imap.host]: '127.0.0.1' },
      redactor: new Redactor(),
    };
    const token = lab.info.tokens['support@example.com']!;
    const probeMs: number[] = [];
    const curlMs: number[] = [];
    for (let i = 0; i < rounds * 3; i++) {
      const p = await timed(() =>
        probeImap(ctx, lab.info.endpoints.imap, {
          user: 'support@example.com',
          accessToken: token,
        }),
      );
      if (!p.value.ok) throw new Error(`IMAP probe failed against the lab: ${p.value.code}`);
      probeMs.push(p.ms);
      curlMs.push((await c.imap()).totalMs);
    }
    out.push(
      metric(
        'imap_probe_over_curl',
        median(probeMs) / median(curlMs),
        'ratio',
        { op: '<=', target: 1.5 },
        `median of ${probeMs.length} in-process IMAP probes (connect, TLS, greeting, capability, XOAUTH2, list, select, logout) / median of curl's own time_total for the same login and LIST, alternating`,
      ),
    );
  } finally {
    await lab.stop();
  }
  return out;
}
