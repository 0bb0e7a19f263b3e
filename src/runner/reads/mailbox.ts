/**
 * The mailbox reads, made from services servers where ECE's retriever and dispatcher run
 * (checklist.md items 4 and 9): each mailbox's refresh token redeemed at Entra for the delegated
 * scopes ECE uses, then IMAP or POP3 and SMTP logins with the access token it yields. From
 * application servers, which create the first token and send alarm mail (checklist.md item 8),
 * the token is redeemed too and SMTP AUTH made with it (`mailbox-send`), as item 9 asks the
 * connectivity test to be run from the application and services servers.
 *
 * The logins follow Exchange Online's rules per protocol (o365-facts.md §1.5): IMAP and POP3 log
 * in with the mailbox's address as `user=` (for a shared mailbox, with its account's token:
 * Microsoft's "SASL XOAUTH2 authentication for shared mailboxes"); SMTP AUTH logs in as the
 * account that signed in — a shared mailbox's address there gets `535 5.7.3 Authentication
 * unsuccessful` (nextcloud/mail #13667, #13668; frappe/frappe #23079; Mailspring-Sync #116) — and
 * the test message, when asked for, is sent from the mailbox, which needs Send As.
 */
import {
  redeemRefreshToken,
  type EntraTokenResult,
  type RefreshTokenOptions,
} from '../../probes/entra';
import { requireSecrets } from '../../inventory/secrets';
import type { Observation } from '../../model';
import type { MailboxToken } from '../../store/tokens';
import type { PreparedRun } from '../prepare';
import { guarded, type ReadContext, type ReadDeclaration } from './read';

// The mail probes load on first use: imapflow and nodemailer cost about 30 MB and 100 ms to
// load, and only the servers' parts log in to mail (`central` never does, nor an idle worker).
const imap = () => import('../../probes/imap');
const pop3 = () => import('../../probes/pop3');
const smtp = () => import('../../probes/smtp');

/** Scopes ECE's delegated token carries (o365-facts.md §1.6): the retrieve protocol and SMTP. */
export function mailboxScopes(retrieve: 'imap' | 'pop3'): string[] {
  const read = retrieve === 'imap' ? 'IMAP.AccessAsUser.All' : 'POP.AccessAsUser.All';
  return [`https://outlook.office.com/${read}`, 'https://outlook.office.com/SMTP.Send'];
}

type Mailbox = PreparedRun['env']['mailboxes'][number];

/** The account whose token serves a mailbox (inventory): its shared account, or the mailbox. */
export function accountOf(m: Mailbox): string {
  return m.access === 'shared' && m.account ? m.account : m.address;
}

/** Who the token says signed in (`upn`/`unique_name` v1, `preferred_username` v2). */
function signedIn(o: Observation[]): string | undefined {
  for (const x of o) {
    if (x.kind !== 'entra-token' || !x.claims) continue;
    const c = x.claims;
    const user = c.upn ?? c.unique_name ?? c.preferred_username;
    if (user) return user;
  }
  return undefined;
}

/** Mailboxes ecebot has a refresh token for, with it. */
function withTokens(run: PreparedRun): { m: Mailbox; rt: MailboxToken }[] {
  // Without this a vantage that resolved no refresh token would find no mailbox to test.
  requireSecrets(run.secrets, 'refreshTokens', 'a mailbox read');
  return run.env.mailboxes.flatMap(m => {
    const rt = run.mailboxTokens.get(m.address.toLowerCase());
    return rt ? [{ m, rt }] : [];
  });
}

/**
 * Who redeems the token: ECE's grant with ECE's confidential app and its secret or certificate
 * (without either Entra answers AADSTS7000218); ecebot's sign-in grant with the public sign-in
 * app and nothing else (a secret sent with it is AADSTS700025, o365-facts.md §2.3).
 */
function clientFor(
  run: PreparedRun,
  t: MailboxToken,
): Pick<RefreshTokenOptions, 'secret' | 'certificate'> {
  if (t.origin === 'signin') return {};
  requireSecrets(run.secrets, 'eceApp', "the redemption of ECE's refresh token");
  if (run.secrets.appSecret) return { secret: run.secrets.appSecret };
  if (run.secrets.appCertificate) return { certificate: run.secrets.appCertificate };
  return {};
}

/** A redemption: its observation(s), and the tokens for the logins (never on an observation). */
interface Redeemed {
  observations: Observation[];
  accessToken?: string;
  refreshToken?: string;
}

/**
 * The redemption of one mailbox's refresh token, made once per part and shared. The refresh
 * token Entra rotates to is kept at once (`keepRefreshToken`), so the next run redeems the
 * newest one.
 */
function redeemed(rc: ReadContext, m: Mailbox, rt: MailboxToken): Promise<Redeemed> {
  const { run, ctx, endpoints: ep } = rc;
  return rc.shared(`mailbox-token:${m.address.toLowerCase()}`, async () => {
    let got: EntraTokenResult | undefined;
    const observations = await guarded(ctx, 'entra-token', m.address, async () => {
      got = await redeemRefreshToken(
        ctx,
        { login: ep.login, tenantId: run.env.tenant.id },
        {
          clientId: rt.clientId,
          ...clientFor(run, rt),
          refreshToken: rt.refreshToken,
          scopes: mailboxScopes(m.retrieve),
          mailbox: m.address,
          purpose: rt.origin === 'signin' ? 'signin' : 'mailbox',
        },
      );
      return got.observation;
    });
    const rotated = got?.refreshToken;
    if (rotated && rotated !== rt.refreshToken && run.keepRefreshToken)
      await run.keepRefreshToken(m.address, rt, rotated);
    return {
      observations,
      ...(got?.accessToken ? { accessToken: got.accessToken } : {}),
      ...(got?.refreshToken ? { refreshToken: got.refreshToken } : {}),
    };
  });
}

export const mailboxToken: ReadDeclaration = {
  name: 'mailbox-token',
  on: ['services', 'application'],
  needs: ['eceApp', 'refreshTokens'],
  async observe(rc) {
    const got = await Promise.all(withTokens(rc.run).map(({ m, rt }) => redeemed(rc, m, rt)));
    return got.flatMap(g => g.observations);
  },
};

/** The token of one mailbox for a login, and the redactor and SMTP user that go with it. */
async function forLogin(
  rc: ReadContext,
  m: Mailbox,
  rt: MailboxToken,
): Promise<{ token: string; mctx: ReadContext['ctx']; account: string } | undefined> {
  const got = await redeemed(rc, m, rt);
  const token = got.accessToken;
  if (!token) return undefined;
  const mctx = { ...rc.ctx, redactor: rc.ctx.redactor.with([token, got.refreshToken]) };
  // SMTP AUTH as whoever signed in (the token says; the inventory's account if it does not):
  // the only `user=` Exchange accepts for SMTP.
  return { token, mctx, account: signedIn(got.observations) ?? accountOf(m) };
}

/** Each mailbox ecebot holds a token for, logged in with `login` once its token is redeemed. */
async function eachMailbox(
  rc: ReadContext,
  login: (
    m: Mailbox,
    l: NonNullable<Awaited<ReturnType<typeof forLogin>>>,
  ) => Promise<Observation[]>,
): Promise<Observation[]> {
  const per = withTokens(rc.run).map(async ({ m, rt }) => {
    const l = await forLogin(rc, m, rt);
    return l ? login(m, l) : [];
  });
  return (await Promise.all(per)).flat();
}

export const mailboxLogin: ReadDeclaration = {
  name: 'mailbox-login',
  on: ['services'],
  uses: ['mailbox-token'],
  observe(rc) {
    const ep = rc.endpoints;
    return eachMailbox(rc, async (m, { token, mctx, account }) => {
      const mail = await Promise.all([
        guarded(mctx, m.retrieve, m.address, () =>
          m.retrieve === 'imap'
            ? imap().then(p => p.probeImap(mctx, ep.imap, { user: m.address, accessToken: token }))
            : pop3().then(p => p.probePop3(mctx, ep.pop3, { user: m.address, accessToken: token })),
        ),
        guarded(mctx, 'smtp', m.address, () =>
          smtp().then(p =>
            p.probeSmtp(mctx, ep.smtp, {
              user: account,
              from: m.address,
              accessToken: token,
              ...(m.sendTest ? { sendTo: m.address } : {}),
            }),
          ),
        ),
      ]);
      return mail.flat();
    });
  },
};

/**
 * SMTP AUTH with XOAUTH2 from an application server: ECE's application servers send alarm mail
 * (checklist.md item 8), and the connectivity test is to be run from them too (item 9). Only
 * AUTH: the test message, when the inventory asks for one, is sent once, from the services server.
 */
export const mailboxSend: ReadDeclaration = {
  name: 'mailbox-send',
  on: ['application'],
  uses: ['mailbox-token'],
  observe(rc) {
    const ep = rc.endpoints;
    return eachMailbox(rc, (m, { token, mctx, account }) =>
      guarded(mctx, 'smtp', m.address, () =>
        smtp().then(p =>
          p.probeSmtp(mctx, ep.smtp, { user: account, from: m.address, accessToken: token }),
        ),
      ),
    );
  },
};
