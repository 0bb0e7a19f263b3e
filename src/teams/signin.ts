/**
 * `signin ENV MAILBOX`: a device-code sign-in (RFC 8628) for a mailbox, so ecebot holds a
 * refresh token for the end-to-end mail checks. The sign-in uses ecebot's own public-client app
 * (inventory `signin.clientId`), never ECE's: ECE's app is a confidential (Web) client, and Entra
 * refuses the device flow to one without a secret (AADSTS7000218, o365-facts.md §2.3), while a
 * public client must send none (AADSTS700025). The token is ecebot's test token: its failures
 * are fixed by signing in again, not in ECE (DESIGN.md "Two kinds of token evidence"). The card tells the engineer to use a private
 * browser window and to sign in *as the mailbox* (or as the shared account ECE uses for it):
 * a token issued for the engineer's own account is the checklist's classic fault (item 4,
 * checklist.md "Token generation"). When the sign-in completes, the token's user decides: the
 * right account → the refresh token is kept (`rt:<env>:<mailbox>`, encrypted by the Redis
 * store); any other → it is dropped and the card says whom to sign in as. The card is updated
 * in place; the HTTP turn only waits for Entra to hand out the code.
 */
import type { Inventory } from '../inventory/load';
import { pickEnvironment } from '../inventory/load';
import { InputError } from '../inventory/errors';
import { grantsFullAccess } from '../checklist/mailbox-rights';
import { deviceCodeSignIn, type EntraTokenResult } from '../probes/entra';
import { getMailboxPermission } from '../probes/exo';
import { EXO_SCOPE, mailboxScopes } from '../runner/observe';
import { TenantSessions, type TenantSession } from '../tenant/session';
import { keepSigninToken } from '../store/tokens';
import type { Store } from '../store/types';
import { signinCard, type SigninState, type SigninView } from './cards';
import { messages, type Lang } from '../i18n';
import type { AdaptiveCard } from '../render/card-data';
import type { BotLog } from './log';
import type { CardUpdater } from './run-cards';

/** What sign-ins need. */
export interface SignInsDeps {
  store: Store;
  inventory: () => Inventory;
  vars: NodeJS.ProcessEnv;
  updater: CardUpdater;
  log: BotLog;
  /** How long to wait for Entra to hand out a code before answering with an error. */
  codeTimeoutMs?: number;
  /** How long the person has to sign in (Entra's device codes live 15 minutes). */
  signInTimeoutSeconds?: number;
  /** Tenant sessions to use (and share with the admin check); new ones from `vars` by default. */
  sessions?: TenantSessions;
}

/** A sign-in asked for in a conversation. */
export interface SigninRequest {
  environment: string;
  mailbox: string;
  lang: Lang;
  conversationKey: string;
}

/** The first card, and how to tell the sign-in where it was posted. */
export interface SigninStart {
  card: AdaptiveCard;
  /** Call with the posted card's activity id (undefined when posting failed: the sign-in stops). */
  posted(activityId: string | undefined): void;
}

type First =
  | { kind: 'code'; url: string; code: string; expiresIn: number }
  | { kind: 'done'; result: EntraTokenResult }
  | { kind: 'timeout' };

/** Device-code sign-ins in flight. */
export class SignIns {
  private readonly active = new Set<AbortController>();
  private readonly running = new Set<Promise<void>>();
  private readonly sessions: TenantSessions;

  constructor(private readonly deps: SignInsDeps) {
    this.sessions = deps.sessions ?? new TenantSessions({ vars: deps.vars });
  }

  /** Start a sign-in; resolves once there is a card to post (the code, or why not). */
  async begin(req: SigninRequest): Promise<SigninStart> {
    const inv = this.deps.inventory();
    const env = pickEnvironment(inv, req.environment, 'the inventory');
    const entry = env.mailboxes.find(m => m.address.toLowerCase() === req.mailbox.toLowerCase());
    if (!entry) throw new Error(`${req.mailbox} is not a mailbox of ${env.name}`);
    const signinApp = env.signin;
    if (!signinApp) {
      throw new InputError(
        `${env.name} has no sign-in app: \`signin\` needs ecebot's own public-client app (ECE's app cannot sign in with a device code: Entra answers AADSTS7000218)`,
        `register a public-client app with "Allow public client flows" and the delegated permissions IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send and offline_access (docs/deployment.md), then add \`signin: { clientId: <its application id> }\` to environment ${env.name}`,
        env.file,
        inv.lineOf(env.name, []),
        `environments.${env.name}.signin`,
      );
    }
    const shared = entry.access === 'shared';
    const account = shared ? entry.account! : entry.address;
    // The tenant session gives the environment's CA, deadlines and redactor, and refuses bad
    // input (an unreadable CA file, the probe app's secret missing) before Entra is asked.
    const session = this.sessions.open(env, inv);
    const ctx = session.context();
    const view = (state: SigninState): SigninView => ({
      environment: env.name,
      mailbox: entry.address,
      account,
      shared,
      state,
    });

    const abort = new AbortController();
    this.active.add(abort);
    let onCode!: (f: First) => void;
    const codeReady = new Promise<First>(res => (onCode = res));
    const flow = deviceCodeSignIn(ctx, session.entraTarget(), {
      clientId: signinApp.clientId,
      scopes: mailboxScopes(entry.retrieve),
      timeoutSeconds: this.deps.signInTimeoutSeconds ?? 900,
      cancel: abort.signal,
      onCode: c =>
        onCode({
          kind: 'code',
          url: c.verificationUri,
          code: c.userCode,
          expiresIn: c.expiresIn,
        }),
    }).finally(() => this.active.delete(abort));
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      codeReady,
      flow.then((result): First => ({ kind: 'done', result })),
      new Promise<First>(res => {
        timer = setTimeout(() => res({ kind: 'timeout' }), this.deps.codeTimeoutMs ?? 10_000);
      }),
    ]).finally(() => clearTimeout(timer));

    if (first.kind !== 'code') {
      abort.abort();
      const state: SigninState =
        first.kind === 'done'
          ? {
              kind: 'failed',
              code: first.result.observation.code,
              server: first.result.observation.server ?? first.result.observation.code,
            }
          : {
              kind: 'failed',
              code: 'TIMEOUT',
              server: 'Entra ID handed out no device code in time',
            };
      return { card: signinCard(req.lang, view(state)), posted: () => undefined };
    }

    let posted!: (id: string | undefined) => void;
    const where = new Promise<string | undefined>(res => (posted = res));
    const finish = (async () => {
      const result = await flow;
      const activityId = await where;
      if (!activityId) return;
      const state = await this.decide(
        env.name,
        entry.address,
        account,
        shared,
        result,
        req.lang,
        user => this.hasFullAccess(session, entry.address, user),
      );
      await this.deps.updater.update(
        req.conversationKey,
        activityId,
        signinCard(req.lang, view(state)),
      );
    })().catch(err => this.deps.log.error({ err }, 'finishing a sign-in failed'));
    this.running.add(finish);
    void finish.finally(() => this.running.delete(finish));

    return {
      card: signinCard(
        req.lang,
        view({
          kind: 'waiting',
          url: first.url,
          code: first.code,
          expiresInSeconds: first.expiresIn,
        }),
      ),
      posted: id => {
        if (!id) abort.abort();
        posted(id);
      },
    };
  }

  /** Whose token it is decides whether it is kept (checklist item 4). */
  private async decide(
    environment: string,
    mailbox: string,
    account: string,
    shared: boolean,
    r: EntraTokenResult,
    lang: Lang,
    hasFullAccess: (user: string) => Promise<boolean>,
  ): Promise<SigninState> {
    const o = r.observation;
    if (!o.ok) return { kind: 'failed', code: o.code, server: o.server ?? o.code };
    const user = o.claims?.upn ?? o.claims?.preferred_username ?? o.claims?.unique_name;
    if (!user) return { kind: 'wrong-user' };
    // The right account, or another one Exchange Online gives Full Access to the mailbox.
    const viaFullAccess =
      user.toLowerCase() !== account.toLowerCase() && (await hasFullAccess(user));
    if (user.toLowerCase() !== account.toLowerCase() && !viaFullAccess)
      return { kind: 'wrong-user', user };
    if (!r.refreshToken)
      return { kind: 'failed', code: 'NO_REFRESH_TOKEN', server: messages(lang).signinNoRefresh };
    await keepSigninToken(this.deps.store, environment, mailbox, r.refreshToken);
    this.deps.log.info({ environment, mailbox, user }, 'kept a refresh token from a Teams sign-in');
    return { kind: 'ok', user, shared, ...(viaFullAccess ? { fullAccess: true } : {}) };
  }

  /**
   * Whether Exchange Online lists `user` with Full Access to `mailbox` (Get-MailboxPermission
   * through the admin API, with ecebot's own read-only app). Without that app, or when the read
   * fails, the answer is no: only the account the inventory names is accepted then.
   */
  private async hasFullAccess(
    session: TenantSession,
    mailbox: string,
    user: string,
  ): Promise<boolean> {
    const exo = session.endpoints().exo;
    const seen = await session.withAppToken(EXO_SCOPE, (token, xctx) => [
      getMailboxPermission(xctx, { exo, token, tenantId: session.env.tenant.id }, mailbox).then(
        o => [o],
      ),
    ]);
    const perm = seen.find(o => o.kind === 'exo');
    return (
      perm?.kind === 'exo' &&
      perm.ok &&
      perm.cmdlet === 'Get-MailboxPermission' &&
      grantsFullAccess(perm.data ?? [], user)
    );
  }

  /** Resolves when no sign-in is waiting to finish its card. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Stop waiting for every sign-in (the bot is shutting down). */
  async close(): Promise<void> {
    for (const a of this.active) a.abort();
    await this.idle();
  }
}
