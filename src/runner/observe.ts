/**
 * Gathering observations from one vantage point. A server vantage (an ECE server) probes the
 * network, the external URL and, on services servers, the mailboxes end to end with their own
 * tokens (checklist item 8: refreshes and the retriever/dispatcher run on the services server).
 * The `central` vantage reads the tenant through Entra, Graph and the Exchange admin API.
 * Everything runs concurrently; each probe keeps its own deadline.
 */
import { Agent } from 'node:https';
import type { ItemId } from '../checklist/types';
import type { Code } from '../knowledge/codes';
import { RESOURCE } from '../knowledge/permissions';
import type { ProbeContext } from '../probes/context';
import { probeDns } from '../probes/dns';
import { clientCredentials, redeemRefreshToken, type EntraTarget } from '../probes/entra';
import { getCasMailbox, getMailboxPermission, getTransportConfig } from '../probes/exo';
import {
  readApplication,
  readGrants,
  readLicenseDetails,
  readResourceServicePrincipal,
  readServicePrincipal,
  readSignIns,
} from '../probes/graph';
import { probeHttps } from '../probes/https';
import { probeImap } from '../probes/imap';
import { probePop3 } from '../probes/pop3';
import { probeSmtp } from '../probes/smtp';
import { probeTls } from '../probes/tls';
import { CENTRAL, type Observation, type ObservationKind } from '../probes/types';
import { endpointsFor, hostPort } from './endpoints';
import type { PreparedRun } from './prepare';

/** Scopes ECE's delegated token carries (o365-facts.md §1.6): the retrieve protocol and SMTP. */
export function mailboxScopes(retrieve: 'imap' | 'pop3'): string[] {
  const read = retrieve === 'imap' ? 'IMAP.AccessAsUser.All' : 'POP.AccessAsUser.All';
  return [`https://outlook.office.com/${read}`, 'https://outlook.office.com/SMTP.Send'];
}

/** The probe context of one vantage point of a run (`agent`: see ProbeContext.agent). */
export function contextFor(run: PreparedRun, vantage: string, agent?: Agent): ProbeContext {
  return {
    ...(agent ? { agent } : {}),
    vantage,
    deadlines: run.deadlines,
    ...(run.ca ? { ca: run.ca } : {}),
    hosts: Object.fromEntries(
      Object.entries(run.env.endpoints?.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    ),
    ...(run.env.endpoints?.dnsServers ? { dnsServers: run.env.endpoints.dnsServers } : {}),
    redactor: run.redactor,
  };
}

/**
 * A probe that threw instead of returning an observation is a bug; it becomes an observation
 * with code CHECK_CRASHED so the run still finishes and the finding says what broke.
 */
async function guarded(
  ctx: ProbeContext,
  kind: ObservationKind,
  target: string,
  fn: () => Promise<Observation | Observation[]>,
): Promise<Observation[]> {
  const started = new Date();
  try {
    const r = await fn();
    return Array.isArray(r) ? r : [r];
  } catch (err) {
    const code: Code = 'CHECK_CRASHED';
    return [
      {
        kind,
        vantage: ctx.vantage,
        target,
        ok: false,
        code,
        stage: 'crash',
        server: ctx.redactor.text(
          err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        ),
        startedAt: started.toISOString(),
        durationMs: Date.now() - started.getTime(),
        steps: [],
      } as unknown as Observation,
    ];
  }
}

function wants(run: PreparedRun, ...items: ItemId[]): boolean {
  return items.some(i => run.items.includes(i));
}

/** Observations from one ECE server. */
async function observeServer(
  run: PreparedRun,
  vantage: string,
  agent: Agent,
): Promise<Observation[]> {
  const server = run.env.servers.find(s => s.name === vantage);
  if (!server) throw new Error(`unknown vantage ${vantage}`);
  const ctx = contextFor(run, vantage, agent);
  const ep = endpointsFor(run.env, vantage);
  const jobs: Promise<Observation[]>[] = [];

  if (
    wants(run, 'external-url') &&
    run.env.ece.externalUrl &&
    /^https:\/\//i.test(run.env.ece.externalUrl)
  ) {
    const url = run.env.ece.externalUrl;
    jobs.push(
      guarded(ctx, 'https', url, () => probeHttps(ctx, url, ep.ece ? { connectTo: ep.ece } : {})),
    );
  }

  if (wants(run, 'network')) {
    const retrieves = new Set(run.env.mailboxes.map(m => m.retrieve));
    const targets: { hp: typeof ep.login; starttls?: 'smtp' }[] = [
      { hp: ep.login },
      { hp: ep.smtp, starttls: 'smtp' },
    ];
    if (server.role === 'services') {
      if (retrieves.has('imap')) targets.push({ hp: ep.imap });
      if (retrieves.has('pop3')) targets.push({ hp: ep.pop3 });
    }
    for (const host of new Set(targets.map(t => t.hp.host))) {
      jobs.push(guarded(ctx, 'dns', host, () => probeDns(ctx, host)));
    }
    for (const t of targets) {
      jobs.push(
        guarded(ctx, 'tls', hostPort(t.hp), () =>
          probeTls(ctx, t.hp, t.starttls ? { starttls: t.starttls } : {}),
        ),
      );
    }
  }

  const needTokens = wants(run, 'token', 'connectivity', 'mailbox-rights', 'app-registration');
  if (server.role === 'services' && needTokens) {
    const entra: EntraTarget = { login: ep.login, tenantId: run.env.tenant.id };
    const mailProbes =
      wants(run, 'connectivity') ||
      (!run.env.probe && wants(run, 'mailbox-protocols', 'mailbox-rights'));
    for (const m of run.env.mailboxes) {
      const rt = run.secrets.refreshTokens.get(m.address.toLowerCase());
      if (!rt) continue;
      jobs.push(
        guarded(ctx, 'entra-token', m.address, async () => {
          const got = await redeemRefreshToken(ctx, entra, {
            clientId: run.env.app.clientId,
            ...(run.secrets.appSecret ? { secret: run.secrets.appSecret } : {}),
            refreshToken: rt,
            scopes: mailboxScopes(m.retrieve),
            mailbox: m.address,
          });
          const out: Observation[] = [got.observation];
          if (!got.accessToken || !mailProbes) return out;
          const mctx = { ...ctx, redactor: ctx.redactor.with([got.accessToken, got.refreshToken]) };
          const token = got.accessToken;
          const mail = await Promise.all([
            guarded(mctx, m.retrieve, m.address, () =>
              m.retrieve === 'imap'
                ? probeImap(mctx, ep.imap, { user: m.address, accessToken: token })
                : probePop3(mctx, ep.pop3, { user: m.address, accessToken: token }),
            ),
            guarded(mctx, 'smtp', m.address, () =>
              probeSmtp(mctx, ep.smtp, {
                user: m.address,
                accessToken: token,
                ...(m.sendTest ? { sendTo: m.address } : {}),
              }),
            ),
          ]);
          return [...out, ...mail.flat()];
        }),
      );
    }
  }
  return (await Promise.all(jobs)).flat();
}

/** App-only scope of ecebot's own app for Graph reads. */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** App-only scope of ecebot's own app for the Exchange admin API (o365-facts.md §3.5). */
export const EXO_SCOPE = 'https://outlook.office365.com/.default';

/**
 * With a token of ecebot's own read-only app (inventory `probe`) for `scope`, run `reads`,
 * which see the token and a context that redacts it. Yields the token observation and the
 * reads' observations; nothing when no probe app is configured.
 */
export async function withProbeToken(
  run: PreparedRun,
  ctx: ProbeContext,
  scope: string,
  reads: (token: string, tctx: ProbeContext) => Promise<Observation[]>[],
): Promise<Observation[]> {
  const probe = run.env.probe;
  const secret = run.secrets.probeSecret;
  if (!probe || !secret) return [];
  return guarded(ctx, 'entra-token', probe.clientId, async () => {
    const ep = endpointsFor(run.env, CENTRAL);
    const r = await clientCredentials(
      ctx,
      { login: ep.login, tenantId: run.env.tenant.id },
      { clientId: probe.clientId, secret, scopes: [scope], purpose: 'probe-app' },
    );
    if (!r.accessToken) return [r.observation];
    const tctx = { ...ctx, redactor: ctx.redactor.with([r.accessToken]) };
    return [r.observation, ...(await Promise.all(reads(r.accessToken, tctx))).flat()];
  });
}

/** Observations of the tenant: ECE app credentials, Graph and Exchange admin reads. */
async function observeCentral(run: PreparedRun, agent: Agent): Promise<Observation[]> {
  const ctx = contextFor(run, CENTRAL, agent);
  const ep = endpointsFor(run.env, CENTRAL);
  const entra: EntraTarget = { login: ep.login, tenantId: run.env.tenant.id };
  const jobs: Promise<Observation[]>[] = [];
  const appId = run.env.app.clientId;

  if (wants(run, 'app-registration') && run.secrets.appSecret) {
    const secret = run.secrets.appSecret;
    jobs.push(
      guarded(ctx, 'entra-token', appId, async () => {
        const r = await clientCredentials(ctx, entra, {
          clientId: appId,
          secret,
          scopes: [GRAPH_SCOPE],
          purpose: 'ece-app',
        });
        return r.observation;
      }),
    );
  }

  if (wants(run, 'app-registration', 'license')) {
    jobs.push(
      withProbeToken(run, ctx, GRAPH_SCOPE, (token, gctx) => {
        const g = { graph: ep.graph, token };
        const reads: Promise<Observation[]>[] = [];
        if (wants(run, 'app-registration')) {
          reads.push(
            guarded(gctx, 'graph', 'application', () => readApplication(gctx, g, appId)),
            guarded(gctx, 'graph', 'servicePrincipal', async () => {
              const sp = await readServicePrincipal(gctx, g, appId);
              const spId = sp.data?.id;
              if (!spId) return sp;
              return [sp, await readGrants(gctx, g, spId)];
            }),
            guarded(gctx, 'graph', 'resourceServicePrincipal', () =>
              readResourceServicePrincipal(gctx, g, RESOURCE.GRAPH),
            ),
            guarded(gctx, 'graph', 'resourceServicePrincipal', () =>
              readResourceServicePrincipal(gctx, g, RESOURCE.EXCHANGE),
            ),
            guarded(gctx, 'graph', 'signIns', () => readSignIns(gctx, g, appId)),
          );
        }
        if (wants(run, 'license')) {
          for (const m of run.env.mailboxes) {
            reads.push(
              guarded(gctx, 'graph', m.address, () => readLicenseDetails(gctx, g, m.address)),
            );
          }
        }
        return reads;
      }),
    );
  }
  if (wants(run, 'mailbox-protocols', 'mailbox-rights')) {
    jobs.push(
      withProbeToken(run, ctx, EXO_SCOPE, (token, xctx) => {
        const x = { exo: ep.exo, token, tenantId: run.env.tenant.id };
        const reads: Promise<Observation[]>[] = [];
        if (wants(run, 'mailbox-protocols')) {
          reads.push(
            guarded(xctx, 'exo', 'Get-TransportConfig', () => getTransportConfig(xctx, x)),
          );
          for (const m of run.env.mailboxes) {
            reads.push(guarded(xctx, 'exo', m.address, () => getCasMailbox(xctx, x, m.address)));
          }
        }
        if (wants(run, 'mailbox-rights')) {
          for (const m of run.env.mailboxes.filter(mb => mb.access === 'shared')) {
            reads.push(
              guarded(xctx, 'exo', m.address, () => getMailboxPermission(xctx, x, m.address)),
            );
          }
        }
        return reads;
      }),
    );
  }
  return (await Promise.all(jobs)).flat();
}

/** Observations from one vantage point (a server name or `central`). */
export async function observeFrom(run: PreparedRun, vantage: string): Promise<Observation[]> {
  // One keep-alive agent per part of a run, never shared between runs: every run still makes
  // its own connections and handshakes, and nothing stays open once the part is done.
  const agent = new Agent({ keepAlive: true });
  try {
    return vantage === CENTRAL
      ? await observeCentral(run, agent)
      : await observeServer(run, vantage, agent);
  } finally {
    agent.destroy();
  }
}
