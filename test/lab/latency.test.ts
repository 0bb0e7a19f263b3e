/**
 * The lab's WAN: a forwarder that delays every chunk one way by a fixed time. What can be
 * asserted without timing the machine: bytes arrive whole and in order, the end of a stream
 * crosses, a reset crosses, and a round trip can never be shorter than twice the delay (a timer
 * does not fire early: Node's setTimeout contract).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { startLab } from '../../src/lab/index';
import { parseLatency, startDelayedForwarder } from '../../src/lab/latency';
import { prepareRun } from '../../src/runner/prepare';
import { runInProcess } from '../../src/runner/run';
import type { RunningServer } from '../../src/lab/server-types';

let echo: Server;
let echoPort: number;
const open: Socket[] = [];

beforeAll(async () => {
  echo = createServer(s => {
    open.push(s);
    s.on('data', d => s.write(d));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
  await new Promise<void>(r => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise(r => echo.close(r));
});

async function through(f: RunningServer): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port: f.port });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

test('bytes cross whole and in order, and the end of the stream crosses too', async () => {
  const f = await startDelayedForwarder(echoPort, 5);
  try {
    const s = await through(f);
    const got: Buffer[] = [];
    s.on('data', d => got.push(d));
    const ended = new Promise<void>(r => s.on('end', () => r()));
    const parts = Array.from({ length: 50 }, (_, i) => `line ${i}\r\n`);
    for (const p of parts) s.write(p);
    s.end();
    await ended;
    expect(Buffer.concat(got).toString()).toBe(parts.join(''));
  } finally {
    await f.close();
  }
});

test('a round trip pays the delay twice, never less', async () => {
  const oneWay = 30;
  const f = await startDelayedForwarder(echoPort, oneWay);
  try {
    const s = await through(f);
    const t0 = process.hrtime.bigint();
    const back = new Promise<void>(r => s.once('data', () => r()));
    s.write('ping');
    await back;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // A lower bound only: timers never fire early (1 ms for timer granularity).
    expect(ms).toBeGreaterThanOrEqual(2 * oneWay - 1);
    s.destroy();
  } finally {
    await f.close();
  }
});

test('a server that is gone resets the client instead of leaving it hanging', async () => {
  const gone = createServer();
  await new Promise<void>(r => gone.listen(0, '127.0.0.1', r));
  const port = (gone.address() as { port: number }).port;
  await new Promise(r => gone.close(r));
  const f = await startDelayedForwarder(port, 5);
  try {
    const s = await through(f);
    const closed = await new Promise<boolean>(r => {
      s.on('error', () => undefined);
      s.on('close', () => r(true));
    });
    expect(closed).toBe(true);
  } finally {
    await f.close();
  }
});

test.each([
  ['25ms', 25],
  ['25', 25],
  [' 0 ', 0],
  ['10000ms', 10000],
])('--latency %j is %d ms one way', (text, ms) => {
  expect(parseLatency(text)).toBe(ms);
});

test.each(['25s', '-5', '1.5ms', 'fast', '', '10001'])(
  '--latency %j is refused, naming the form',
  text => {
    expect(() => parseLatency(text)).toThrow(/like 25ms/);
  },
);

describe('the lab behind a WAN (ecebot lab --latency)', () => {
  // Everything a check does crosses the forwarders: TLS, STARTTLS, XOAUTH2, Graph, Exchange.
  // The lab's budgets are loopback-short (slowMs 500): a 20 ms one-way delay stays under them.
  test('a full check of the healthy lab passes through the delay, as without it', async () => {
    const lab = await startLab({ scenarios: [], latencyMs: 20 });
    try {
      const inv = loadInventory(lab.info.inventory);
      const env = pickEnvironment(inv, 'lab', lab.info.inventory);
      const run = await runInProcess(prepareRun(env, inv, { vars: {} }));
      const notPassing = run.findings.filter(f => f.status !== 'pass');
      expect(notPassing.map(f => `${f.item} ${f.status} ${f.code}`)).toEqual([]);
      // Each login's conversation took at least the round trips it made: its TLS handshake and
      // at least one command each way.
      const imap = run.findings
        .find(f => f.item === 'connectivity')
        ?.evidence.find(e => e.target.includes(':') && e.text.includes('IMAP'));
      expect(imap?.durationMs ?? 0).toBeGreaterThanOrEqual(2 * 2 * 20 - 1);
    } finally {
      await lab.stop();
    }
  });
});
