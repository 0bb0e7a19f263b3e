/**
 * App-only tokens of ecebot's own read app (inventory `probe`), kept per scope. A tenant
 * session asks Entra once per scope and hands the same token to every read until shortly
 * before it expires, as msal does in its own cache; requests made while one is under way wait
 * for that one. A refusal, a network failure or a token without `exp` is not kept: the next
 * caller asks Entra again, so a fixed secret is picked up at once.
 *
 * The token comes from `clientCredentials` (../probes/entra.ts), which builds a fresh msal
 * application every time and so never answers from msal's cache: this file is the only cache.
 */
import type { ProbeContext } from '../probes/context';
import { clientCredentials, type EntraTarget, type EntraTokenResult } from '../probes/entra';

/**
 * How long before `exp` a kept token is renewed: msal-node's default
 * `tokenRenewalOffsetSeconds` (msal-common Constants DEFAULT_TOKEN_RENEWAL_OFFSET_SEC = 300),
 * so a read never starts with a token about to run out.
 */
export const RENEW_BEFORE_EXPIRY_MS = 300_000;

/** ecebot's own read app with its resolved client secret. */
export interface ProbeAppCredentials {
  clientId: string;
  secret: string;
}

interface Entry {
  result: Promise<EntraTokenResult>;
  /** Epoch milliseconds after which the token is asked for again; unset while in flight. */
  renewAt?: number;
}

/** App-only tokens of one app in one tenant, per scope. */
export class AppTokenCache {
  private readonly byScope = new Map<string, Entry>();

  constructor(
    private readonly app: ProbeAppCredentials,
    private readonly target: EntraTarget,
    private readonly now: () => number,
  ) {}

  /**
   * A token for `scope` (`<resource>/.default`), with the observation of the request that got
   * it: a kept token comes with the observation of the request that fetched it. `ctx` is used
   * only when a request goes out.
   */
  get(scope: string, ctx: ProbeContext): Promise<EntraTokenResult> {
    const hit = this.byScope.get(scope);
    if (hit && (hit.renewAt === undefined || hit.renewAt > this.now())) return hit.result;
    const entry: Entry = {
      result: clientCredentials(ctx, this.target, {
        clientId: this.app.clientId,
        secret: this.app.secret,
        scopes: [scope],
        purpose: 'probe-app',
      }).then(
        r => {
          const exp = r.observation.claims?.exp;
          if (r.accessToken && exp !== undefined)
            entry.renewAt = exp * 1000 - RENEW_BEFORE_EXPIRY_MS;
          else this.drop(scope, entry);
          return r;
        },
        (err: unknown) => {
          this.drop(scope, entry);
          throw err;
        },
      ),
    };
    this.byScope.set(scope, entry);
    return entry.result;
  }

  /** Forget `entry` unless a newer request has taken its place. */
  private drop(scope: string, entry: Entry): void {
    if (this.byScope.get(scope) === entry) this.byScope.delete(scope);
  }
}
