'use strict';
/**
 * Loopback guard for tests: any TCP connection to a host that is not on 127.0.0.0/8 or ::1
 * fails loudly instead of leaving the machine, and servers that listen without a host are
 * bound to 127.0.0.1. Loaded by Jest (setupFiles) and preloaded into child processes with
 * `node -r`. Host names must be mapped to 127.0.0.1 before they reach a socket.
 */
const net = require('net');

if (!net.Socket.prototype.__ecebotGuard) {
  const isLoopback = h =>
    !h || h === 'localhost' || /^127\./.test(h) || h === '::1' || h === '::ffff:127.0.0.1';
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...a) {
    if (typeof a[0] === 'number' && typeof a[1] !== 'string') a.splice(1, 0, '127.0.0.1');
    else if (a[0] && typeof a[0] === 'object' && !a[0].path && !a[0].host)
      a[0] = { ...a[0], host: '127.0.0.1' };
    return listen.apply(this, a);
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...a) {
    const o = Array.isArray(a[0]) ? a[0][0] : a[0];
    const host = o && typeof o === 'object' ? (o.path ? 'localhost' : o.host) : a[1];
    if (!isLoopback(host)) {
      const err = new Error(
        `loopback guard: refused connection to ${host} (tests talk to 127.0.0.1 only)`,
      );
      err.code = 'ELOOPBACKGUARD';
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return connect.apply(this, a);
  };
  net.Socket.prototype.__ecebotGuard = true;
}

// Name lookups: a real query would go to the machine's resolver off loopback. Only IP literals
// and localhost resolve in tests; everything else must come from a hosts map or a local DNS
// server the test starts (ProbeContext.dnsServers).
const dns = require('dns');
if (!dns.__ecebotGuard) {
  const { isIP } = require('net');
  const allowed = h => isIP(h) !== 0 || h === 'localhost';
  const refuse = h =>
    Object.assign(new Error(`loopback guard: refused DNS lookup of ${h}`), {
      code: 'ELOOPBACKGUARD',
    });
  const lookup = dns.lookup;
  dns.lookup = function (hostname, options, callback) {
    const cb = typeof options === 'function' ? options : callback;
    if (!allowed(hostname)) return process.nextTick(() => cb(refuse(hostname)));
    return lookup.apply(this, arguments);
  };
  const plookup = dns.promises.lookup;
  dns.promises.lookup = function (hostname, ...rest) {
    if (!allowed(hostname)) return Promise.reject(refuse(hostname));
    return plookup.call(this, hostname, ...rest);
  };
  const setServers = dns.Resolver.prototype.setServers;
  dns.Resolver.prototype.setServers = function (servers) {
    for (const s of servers) {
      const ip = s
        .replace(/^\[/, '')
        .replace(/\](:\d+)?$/, '')
        .replace(/:\d+$/, '');
      if (!/^127\./.test(ip) && ip !== '::1') throw refuse(`server ${s}`);
    }
    return setServers.call(this, servers);
  };
  dns.__ecebotGuard = true;
}

// Reverse lookups would also go to the off-loopback resolver (smtp-server does one per client).
if (!dns.__ecebotReverseGuard) {
  const refuseReverse = ip =>
    Object.assign(new Error(`loopback guard: refused reverse DNS lookup of ${ip}`), {
      code: 'ELOOPBACKGUARD',
    });
  dns.reverse = (ip, cb) => process.nextTick(() => cb(refuseReverse(ip)));
  dns.promises.reverse = ip => Promise.reject(refuseReverse(ip));
  dns.Resolver.prototype.reverse = function (ip, cb) {
    process.nextTick(() => cb(refuseReverse(ip)));
  };
  dns.__ecebotReverseGuard = true;
}
