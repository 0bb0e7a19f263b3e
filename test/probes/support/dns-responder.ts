/**
 * A tiny UDP DNS responder on 127.0.0.1 for tests (RFC 1035 §4.1): A records for some names,
 * NXDOMAIN or SERVFAIL for others, silence for the rest of a list. Probes reach it through
 * ProbeContext.dnsServers, so no test ever asks the machine's resolver about a real name.
 */
import dgram from 'node:dgram';

export interface DnsResponderOptions {
  /** name → IPv4 address answered for A queries (AAAA gets NOERROR with no answer). */
  a?: Record<string, string>;
  /** Names answered with NXDOMAIN (RCODE 3). */
  nxdomain?: string[];
  /** Names never answered, like a resolver that drops the query. */
  silent?: string[];
  /** Names answered with SERVFAIL (RCODE 2), like a resolver whose upstream is broken. */
  servfail?: string[];
}

export interface DnsResponder {
  /** `127.0.0.1:port`, ready for ProbeContext.dnsServers. */
  server: string;
  /** Names asked, lower-case, in order. */
  asked: string[];
  close(): Promise<void>;
}

const TYPE_A = 1;

/** Start the responder. Names not in any list get REFUSED (RCODE 5). */
export async function startDnsResponder(opts: DnsResponderOptions): Promise<DnsResponder> {
  const socket = dgram.createSocket('udp4');
  const asked: string[] = [];
  const lower = (xs: string[] = []) => new Set(xs.map(x => x.toLowerCase()));
  const nx = lower(opts.nxdomain);
  const silent = lower(opts.silent);
  const servfail = lower(opts.servfail);
  const a = new Map(Object.entries(opts.a ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

  socket.on('message', (msg, rinfo) => {
    const q = parseQuestion(msg);
    if (!q) return;
    asked.push(q.name);
    if (silent.has(q.name)) return;
    let rcode = 5;
    let answer: Buffer | undefined;
    if (nx.has(q.name)) rcode = 3;
    else if (servfail.has(q.name)) rcode = 2;
    else if (a.has(q.name)) {
      rcode = 0;
      if (q.type === TYPE_A) answer = aRecord(a.get(q.name)!);
    }
    socket.send(reply(msg, q.end, rcode, answer), rinfo.port, rinfo.address);
  });
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    asked,
    close: () => new Promise<void>(resolve => socket.close(() => resolve())),
  };
}

/** Read the first question: its name (lower-case), type, and where it ends. */
function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length) {
    const len = msg[i]!;
    if (len === 0) break;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += 1 + len;
  }
  if (i + 5 > msg.length) return undefined;
  return {
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(i + 1),
    end: i + 5,
  };
}

/** An answer record pointing back at the question name (compression pointer to offset 12). */
function aRecord(ip: string): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(0xc00c, 0);
  b.writeUInt16BE(TYPE_A, 2);
  b.writeUInt16BE(1, 4); // class IN
  b.writeUInt32BE(60, 6); // TTL
  b.writeUInt16BE(4, 10);
  ip.split('.').forEach((octet, k) => b.writeUInt8(Number(octet), 12 + k));
  return b;
}

function reply(query: Buffer, questionEnd: number, rcode: number, answer?: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // same id
  const rd = query.readUInt16BE(2) & 0x0100;
  // QR=1, AA=1, RA=1, RD copied, the RCODE in the low four bits.
  header.writeUInt16BE(0x8000 | 0x0400 | 0x0080 | rd | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer ? 1 : 0, 6);
  return Buffer.concat([header, query.subarray(12, questionEnd), answer ?? Buffer.alloc(0)]);
}
