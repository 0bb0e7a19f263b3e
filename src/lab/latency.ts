/**
 * A wide-area network in front of a lab server: a TCP forwarder on loopback that holds every
 * chunk for a fixed one-way delay in each direction, so each round trip a client makes pays twice
 * the delay — a check from an ECE server to Microsoft 365 crosses tens of milliseconds per round
 * trip, where loopback answers in microseconds.
 *
 * The delay is applied to bytes at the socket, under TLS: handshakes, STARTTLS, every IMAP or SMTP
 * command and every HTTP request pay it like any other data. What it cannot add is the TCP
 * handshake itself (the kernel completes it on loopback before the forwarder sees the connection),
 * so a new connection costs one round trip less here than on a real network; that is lab's
 * choice, said where the bench derives its lower bound (bench/wan.ts).
 */
import { connect, createServer, type Socket } from 'node:net';
import type { RunningServer } from './server-types';

/** Forward to `127.0.0.1:targetPort` through a delay of `oneWayMs` in each direction. */
export async function startDelayedForwarder(
  targetPort: number,
  oneWayMs: number,
): Promise<RunningServer> {
  if (!Number.isFinite(oneWayMs) || oneWayMs < 0 || oneWayMs > 10_000)
    throw new RangeError(`latency must be 0 to 10000 ms, not ${oneWayMs}`);
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  // Half-open on both sides: a client's FIN must not close the way back before the delayed
  // answers have crossed it (net's default would end our side at once).
  const server = createServer({ allowHalfOpen: true }, client => {
    track(client);
    client.setNoDelay(true);
    const upstream = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    track(upstream);
    upstream.setNoDelay(true);
    pipeDelayed(client, upstream, oneWayMs);
    pipeDelayed(upstream, client, oneWayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('forwarder has no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Copy `from` to `to`, each chunk and the end of the stream `ms` later. Timers of one duration
 * fire in the order they were set (Node's timer lists are per duration), so order is kept.
 */
function pipeDelayed(from: Socket, to: Socket, ms: number): void {
  const later = (fn: () => void) => (ms > 0 ? setTimeout(fn, ms) : setImmediate(fn));
  from.on('data', (chunk: Buffer) => later(() => to.destroyed || to.write(chunk)));
  from.on('end', () => later(() => to.destroyed || to.end()));
  // A reset on one side is a reset on the other, without delay: nothing more will cross.
  from.on('error', () => to.destroy());
  from.on('close', hadError => {
    if (hadError) to.destroy();
  });
}

/**
 * `--latency 25ms` (or `25`): the one-way delay in milliseconds. Round trips pay twice this.
 * Throws a RangeError naming the value and the form expected.
 */
export function parseLatency(text: string): number {
  const m = /^\s*(\d{1,5})\s*(ms)?\s*$/.exec(text);
  const ms = m ? Number(m[1]) : NaN;
  if (!m || ms > 10_000)
    throw new RangeError(
      `--latency ${JSON.stringify(text)} is not a one-way delay: write milliseconds from 0 to 10000, like 25ms`,
    );
  return ms;
}
