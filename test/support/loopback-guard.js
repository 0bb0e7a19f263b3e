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
