/**
 * Tenant reads from the central vantage point: ECE's app registration's own credentials, and
 * app-only tokens of ecebot's read-only app (inventory `probe`) for Graph and the Exchange admin
 * API, which the Graph and Exchange reads use.
 */
import { requireSecrets } from '../../inventory/secrets';
import { clientCredentials } from '../../probes/entra';
import type { ProbeContext } from '../../probes/context';
import type { Observation } from '../../model';
import { sessionOfRun } from '../../tenant/session';
import { guarded, type ReadContext, type ReadDeclaration } from './read';

/** App-only scope of ecebot's own app for Graph reads. */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** App-only scope of ecebot's own app for the Exchange admin API (o365-facts.md §3.5). */
export const EXO_SCOPE = 'https://outlook.office365.com/.default';

/** An app token of ecebot's read app: the token observation, and the token when granted. */
export interface AppToken {
  observations: Observation[];
  accessToken?: string;
}

/**
 * ecebot's read-app token for `scope`, from the run's tenant session (which keeps app tokens per
 * scope), asked once per part and shared by the reads using it.
 */
export function appToken(rc: ReadContext, scope: string): Promise<AppToken> {
  // Checked before the session is asked: without the secret it would say "no probe app".
  if (rc.run.env.probe)
    requireSecrets(rc.run.secrets, 'probeApp', `a read of ${scope} on ${rc.vantage}`);
  const session = sessionOfRun(rc.run);
  if (!session.hasProbeApp) return Promise.resolve({ observations: [] });
  return rc.shared(`app-token:${scope}`, async () => {
    let accessToken: string | undefined;
    const observations = await guarded(
      rc.ctx,
      'entra-token',
      rc.run.env.probe?.clientId ?? '',
      async () => {
        const r = await session.appToken(scope, rc.ctx);
        accessToken = r?.accessToken;
        return r ? [r.observation] : [];
      },
    );
    return { observations, ...(accessToken ? { accessToken } : {}) };
  });
}

/**
 * Run `reads` with ecebot's read-app token for `scope`, in a context that redacts the token.
 * Nothing when no read app is configured or the token was refused (the token read says why).
 */
export async function withAppToken(
  rc: ReadContext,
  scope: string,
  reads: (token: string, tctx: ProbeContext) => Promise<Observation[]>[],
): Promise<Observation[]> {
  const t = await appToken(rc, scope);
  if (!t.accessToken) return [];
  const tctx = { ...rc.ctx, redactor: rc.ctx.redactor.with([t.accessToken]) };
  return (await Promise.all(reads(t.accessToken, tctx))).flat();
}

export const graphToken: ReadDeclaration = {
  name: 'graph-token',
  on: ['central'],
  needs: ['probeApp'],
  async observe(rc) {
    return (await appToken(rc, GRAPH_SCOPE)).observations;
  },
};

export const exchangeToken: ReadDeclaration = {
  name: 'exchange-token',
  on: ['central'],
  needs: ['probeApp'],
  async observe(rc) {
    return (await appToken(rc, EXO_SCOPE)).observations;
  },
};

/**
 * ECE's own app registration asks for an app-only Graph token with its secret (or certificate):
 * Entra's answer tells whether the credential is valid (AADSTS7000215, 7000222, 700027) without
 * touching a mailbox.
 */
export const eceAppToken: ReadDeclaration = {
  name: 'ece-app-token',
  on: ['central'],
  needs: ['eceApp'],
  async observe({ run, ctx, endpoints: ep }) {
    requireSecrets(run.secrets, 'eceApp', 'the read ece-app-token');
    const { appSecret: secret, appCertificate: certificate } = run.secrets;
    // The secret when there is one (it is what ECE sends), else the certificate's assertion.
    const credential = secret ? { secret } : certificate ? { certificate } : undefined;
    if (!credential) return [];
    const appId = run.env.app.clientId;
    return guarded(ctx, 'entra-token', appId, async () => {
      const r = await clientCredentials(
        ctx,
        { login: ep.login, tenantId: run.env.tenant.id },
        { clientId: appId, ...credential, scopes: [GRAPH_SCOPE], purpose: 'ece-app' },
      );
      return r.observation;
    });
  },
};
