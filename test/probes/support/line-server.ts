/**
 * A tiny scripted server for tests: plain TCP or implicit TLS on 127.0.0.1, handing each
 * connection to a script that reads CRLF lines and writes replies. The IMAP and POP3 fakes
 * build on it to replay Exchange Online's exact lines (o365-facts.md §1.2, §1.3).
 */
import net from 'node:net';
import tls from 'node:tls';

/** One client connection as a script sees it. */
export interface LineConn {
  /** Write one line (CRLF added). */
  write(line: string): void;
  /** The next line from the client, without CRLF; null once the client has gone. */
  next(): Promise<string | null>;
  /** Close our side after flushing. */
  end(): void;
}

/** A running scripted server. */
export interface LineServer {
  port: number;
  /** Every line every client sent, in order (for assertions on what went over the wire). */
  received: string[];
  close(): Promise<void>;
}

export interface LineServerOptions {
  /** Implicit TLS with this key and certificate; plain TCP when absent. */
  tls?: { key: string; cert: string };
}

/** Start a server that runs `script` for every connection. */
export async function startLineServer(
  opts: LineServerOptions,
  script: (conn: LineConn) => Promise<void>,
): Promise<LineServer> {
  const sockets = new Set<net.Socket>();
  const received: string[] = [];
  const onSocket = (socket: net.Socket): void => {
    sockets.add(socket);
    // Replies are written line by line; without this Nagle holds each second line back.
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const conn = lineConn(socket, received);
    script(conn).catch(() => socket.destroy());
  };
  const server = opts.tls
    ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onSocket)
    : net.createServer(onSocket);
  // A TLS client that gives up mid-handshake is not a test failure.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function lineConn(socket: net.Socket, log: string[]): LineConn {
  let buffer = '';
  const lines: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i).replace(/\r$/, '');
      buffer = buffer.slice(i + 1);
      log.push(line);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const gone = (): void => {
    closed = true;
    for (const w of waiters.splice(0)) w(null);
  };
  socket.on('end', gone);
  socket.on('close', gone);
  return {
    write: line => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    },
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (closed) return Promise.resolve(null);
      return new Promise(resolve => waiters.push(resolve));
    },
    end: () => socket.end(),
  };
}

/** A server that accepts connections and never says a byte (a silent firewall or proxy). */
export async function startBlackhole(): Promise<LineServer> {
  return startLineServer({}, () => new Promise<void>(() => undefined));
}

/** A plain-text server where TLS is expected: it answers any connection with an IMAP line. */
export async function startGarbage(): Promise<LineServer> {
  return startLineServer({}, async conn => {
    conn.write('* OK this is not TLS');
  });
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}
