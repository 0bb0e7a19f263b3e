/**
 * Graph reads with ecebot's read-only app (o365-facts.md §3): ECE's application object, its
 * service principal and delegated grants, the resource service principals whose scopes the
 * grants name, the sign-in log of ECE's app, and each mailbox's licenseDetails.
 */
import { RESOURCE } from '../../knowledge/permissions';
import {
  readApplication,
  readGrants,
  readLicenseDetails,
  readResourceServicePrincipal,
  readServicePrincipal,
  readSignIns,
} from '../../probes/graph';
import { maxSignInGapMs } from '../facts';
import type { ReadDeclaration } from './read';
import { guarded } from './read';
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

export const graphLicenses: ReadDeclaration = {
  name: 'graph-licenses',
  on: central,
  uses,
  observe: rc =>
    withAppToken(rc, GRAPH_SCOPE, (token, g) =>
      rc.run.env.mailboxes.map(m =>
        guarded(g, 'graph', m.address, () =>
          readLicenseDetails(g, { graph: rc.endpoints.graph, token }, m.address),
        ),
      ),
    ),
};
