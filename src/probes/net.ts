/**
 * Name resolution shared by every probe: the inventory's hosts map first (like a hosts file,
 * which is how the lab sends real Microsoft names to 127.0.0.1), then the system resolver under
 * the DNS deadline. Connections then go to the address with the real name as TLS servername,
 * so certificates are always checked against the name a user would type.
 */
import { lookup as dnsLookup, Resolver, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { ProbeContext } from './context';

/** Result of resolving one name. */
export interface Resolution {
  addresses: string[];
  source: 'dns' | 'inventory' | 'literal';
}

/** Error codes from the system resolver that mean "no such name". */
const NOT_FOUND = new Set([
  'ENOTFOUND',
  'ENODATA',
  'EAI_NONAME',
  'EAI_NODATA',
  'NOTFOUND',
  'NODATA',
]);

/**
 * Error codes for a DNS server that answered, but with a failure (RCODE 2 SERVFAIL or 5 REFUSED,
 * RFC 1035 §4.1.1): a quick answer, not a timeout, and not proof that the name does not exist.
 */
const SERVER_FAILURE = new Set(['ESERVFAIL', 'SERVFAIL', 'EREFUSED', 'REFUSED']);

/** Thrown by resolveHost; `code` is a registry code. */
export class ResolveError extends Error {
  constructor(
    message: string,
    readonly code: 'DNS_NOT_FOUND' | 'DNS_TIMEOUT' | 'DNS_SERVER_FAILURE',
    readonly sysCode?: string,
  ) {
    super(message);
    this.name = 'ResolveError';
  }
}

/** Resolve `host` for `ctx`: hosts map, IP literal, or DNS within `ctx.deadlines.dnsMs`. */
export function resolveHost(ctx: ProbeContext, host: string): Promise<Resolution> {
  const mapped = ctx.hosts[host.toLowerCase()] ?? ctx.hosts[host];
  if (mapped) return Promise.resolve({ addresses: [mapped], source: 'inventory' });
  if (isIP(host)) return Promise.resolve({ addresses: [host], source: 'literal' });
  if (ctx.dnsServers?.length) return resolveWithServers(ctx, host);
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(
        new ResolveError(
          `DNS lookup of ${host} gave no answer within ${ctx.deadlines.dnsMs} ms`,
          'DNS_TIMEOUT',
        ),
      );
    }, ctx.deadlines.dnsMs);
    dnsLookup(host, { all: true }, (err, addrs: LookupAddress[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        reject(failure(host, err));
        return;
      }
      if (!addrs.length) {
        reject(new ResolveError(`DNS lookup of ${host} returned no address`, 'DNS_NOT_FOUND'));
        return;
      }
      resolve({ addresses: addrs.map(a => a.address), source: 'dns' });
    });
  });
}

function failure(host: string, err: NodeJS.ErrnoException): ResolveError {
  const sys = err.code ?? '';
  const code = NOT_FOUND.has(sys)
    ? 'DNS_NOT_FOUND'
    : SERVER_FAILURE.has(sys)
      ? 'DNS_SERVER_FAILURE'
      : 'DNS_TIMEOUT';
  return new ResolveError(
    `DNS lookup of ${host} failed: ${err.code ?? err.message}`,
    code,
    err.code,
  );
}

/** Ask the given DNS servers directly (A, then AAAA), one try, within the DNS deadline. */
async function resolveWithServers(ctx: ProbeContext, host: string): Promise<Resolution> {
  const resolver = new Resolver({ timeout: ctx.deadlines.dnsMs, tries: 1 });
  resolver.setServers(ctx.dnsServers ?? []);
  const ask = (fn: 'resolve4' | 'resolve6') =>
    new Promise<string[]>((ok, fail) => resolver[fn](host, (err, a) => (err ? fail(err) : ok(a))));
  try {
    return { addresses: await ask('resolve4'), source: 'dns' };
  } catch (err4) {
    const e = err4 as NodeJS.ErrnoException;
    // c-ares answers ENODATA when the name exists without A records: try AAAA before giving up.
    if (e.code !== 'ENODATA') throw failure(host, e);
    try {
      return { addresses: await ask('resolve6'), source: 'dns' };
    } catch (err6) {
      throw failure(host, err6 as NodeJS.ErrnoException);
    }
  }
}

/**
 * A `lookup` function for net/tls/https options that honours the hosts map and the DNS deadline,
 * for libraries (msal's network client, http agents) that resolve names themselves.
 */
export function lookupFor(ctx: ProbeContext): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(ctx, hostname).then(
      r => {
        const address = r.addresses[0]!;
        const family = isIP(address) || 4;
        if (typeof options === 'object' && options && (options as { all?: boolean }).all) {
          (callback as unknown as (e: null, a: LookupAddress[]) => void)(
            null,
            r.addresses.map(a => ({ address: a, family: isIP(a) || 4 })),
          );
        } else {
          callback(null, address, family);
        }
      },
      (err: ResolveError) => {
        const e = Object.assign(new Error(err.message), {
          code: err.sysCode ?? (err.code === 'DNS_TIMEOUT' ? 'ETIMEOUT' : 'ENOTFOUND'),
        });
        callback(e as NodeJS.ErrnoException, '', 4);
      },
    );
  };
}
