/**
 * What `ecebot serve` may expose. Without MicrosoftAppId the bot runs in local mode: no Bot
 * Framework token check at all, so anyone who reaches the port can run checks and read cards.
 * That is meant for the Agents Playground on the same machine; on any other interface it would
 * be an open door, so local mode refuses a host that is not loopback.
 */
import { isIP } from 'node:net';
import { InputError } from '../inventory/errors';

/**
 * Whether `host` names only the loopback interface: `localhost`, 127.0.0.0/8 (RFC 1122
 * §3.2.1.3: "internal host loopback address") or ::1 (RFC 4291 §2.5.3), also as an
 * IPv4-mapped address (::ffff:127.x.y.z, RFC 4291 §2.5.5.2). `0.0.0.0` and `::` are every
 * interface, not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  const v4 = mapped ? mapped[1]! : h;
  if (isIP(v4) === 4) return v4.split('.')[0] === '127';
  if (isIP(h) === 6) return /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(h);
  return false;
}

/** Refuse local mode (no MicrosoftAppId) on a host that is not loopback; nothing starts. */
export function checkLocalModeHost(vars: NodeJS.ProcessEnv): void {
  const host = vars.ECEBOT_HOST?.trim();
  if (vars.MicrosoftAppId || !host || isLoopbackHost(host)) return;
  throw new InputError(
    `serve: ECEBOT_HOST=${host} without MicrosoftAppId would expose the bot unauthenticated (local mode checks no Bot Framework token)`,
    'set MicrosoftAppId (and MicrosoftAppPassword) for a bot reachable from the network, or leave ECEBOT_HOST unset (or 127.0.0.1) for local use',
  );
}
