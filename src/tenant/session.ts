/**
 * A tenant session: what reading one environment's tenant takes, without a checklist run.
 * The endpoints and probe context of each vantage point, and app-only tokens of ecebot's own
 * read app (inventory `probe`), kept per scope (./app-tokens.ts). Checks, the Teams admin
 * group check and sign-in all read the tenant through one.
 *
 * Holds a secret: never serialise it, never log it.
 */
import type { Agent } from 'node:https';
import type { Inventory } from '../inventory/load';
import { resolveSecret } from '../inventory/secrets';
import type { Environment } from '../inventory/types';
import type { ProbeContext } from '../probes/context';
import { guarded } from '../probes/guarded';
import type { EntraTarget, EntraTokenResult } from '../probes/entra';
import { CENTRAL, type Observation } from '../model';
import { Redactor } from '../util/redact';
import { AppTokenCache, type ProbeAppCredentials } from './app-tokens';
import { deadlinesOf, probeContext, proxyOf, readCaFile, type ContextBasis } from './context';
import type { ProxyConfig } from '../probes/context';
import { endpointsFor, type VantageEndpoints } from './endpoints';

/** What a session is made of; secrets already resolved. */
export interface TenantSessionOptions extends ContextBasis {
  /** ecebot's own read app and its secret; absent when the inventory names no `probe`. */
  probeApp?: ProbeAppCredentials;
  /** Epoch milliseconds, for when kept tokens are renewed (tests move it). */
  now?: () => number;
}

/** Reads that need an app token: each gets the token and a context that redacts it. */
export type AppTokenReads = (token: string, tctx: ProbeContext) => Promise<Observation[]>[];

/** One environment's tenant, as ecebot reads it. */
export class TenantSession {
  readonly env: Environment;
  private readonly basis: ContextBasis;
  private readonly probeApp?: ProbeAppCredentials;
  private readonly tokens?: AppTokenCache;

  constructor(o: TenantSessionOptions) {
    this.env = o.env;
    this.probeApp = o.probeApp;
    this.basis = {
      env: o.env,
      deadlines: o.deadlines,
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.proxy ? { proxy: o.proxy } : {}),
      // The secret is masked wherever the session's contexts write, whoever made the redactor.
      redactor: o.probeApp ? o.redactor.with([o.probeApp.secret]) : o.redactor,
    };
    if (o.probeApp) {
      const now = o.now ?? Date.now;
      this.tokens = new AppTokenCache(o.probeApp, this.entraTarget(), () => now());
    }
  }

  /** Whether ecebot's own read app is configured (with its secret). */
  get hasProbeApp(): boolean {
    return !!this.probeApp;
  }

  /** Where `vantage` (a server name or `central`) reaches each service. */
  endpoints(vantage: string = CENTRAL): VantageEndpoints {
    return endpointsFor(this.env, vantage);
  }

  /** The probe context of `vantage` (`agent`: see ProbeContext.agent). */
  context(vantage: string = CENTRAL, agent?: Agent): ProbeContext {
    return probeContext(this.basis, vantage, agent);
  }

  /** The tenant's Entra ID as the central vantage reaches it. */
  entraTarget(): EntraTarget {
    return { login: this.endpoints(CENTRAL).login, tenantId: this.env.tenant.id };
  }

  /**
   * An app-only token of ecebot's read app for `scope`, with the observation of the request
   * that got it (a kept token: the request that first fetched it). Undefined without a probe
   * app. `ctx` (default: the central context) is used when a request goes out.
   */
  appToken(scope: string, ctx?: ProbeContext): Promise<EntraTokenResult | undefined> {
    if (!this.tokens) return Promise.resolve(undefined);
    return this.tokens.get(scope, ctx ?? this.context(CENTRAL));
  }

  /**
   * With an app-only token for `scope`, run `reads`, which see the token and a context that
   * redacts it. Yields the token observation and the reads' observations; nothing when no probe
   * app is configured; only the token observation when Entra gave no token. `ctx` defaults to
   * the central context.
   */
  async withAppToken(
    scope: string,
    reads: AppTokenReads,
    ctx?: ProbeContext,
  ): Promise<Observation[]> {
    const app = this.probeApp;
    if (!app) return [];
    const c = ctx ?? this.context(CENTRAL);
    // A read that throws may put the token in its message: the guard's context masks it too.
    const guard = { ...c };
    return guarded(guard, 'entra-token', app.clientId, async () => {
      const r = await this.appToken(scope, c);
      if (!r) return [];
      if (!r.accessToken) return [r.observation];
      guard.redactor = c.redactor.with([r.accessToken]);
      const tctx = { ...c, redactor: guard.redactor };
      return [r.observation, ...(await Promise.all(reads(r.accessToken, tctx))).flat()];
    });
  }

  /** Whether this session was made from the same secret and CA (see TenantSessions). */
  madeFrom(probeSecret: string | undefined, ca: string | undefined, proxy?: ProxyConfig): boolean {
    const p = this.basis.proxy;
    const sameProxy =
      p?.origin === proxy?.origin &&
      p?.credentials?.user === proxy?.credentials?.user &&
      p?.credentials?.password === proxy?.credentials?.password &&
      (p?.noProxy ?? []).join(',') === (proxy?.noProxy ?? []).join(',');
    return this.probeApp?.secret === probeSecret && this.basis.ca === ca && sameProxy;
  }
}

/** The probe app's secret, resolved; undefined when the inventory names no `probe`. */
function probeSecretOf(
  env: Environment,
  inv: Inventory | undefined,
  vars: NodeJS.ProcessEnv,
): string | undefined {
  return env.probe
    ? resolveSecret(env.probe.secret, env, inv, ['probe', 'secret'], vars)
    : undefined;
}

/**
 * A session for `env`: resolves the probe app's secret (only that one: the tenant needs no
 * other) and reads the CA file. Bad input throws InputError before anything goes out.
 */
export function openTenantSession(
  env: Environment,
  inv: Inventory | undefined,
  vars: NodeJS.ProcessEnv,
  opts: { now?: () => number } = {},
): TenantSession {
  return sessionFrom(
    env,
    probeSecretOf(env, inv, vars),
    readCaFile(env, inv),
    opts.now,
    proxyOf(env, inv, vars),
  );
}

function sessionFrom(
  env: Environment,
  secret: string | undefined,
  ca: string | undefined,
  now?: () => number,
  proxy?: ProxyConfig,
): TenantSession {
  return new TenantSession({
    env,
    deadlines: deadlinesOf(env),
    ...(ca ? { ca } : {}),
    ...(proxy ? { proxy } : {}),
    redactor: new Redactor([secret ?? '']),
    ...(env.probe && secret ? { probeApp: { clientId: env.probe.clientId, secret } } : {}),
    ...(now ? { now } : {}),
  });
}

/**
 * Sessions kept per environment, so app tokens are reused across requests (the bot's group
 * checks and sign-ins). The secret and CA are read again on every `open`, as for every run
 * (secrets are never cached, ../inventory/cache.ts): a rotated secret or CA, or a
 * reloaded inventory (new Environment objects), gives a new session with no tokens.
 */
export class TenantSessions {
  private readonly byEnv = new WeakMap<Environment, TenantSession>();

  constructor(private readonly o: { vars: NodeJS.ProcessEnv; now?: () => number }) {}

  /** The session of `env`; throws InputError as openTenantSession does. */
  open(env: Environment, inv: Inventory | undefined): TenantSession {
    const secret = probeSecretOf(env, inv, this.o.vars);
    const ca = readCaFile(env, inv);
    const proxy = proxyOf(env, inv, this.o.vars);
    const kept = this.byEnv.get(env);
    if (kept?.madeFrom(secret, ca, proxy)) return kept;
    const session = sessionFrom(env, secret, ca, this.o.now, proxy);
    this.byEnv.set(env, session);
    return session;
  }
}

/** What a prepared run holds for its tenant (structurally ../runner/prepare.ts PreparedRun). */
export interface RunTenantParts extends ContextBasis {
  secrets: { probeSecret?: string };
}

const RUN_SESSIONS = new WeakMap<RunTenantParts, TenantSession>();

/**
 * The session of a prepared run, made once per run from what the run already resolved (its
 * secrets, CA, deadlines and redactor, which also masks the run's other secrets).
 */
export function sessionOfRun(run: RunTenantParts): TenantSession {
  let s = RUN_SESSIONS.get(run);
  if (!s) {
    const secret = run.secrets.probeSecret;
    s = new TenantSession({
      env: run.env,
      deadlines: run.deadlines,
      ...(run.ca ? { ca: run.ca } : {}),
      ...(run.proxy ? { proxy: run.proxy } : {}),
      redactor: run.redactor,
      ...(run.env.probe && secret
        ? { probeApp: { clientId: run.env.probe.clientId, secret } }
        : {}),
    });
    RUN_SESSIONS.set(run, s);
  }
  return s;
}
