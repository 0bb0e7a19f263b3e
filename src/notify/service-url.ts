/**
 * Which `serviceUrl`s ecebot follows. A conversation reference comes back from Redis, and Redis
 * is a trust boundary: whoever can write a key there could point a stored reference anywhere.
 * botbuilder signs every outbound connector call with the bot's app token whatever the host
 * (teams-bot-notes.md, 2026-12 additions), so a reference is followed only when its host is one
 * of the Bot Framework / Teams connector hosts.
 *
 * The hosts (sources):
 * - Public cloud: `smba.trafficmanager.net`, with a regional path (`/emea/`, `/amer/`, `/teams/`…)
 *   — "the base part of the Service URL is … https://smba.trafficmanager.net/; the region part
 *   … would change" (learn.microsoft.com/en-us/answers/questions/533809/caching-service-url-for-bot-framework,
 *   and 932373/about-serviceurl-pattern: "this url will remain constant but very rarely … might
 *   change", so the policy is by host, never by full URL).
 * - Sovereign clouds, from the Agents SDK's `TeamsServiceEndpoints`
 *   (microsoft.github.io/Agents-for-js/variables/_microsoft_agents-hosting.TeamsServiceEndpoints.html):
 *   GCC `smba.infra.gcc.teams.microsoft.com`, GCC High `smba.infra.gov.teams.microsoft.us`,
 *   DoD `smba.infra.dod.teams.microsoft.us`. They are not followed by default: a deployment in
 *   one of those clouds lists its host in `ECEBOT_SERVICE_URL_HOSTS`.
 *
 * Local mode (no `MicrosoftAppId`) also follows loopback hosts over plain http: that is where the
 * Bot Framework Emulator and the tests' fake connector listen, and without an app id botbuilder
 * sends no Authorization header at all (MicrosoftAppCredentials.Empty, teams-bot-notes.md §1).
 * With an app id, a loopback host is followed (http or https) only when listed explicitly.
 */

/** The connector host of Microsoft's public cloud (every region: the region is in the path). */
export const PUBLIC_CLOUD_SERVICE_HOSTS: readonly string[] = ['smba.trafficmanager.net'];

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/** The hosts a deployment follows. */
export interface ServiceUrlPolicy {
  /** Lower-case host names, exact (no wildcards: the connector hosts are few and fixed). */
  hosts: readonly string[];
  /** Any loopback host, http or https (local mode); listed loopback hosts are followed anyway. */
  loopback: boolean;
}

/**
 * The policy from the environment: `ECEBOT_SERVICE_URL_HOSTS` (comma-separated host names)
 * replaces the public-cloud default; loopback is followed only in local mode.
 */
export function serviceUrlPolicyFrom(vars: NodeJS.ProcessEnv): ServiceUrlPolicy {
  const raw = vars.ECEBOT_SERVICE_URL_HOSTS?.trim();
  const hosts = raw
    ? raw
        .split(',')
        .map(h => h.trim().toLowerCase())
        .filter(Boolean)
    : [...PUBLIC_CLOUD_SERVICE_HOSTS];
  for (const h of hosts)
    if (!/^[a-z0-9.-]+$/.test(h) || h.startsWith('.') || h.endsWith('.'))
      throw new Error(
        `ECEBOT_SERVICE_URL_HOSTS: "${h}" is not a host name; list connector hosts such as smba.trafficmanager.net, separated by commas`,
      );
  return { hosts, loopback: !vars.MicrosoftAppId?.trim() };
}

/** Why a serviceUrl is not followed, or undefined when it is. Never echoes the URL itself. */
export function serviceUrlRefusal(url: unknown, policy: ServiceUrlPolicy): string | undefined {
  if (typeof url !== 'string' || !url) return 'no serviceUrl';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'serviceUrl is not a URL';
  }
  // Credentials in a URL would be sent by fetch as Basic auth and end up in logs.
  if (u.username || u.password) return 'serviceUrl carries credentials';
  const host = u.hostname.toLowerCase();
  if (LOOPBACK.has(host)) {
    if (!policy.loopback && !policy.hosts.includes(host))
      return `host ${host} is loopback, followed only in local mode or when listed`;
    return u.protocol === 'http:' || u.protocol === 'https:'
      ? undefined
      : `scheme ${u.protocol} is not http(s)`;
  }
  if (u.protocol !== 'https:') return `scheme ${u.protocol} is not https`;
  if (!policy.hosts.includes(host))
    return `host ${host} is not a Bot Framework connector host (ECEBOT_SERVICE_URL_HOSTS)`;
  return undefined;
}

/** A stored reference whose serviceUrl is not followed. Its message names the host, never a token. */
export class UntrustedServiceUrlError extends Error {
  /** Stable code for callers and logs. */
  readonly code = 'UNTRUSTED_SERVICE_URL';

  constructor(
    readonly conversation: string,
    readonly reason: string,
  ) {
    super(
      `refused to follow the stored conversation reference for ${conversation}: ${reason}; the reference in Redis was changed or comes from another cloud (set ECEBOT_SERVICE_URL_HOSTS for sovereign clouds)`,
    );
    this.name = 'UntrustedServiceUrlError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
