/**
 * Who may do what in Teams. Three independent gates, all decided here so the handlers and the
 * activity handler only ask:
 *
 * 1. **Tenants** (`ECEBOT_TENANTS`): an activity from a tenant that is not allowed is refused
 *    before anything else happens (no conversation reference kept, no command run).
 * 2. **Admins** (`ECEBOT_ADMINS` object ids, `ECEBOT_ADMIN_GROUPS` group ids): commands and card
 *    actions whose role is `admin` (./commands.ts) need one. Group membership is asked of
 *    Microsoft Graph (`POST /users/{id}/checkMemberGroups`, transitive) with the probe app of
 *    the inventory environment in the user's tenant, and kept for five minutes.
 * 3. **Tenant-owned environments** (inventory `environments[].tenants`, else the environment's
 *    own `tenant.id`): for a Teams tenant not in that set the environment does not exist.
 * 4. **Team-restricted environments** (inventory `environments[].teams`): outside the listed
 *    teams such an environment does not exist: not listed, not parsed, its runs not shown.
 *
 * 3 and 4 are one function, {@link visibleAt}; every command, button, search, share, alert and
 * digest asks it (docs/security.md, "An environment belongs to its tenant").
 *
 * Refusals are logged at warn with who, where, what and why, never with a token.
 */
import type { Activity } from 'botbuilder';
import { InputError } from '../inventory/errors';
import type { Inventory } from '../inventory/load';
import type { Environment } from '../inventory/types';
import type { HostPort, ProbeContext } from '../probes/context';
import { httpsRequest, HttpNetworkError } from '../probes/http-client';
import { GRAPH_SCOPE } from '../runner/observe';
import { TenantSessions } from '../tenant/session';
import type { Store } from '../store/types';
import { loadConversation, type ConversationRecord, type TeamsChannelData } from './conversations';
import type { BotLog } from './log';

/** Who is asking. */
export interface Requester {
  id: string;
  name: string;
  /** Entra object id (Teams sends it as `from.aadObjectId`). */
  aadObjectId?: string;
  /** The Entra tenant the activity came from (`channelData.tenant.id`). */
  tenantId?: string;
}

/** Decides whether someone may use `admin` commands and card actions. */
export type AdminCheck = (user: Requester) => Promise<boolean>;

/** Where an activity comes from, as far as access goes. */
export interface Place {
  /** `channelData.tenant.id`, else `conversation.tenantId`. */
  tenantId?: string;
  /**
   * The team, as every name Teams gives it: `channelData.team.id` and, when sent,
   * `channelData.team.aadGroupId`. Empty in personal and group chats (outside every team).
   */
  teams: string[];
  /**
   * No tenant boundary applies: only in local mode without `ECEBOT_TENANTS` (tenantGate mode
   * `open`), where no token is checked and so no tenant id is established. Never inferred
   * from a missing tenant id: a place without one sees no environment.
   */
  anyTenant?: boolean;
}

/** The place of an incoming activity. */
export function placeOf(activity: Partial<Activity>): Place {
  const cd = (activity.channelData ?? {}) as TeamsChannelData;
  const tenantId = cd.tenant?.id || activity.conversation?.tenantId || undefined;
  const teams = [cd.team?.id, cd.team?.aadGroupId].filter((t): t is string => !!t);
  return { ...(tenantId ? { tenantId } : {}), teams };
}

const GUID = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

/** A comma-separated list of a variable, trimmed and lowercased; GUIDs only when `guids`. */
function idList(vars: NodeJS.ProcessEnv, name: string, guids: boolean): string[] {
  const ids = (vars[name] ?? '')
    .split(',')
    .map(s => s.trim().toLowerCase())
    .filter(Boolean);
  const bad = guids ? ids.find(id => !GUID.test(id)) : undefined;
  if (bad !== undefined) {
    // A typo here would lock everyone out (or let nobody in) without a word: stop at start-up.
    throw new InputError(
      `${name} has ${JSON.stringify(bad)}, which is not a GUID`,
      `list Entra ids separated by commas, e.g. ${name}=00000000-0000-0000-0000-000000000000`,
    );
  }
  return ids;
}

/** How the tenant list was decided. */
export type TenantMode = 'listed' | 'inventory' | 'open';

/** The tenant allowlist. */
export interface TenantGate {
  mode: TenantMode;
  allows(tenantId: string | undefined): boolean;
}

/**
 * The tenants whose activities are served.
 *
 * - `ECEBOT_TENANTS` set (comma-separated tenant GUIDs): exactly those.
 * - Unset, with `MicrosoftAppId` (a real deployment): the tenants the inventory lets see an
 *   environment ({@link teamsTenantsOf}, read live so a reloaded inventory counts) plus
 *   `MicrosoftAppTenantId`. A secure default: a multi-tenant bot registration can be added to
 *   any tenant, and a stranger's tenant has no business with these environments.
 * - Unset in local mode (no app id: Agents Playground, tests): every tenant.
 *
 * An activity without a tenant id is refused whenever a list applies.
 */
export function tenantGate(vars: NodeJS.ProcessEnv, inventory: () => Inventory): TenantGate {
  const listed = idList(vars, 'ECEBOT_TENANTS', true);
  if (listed.length) {
    const set = new Set(listed);
    return { mode: 'listed', allows: t => !!t && set.has(t.toLowerCase()) };
  }
  if (!vars.MicrosoftAppId) return { mode: 'open', allows: () => true };
  const own = vars.MicrosoftAppTenantId?.trim().toLowerCase();
  return {
    mode: 'inventory',
    allows: t => {
      if (!t) return false;
      const id = t.toLowerCase();
      if (own && id === own) return true;
      for (const env of inventory().environments.values())
        if (teamsTenantsOf(env).includes(id)) return true;
      return false;
    },
  };
}

/** The answer of a group check: the groups the user is in, or why it could not be asked. */
export type GroupAnswer = { ok: true; member: string[] } | { ok: false; reason: string };

/** Which of `groupIds` the user (`objectId` in `tenantId`) is a member of, transitively. */
export type GroupCheck = (
  tenantId: string,
  objectId: string,
  groupIds: readonly string[],
) => Promise<GroupAnswer>;

/** checkMemberGroups takes at most 20 group ids per request (Graph v1.0 reference). */
const GROUPS_PER_REQUEST = 20;

/** One checkMemberGroups request. */
async function checkMemberGroups(
  ctx: ProbeContext,
  graph: HostPort,
  token: string,
  objectId: string,
  groupIds: readonly string[],
): Promise<GroupAnswer> {
  let answer;
  try {
    answer = await httpsRequest(ctx, {
      method: 'POST',
      target: graph,
      path: `/v1.0/users/${encodeURIComponent(objectId)}/checkMemberGroups`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({ groupIds }),
    });
  } catch (err) {
    const code = err instanceof HttpNetworkError ? err.code : 'NETWORK_ERROR';
    return { ok: false, reason: `Graph checkMemberGroups: ${code}` };
  }
  const json = answer.json as
    { value?: unknown; error?: { code?: string; message?: string } } | undefined;
  if (answer.status !== 200) {
    const said = json?.error ? `${json.error.code ?? ''}: ${json.error.message ?? ''}` : '';
    return {
      ok: false,
      reason: ctx.redactor.text(`Graph checkMemberGroups answered ${answer.status} ${said}`.trim()),
    };
  }
  if (!Array.isArray(json?.value) || !json.value.every(v => typeof v === 'string'))
    return { ok: false, reason: 'Graph checkMemberGroups answered 200 without a value list' };
  return { ok: true, member: (json.value as string[]).map(v => v.toLowerCase()) };
}

/**
 * Group checks through Microsoft Graph with the app-only token of the probe app of the
 * inventory environment in the user's tenant (the first one with a `probe`); that app already
 * holds Directory.Read.All (o365-facts.md §3.6), which checkMemberGroups accepts. The token
 * comes from that environment's tenant session, so checks for several people share one.
 */
export function graphGroupCheck(o: {
  inventory: () => Inventory;
  vars: NodeJS.ProcessEnv;
  /** Tenant sessions to use (and share with sign-ins); new ones from `vars` by default. */
  sessions?: TenantSessions;
}): GroupCheck {
  const sessions = o.sessions ?? new TenantSessions({ vars: o.vars });
  return async (tenantId, objectId, groupIds) => {
    const inv = o.inventory();
    const env = [...inv.environments.values()].find(
      e => e.tenant.id.toLowerCase() === tenantId.toLowerCase() && e.probe,
    );
    if (!env)
      return {
        ok: false,
        reason: `no inventory environment with a probe app is in tenant ${tenantId}`,
      };
    let session;
    try {
      session = sessions.open(env, inv);
    } catch (err) {
      return { ok: false, reason: `environment ${env.name}: ${(err as Error).message}` };
    }
    const graph = session.endpoints().graph;
    const answers: GroupAnswer[] = [];
    const seen = await session.withAppToken(GRAPH_SCOPE, (token, tctx) => [
      (async () => {
        for (let i = 0; i < groupIds.length; i += GROUPS_PER_REQUEST) {
          const a = await checkMemberGroups(
            tctx,
            graph,
            token,
            objectId,
            groupIds.slice(i, i + GROUPS_PER_REQUEST),
          );
          answers.push(a);
          if (!a.ok) break;
        }
        return [];
      })(),
    ]);
    const token = seen.find(x => x.kind === 'entra-token');
    if (!token)
      return { ok: false, reason: `environment ${env.name}: the probe app has no secret` };
    if (!token.ok)
      return {
        ok: false,
        reason: `environment ${env.name}: no probe app token (${token.code})`,
      };
    const failed = answers.find(a => !a.ok);
    if (failed) return failed;
    return { ok: true, member: answers.flatMap(a => (a.ok ? a.member : [])) };
  };
}

/** How long a group answer is kept. */
const GROUP_CACHE_MS = 5 * 60_000;
/** Entries kept at most; expired ones go first. */
const GROUP_CACHE_MAX = 1000;

/** The admin check and whether any admin is configured at all. */
export interface AdminAccess {
  isAdmin: AdminCheck;
  /** Neither ECEBOT_ADMINS nor ECEBOT_ADMIN_GROUPS is set (the refusal says what to set). */
  unset: boolean;
}

/**
 * Admins from `ECEBOT_ADMINS` (Entra object ids; Teams user ids `29:…` also match) and
 * `ECEBOT_ADMIN_GROUPS` (Entra group object ids, checked through `groupCheck`). With neither
 * set, everyone is an admin in local mode (the Agents Playground has no directory to ask) and
 * nobody is with `MicrosoftAppId`: a deployed bot never hands out admin rights by omission.
 * A group check that cannot be made (no environment for the tenant, a Graph error) means
 * "not an admin" and is logged with the reason; only answers Graph gave are cached.
 */
export function adminAccess(o: {
  vars: NodeJS.ProcessEnv;
  localMode: boolean;
  groupCheck: GroupCheck;
  log: BotLog;
  now?: () => Date;
  cacheMs?: number;
}): AdminAccess {
  const ids = new Set(idList(o.vars, 'ECEBOT_ADMINS', false));
  const groups = idList(o.vars, 'ECEBOT_ADMIN_GROUPS', true);
  if (!ids.size && !groups.length) {
    const everyone = o.localMode;
    return { isAdmin: () => Promise.resolve(everyone), unset: true };
  }
  const now = () => (o.now ? o.now() : new Date()).getTime();
  const ttl = o.cacheMs ?? GROUP_CACHE_MS;
  const cache = new Map<string, { until: number; admin: Promise<boolean> }>();
  const prune = () => {
    const t = now();
    for (const [k, v] of cache) if (v.until <= t) cache.delete(k);
    while (cache.size >= GROUP_CACHE_MAX) cache.delete(cache.keys().next().value!);
  };
  const viaGroups = (user: Requester): Promise<boolean> => {
    const oid = user.aadObjectId?.toLowerCase();
    const tenant = user.tenantId?.toLowerCase();
    if (!oid || !tenant) {
      o.log.warn(
        { userObjectId: user.aadObjectId, tenant: user.tenantId },
        'admin group check skipped: the activity names no Entra object id or tenant',
      );
      return Promise.resolve(false);
    }
    const key = `${tenant}|${oid}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.admin;
    prune();
    const admin = o.groupCheck(tenant, oid, groups).then(
      a => {
        if (a.ok) return a.member.some(g => groups.includes(g));
        cache.delete(key);
        o.log.warn(
          { userObjectId: oid, tenant, reason: a.reason },
          'admin group check could not be made; treated as not an admin',
        );
        return false;
      },
      (err: unknown) => {
        cache.delete(key);
        o.log.warn(
          { userObjectId: oid, tenant, reason: err instanceof Error ? err.message : String(err) },
          'admin group check failed; treated as not an admin',
        );
        return false;
      },
    );
    cache.set(key, { until: now() + ttl, admin });
    return admin;
  };
  return {
    unset: false,
    isAdmin: async user => {
      if (ids.has(user.id.toLowerCase())) return true;
      if (user.aadObjectId && ids.has(user.aadObjectId.toLowerCase())) return true;
      return groups.length ? viaGroups(user) : false;
    },
  };
}

/**
 * An admin check from a plain list of Entra object ids or Teams user ids, for embedding and
 * tests. An empty list makes everyone an admin, as local mode does.
 */
export function adminCheck(list: readonly string[] | undefined): AdminCheck {
  const ids = new Set((list ?? []).map(s => s.trim().toLowerCase()).filter(Boolean));
  if (!ids.size) return () => Promise.resolve(true);
  return u =>
    Promise.resolve(
      ids.has(u.id.toLowerCase()) || (!!u.aadObjectId && ids.has(u.aadObjectId.toLowerCase())),
    );
}

/**
 * The Teams tenants (`channelData.tenant.id`, lowercased) whose users may see an environment:
 * its `tenants` list when the inventory gives one (an MSP's own Teams tenant, say), else the
 * environment's own Entra tenant, the customer's, where its mailboxes live.
 */
export function teamsTenantsOf(env: Pick<Environment, 'tenant' | 'tenants'>): string[] {
  return (env.tenants?.length ? env.tenants : [env.tenant.id]).map(t => t.toLowerCase());
}

/** Why an environment does not exist for a place, or undefined when it does. */
export function whyHidden(env: Environment, place: Place): string | undefined {
  if (!place.anyTenant) {
    const tenant = place.tenantId?.toLowerCase();
    if (!tenant || !teamsTenantsOf(env).includes(tenant)) return 'environment of another tenant';
  }
  if (!env.teams?.length) return undefined;
  const here = new Set(place.teams.map(t => t.toLowerCase()));
  return env.teams.some(t => here.has(t.toLowerCase()))
    ? undefined
    : 'environment restricted to other teams';
}

/**
 * Whether an environment exists for a place: the place's tenant may see it (unless no tenant
 * boundary applies, `anyTenant`) and it is unrestricted or restricted to a team the place is in.
 */
export function visibleAt(env: Environment, place: Place): boolean {
  return whyHidden(env, place) === undefined;
}

/** The place of a stored conversation (its tenant and team, as the record names them). */
export function placeOfRecord(
  rec: Pick<ConversationRecord, 'teamId' | 'aadGroupId' | 'tenantId'>,
  anyTenant = false,
): Place {
  return {
    ...(rec.tenantId ? { tenantId: rec.tenantId } : {}),
    teams: [rec.teamId, rec.aadGroupId].filter((t): t is string => !!t),
    ...(anyTenant ? { anyTenant: true } : {}),
  };
}

/** Whether an environment exists for a stored conversation. */
export function visibleIn(
  env: Environment,
  rec: Pick<ConversationRecord, 'teamId' | 'aadGroupId' | 'tenantId'>,
  anyTenant = false,
): boolean {
  return visibleAt(env, placeOfRecord(rec, anyTenant));
}

/** The inventory as a place sees it: other tenants' and other teams' environments left out. */
export function inventoryAt(inv: Inventory, place: Place): Inventory {
  const kept = [...inv.environments].filter(([, env]) => visibleAt(env, place));
  if (kept.length === inv.environments.size) return inv;
  const environments = new Map(kept);
  return {
    environments,
    lineOf: (env, path) => (environments.has(env) ? inv.lineOf(env, path) : undefined),
  };
}

/**
 * Why `name`, an environment that exists, does not exist for this place (for the log only:
 * the answer is the one for an unknown name); undefined when it is visible or not in the
 * inventory at all.
 */
export function hiddenAt(inv: Inventory, place: Place, name: string): string | undefined {
  const env = inv.environments.get(name.toLowerCase()) ?? inv.environments.get(name);
  return env ? whyHidden(env, place) : undefined;
}

/** Whether `name` is an environment that exists for this place. */
export function seenAt(inv: Inventory, place: Place, name: string): boolean {
  const env = inv.environments.get(name.toLowerCase()) ?? inv.environments.get(name);
  return !!env && visibleAt(env, place);
}

/** The environment of a run id (`<env>-<yyyymmddhhmmss>-<4 hex>`, runner/prepare.ts newRunId). */
export function environmentOfRunId(runId: string): string | undefined {
  return /^(.+)-\d{14}-[0-9a-f]{4}$/.exec(runId)?.[1];
}

/** One refusal, as logged. */
export interface Refusal {
  user: Requester;
  /** The command or card action verb. */
  command: string;
  environment?: string;
  reason: string;
}

/** Log a refusal at warn: user object id, tenant, command/verb, environment and reason. */
export function logRefusal(log: BotLog, r: Refusal): void {
  log.warn(
    {
      userObjectId: r.user.aadObjectId,
      tenant: r.user.tenantId,
      command: r.command,
      ...(r.environment ? { environment: r.environment } : {}),
      reason: r.reason,
    },
    'refused',
  );
}

/**
 * Who may still get an environment's alerts and digests: a subscribed conversation whose stored
 * record shows it in an allowed tenant that may see the environment ({@link teamsTenantsOf})
 * and, for a team-restricted environment, in one of its teams.
 * Subscriptions are checked when made; this keeps a later restriction (inventory `teams`,
 * `ECEBOT_TENANTS`) from being bypassed by an old one. Unknown conversations get nothing.
 */
export function alertAudience(o: {
  store: Store;
  inventory: () => Inventory;
  tenants: TenantGate;
}): (environment: string, conversation: string) => Promise<boolean> {
  return async (environment, conversation) => {
    const env = o.inventory().environments.get(environment);
    if (!env) return false;
    const rec = await loadConversation(o.store, conversation);
    if (!rec) return false;
    return o.tenants.allows(rec.tenantId) && visibleIn(env, rec, o.tenants.mode === 'open');
  };
}
