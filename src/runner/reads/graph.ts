/**
 * Graph reads with ecebot's read-only app (o365-facts.md §3): ECE's application object, its
 * service principal and delegated grants, the resource service principals whose scopes the
 * grants name, the sign-in log of ECE's app, the directory user behind each mailbox and
 * account, and the licenseDetails of each account that signs in.
 */
import { RESOURCE } from '../../knowledge/permissions';
import {
  readApplication,
  readDirectoryUser,
  readGrants,
  readLicenseDetails,
  readResourceServicePrincipal,
  readServicePrincipal,
  readSignIns,
} from '../../probes/graph';
import type { Observation } from '../../model';
import type { ProbeContext } from '../../probes/context';
import { maxSignInGapMs } from '../facts';
import type { ReadContext, ReadDeclaration } from './read';
import { guarded } from './read';
import { accountOf } from './mailbox';
import { GRAPH_SCOPE, withAppToken } from './tenant';

const central = ['central'] as const;
const uses = ['graph-token'] as const;

export const graphApplication: ReadDeclaration = {
  name: 'graph-application',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, GRAPH_SCOPE, (token, g) => [
      guarded(g, 'graph', 'application', () =>
        readApplication(g, { graph: rc.endpoints.graph, token }, rc.run.env.app.clientId),
      ),
    ]),
};

export const graphConsent: ReadDeclaration = {
  name: 'graph-consent',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, GRAPH_SCOPE, (token, g) => [
      guarded(g, 'graph', 'servicePrincipal', async () => {
        const target = { graph: rc.endpoints.graph, token };
        const sp = await readServicePrincipal(g, target, rc.run.env.app.clientId);
        const spId = sp.data?.id;
        if (!spId) return sp;
        return [sp, await readGrants(g, target, spId)];
      }),
    ]),
};

export const graphResourceScopes: ReadDeclaration = {
  name: 'graph-resource-scopes',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, GRAPH_SCOPE, (token, g) =>
      [RESOURCE.GRAPH, RESOURCE.EXCHANGE].map(resource =>
        guarded(g, 'graph', 'resourceServicePrincipal', () =>
          readResourceServicePrincipal(g, { graph: rc.endpoints.graph, token }, resource),
        ),
      ),
    ),
};

/** The sign-in log is read back at least this far (and twice the allowed gap when longer). */
const SIGN_IN_WINDOW_MS = 24 * 3_600_000;

/**
 * ECE's own sign-ins, interactive and non-interactive, from Entra's sign-in log (Graph beta):
 * what ECE itself does with its token, beside ecebot's own test of it.
 */
export const graphSignIns: ReadDeclaration = {
  name: 'graph-sign-ins',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, GRAPH_SCOPE, (token, g) => [
      guarded(g, 'graph', 'signIns', () => {
        const windowMs = Math.max(SIGN_IN_WINDOW_MS, 2 * maxSignInGapMs(rc.run.env));
        return readSignIns(g, { graph: rc.endpoints.graph, token }, rc.run.env.app.clientId, {
          since: new Date(Date.now() - windowMs),
        });
      }),
    ]),
};

/** Distinct addresses, first spelling kept (addresses compare without case). */
function distinct(addresses: string[]): string[] {
  const seen = new Map<string, string>();
  for (const a of addresses) if (!seen.has(a.toLowerCase())) seen.set(a.toLowerCase(), a);
  return [...seen.values()];
}

/** The directory look-up of one address, made once per part and shared by the reads needing it. */
function directoryUser(
  rc: ReadContext,
  g: ProbeContext,
  token: string,
  address: string,
): Promise<{ observations: Observation[]; id?: string }> {
  return rc.shared(`directory-user:${address.toLowerCase()}`, async () => {
    let id: string | undefined;
    const observations = await guarded(g, 'graph', address, async () => {
      const o = await readDirectoryUser(g, { graph: rc.endpoints.graph, token }, address);
      id = o.data?.[0]?.id ?? undefined;
      return o;
    });
    return { observations, ...(id ? { id } : {}) };
  });
}

export const graphDirectoryUsers: ReadDeclaration = {
  name: 'graph-directory-users',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, GRAPH_SCOPE, (token, g) =>
      distinct(rc.run.env.mailboxes.flatMap(m => [m.address, accountOf(m)])).map(async a => {
        return (await directoryUser(rc, g, token, a)).observations;
      }),
    ),
};

/**
 * licenseDetails of each account that signs in: a shared mailbox needs no licence of its own
 * (src/checklist/license.ts). `/users/{id | userPrincipalName}` takes no SMTP address, so the
 * account is found in the directory first and read by its object id; without that, by the
 * address as a UPN.
 */
export const graphLicenses: ReadDeclaration = {
  name: 'graph-licenses',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, GRAPH_SCOPE, (token, g) =>
      distinct(rc.run.env.mailboxes.map(accountOf)).map(async a => {
        const user = await directoryUser(rc, g, token, a);
        return guarded(g, 'graph', a, () =>
          readLicenseDetails(g, { graph: rc.endpoints.graph, token }, user.id ?? a, a),
        );
      }),
    ),
};
