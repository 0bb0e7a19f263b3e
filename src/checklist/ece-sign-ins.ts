/**
 * ECE's own token, as Entra's sign-in log shows it (o365-facts.md §3.4; DESIGN.md "Two kinds of
 * token evidence"). ecebot's test token proves the refresh token ecebot was given works; only the
 * log shows what ECE itself does with its own: as which user it signs in, from which server,
 * when it last succeeded and which AADSTS errors it gets. Pure: the sign-in read's observation,
 * the mailbox-token observations of the same run and the run's clock in, `Part`s out.
 *
 * Rules (each cited where it is applied):
 * - FAIL `ECE_SIGNS_IN_AS_OTHER_USER` when ECE's app signs in as a user that is no mailbox
 *   account: the Kerberos/SSO workstation-user trap of checklist.md item 4.
 * - FAIL with the AADSTS code (through the code table) when ECE's newest redemptions as an
 *   account fail, with a fix addressed to ECE.
 * - WARN `ECE_NOT_SIGNING_IN` when ECE has not signed in successfully as an account for longer
 *   than the allowed gap (inventory `ece.maxSignInGap`, default 3 h).
 * - SKIP with the reason when the log could not be read (no AuditLog.Read.All, no Entra ID P1…).
 */
import { aadstsCode, type Code } from '../knowledge/codes';
import type {
  EceAccountSignIns,
  EceSignIn,
  EnvironmentFacts,
  GraphReadObservation,
  GraphSignIn,
  Observation,
} from '../model';
import { fromObservation } from './evidence';
import { ECEBOT_USER_AGENT } from '../model';
import {
  entraWords,
  graphRead,
  isNetworkCode,
  mailboxTokens,
  part,
  sameAddress,
  tenantReadBlocker,
  tokenAccount,
  type Part,
} from './rule';

/** What every evidence text and line about ECE's own sign-ins starts with. */
export const ECE_LOG = 'ECE (sign-in log)';

/** Default allowed gap between ECE's successful sign-ins (see runner/facts.ts). */
const DEFAULT_GAP_MS = 3 * 3_600_000;

/** Failures named in one evidence line, newest first. */
const FAILURES_SHOWN = 3;

/**
 * The log's own delay, said wherever a recent absence is judged: Microsoft gave 2 minutes for
 * 95 % and 5 minutes for 99 % of sign-ins (reference-reports-latencies).
 */
const LOG_DELAY = "Entra's log lags sign-ins by a few minutes";

/** Inputs of the ECE-side judgement: the token item's own rule input. */
export interface EceSignInInput {
  env: EnvironmentFacts;
  observations: Observation[];
  now: Date;
}

/** Reasons a sign-in read that failed gives for skipping ECE's side. */
function unreadReason(code: Code, status: number | undefined): string {
  switch (code) {
    case 'GRAPH_NO_PREMIUM':
      return 'the tenant has no Entra ID P1/P2, which the sign-in log needs';
    case 'SIGN_IN_LOG_FORBIDDEN':
    case 'GRAPH_FORBIDDEN':
      return "ecebot's read app lacks AuditLog.Read.All and Directory.Read.All";
    case 'GRAPH_THROTTLED':
      return 'Graph throttled the read (HTTP 429)';
    case 'GRAPH_UNEXPECTED_REPLY':
      return 'Graph answered in a shape ecebot does not understand';
    default:
      return isNetworkCode(code)
        ? 'Graph could not be reached'
        : `Graph refused the read (${code}${status ? `, HTTP ${status}` : ''})`;
  }
}

/** Canonical text of an IP address for comparison (IPv6 lower-case, zeros expanded; IPv4-mapped → IPv4). */
export function canonicalIp(ip: string): string {
  const a = ip.trim().toLowerCase();
  const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a;
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill =
    tail === undefined ? [] : Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...fill, ...t].map(g => g.replace(/^0+(?=.)/, '')).join(':');
}

/** The ECE server with this address, if the inventory names one. */
function serverAt(env: EnvironmentFacts, ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const c = canonicalIp(ip);
  return env.servers.find(s => s.addresses?.some(a => canonicalIp(a) === c))?.name;
}

/** Whether any ECE server has addresses in the inventory. */
function addressesKnown(env: EnvironmentFacts): boolean {
  return env.servers.some(s => (s.addresses?.length ?? 0) > 0);
}

/** A user sign-in of the log in the rule's terms; service-principal and other events are not ECE's user token. */
export function toEceSignIn(env: EnvironmentFacts, g: GraphSignIn): EceSignIn | undefined {
  const types = g.signInEventTypes ?? [];
  const interactive = g.isInteractive ?? (types.length ? types.includes('interactiveUser') : true);
  if (types.length && !types.some(t => t === 'interactiveUser' || t === 'nonInteractiveUser')) {
    return undefined;
  }
  if (!g.userPrincipalName) return undefined;
  // ecebot's own redemptions of ECE's token (its test) carry ecebot's User-Agent: not ECE's.
  if (g.userAgent === ECEBOT_USER_AGENT) return undefined;
  const s: EceSignIn = {
    at: g.createdDateTime,
    user: g.userPrincipalName,
    interactive,
    errorCode: g.status?.errorCode ?? 0,
  };
  if (g.status?.failureReason) s.failureReason = g.status.failureReason;
  if (g.ipAddress) s.ipAddress = g.ipAddress;
  const server = serverAt(env, g.ipAddress ?? undefined);
  if (server) s.server = server;
  const method = g.authenticationDetails?.find(d => d.authenticationMethod)?.authenticationMethod;
  if (method) s.method = method;
  return s;
}

/** Where a sign-in came from, compared with the ECE servers' addresses. */
function from(env: EnvironmentFacts, s: EceSignIn): string {
  if (!s.ipAddress) return '';
  if (s.server) return ` from ${s.ipAddress} (ECE server ${s.server})`;
  return addressesKnown(env)
    ? ` from ${s.ipAddress}, not an ECE server's address in the inventory`
    : ` from ${s.ipAddress}`;
}

/** "2 h 5 min ago" from the run's clock. */
function ago(now: Date, at: string): string {
  const min = Math.max(0, Math.round((now.getTime() - Date.parse(at)) / 60_000));
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h${min % 60 ? ` ${min % 60} min` : ''} ago`;
  return `${Math.floor(h / 24)} days ago`;
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h} h` : `${Math.round(ms / 60_000)} min`;
}

function describeSignIn(env: EnvironmentFacts, now: Date, s: EceSignIn): string {
  const kind = s.interactive ? 'interactive sign-in' : 'token redemption';
  const how = s.method ? `, ${s.method}` : '';
  const outcome = s.errorCode === 0 ? '' : ` failed with AADSTS${s.errorCode}`;
  return `${kind} as ${s.user}${outcome} ${ago(now, s.at)} (${s.at}${how})${from(env, s)}`;
}

/**
 * ECE's sign-ins per token account: the typed facts the rules below judge. `rows` are the log's
 * user sign-ins of ECE's app, made before ecebot's own redemptions of this run (see `eceOnly`).
 */
export function accountFacts(env: EnvironmentFacts, rows: EceSignIn[]): EceAccountSignIns[] {
  const byAccount = new Map<string, EceAccountSignIns>();
  for (const m of env.mailboxes) {
    const account = tokenAccount(m);
    const key = account.toLowerCase();
    const f = byAccount.get(key) ?? { account, mailboxes: [], failures: [] };
    f.mailboxes.push(m.address);
    byAccount.set(key, f);
  }
  const newest = [...rows].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  for (const f of byAccount.values()) {
    const own = newest.filter(s => sameAddress(s.user, f.account));
    const success = own.find(s => s.errorCode === 0 && !s.interactive);
    if (success) f.lastSuccess = success;
    f.failures = own.filter(s => s.errorCode !== 0);
  }
  return [...byAccount.values()];
}

/**
 * The sign-ins that are ECE's own. ecebot's test redeems the same refresh tokens with ECE's
 * client id (src/runner/reads/mailbox.ts), so Entra logs it as ECE's sign-in; whatever the log
 * holds from the moment this run's first redemption started is left out. (The log's own delay
 * usually hides them anyway; earlier runs' redemptions cannot be told apart.)
 */
export function eceOnly(
  observations: Observation[],
  env: EnvironmentFacts,
  rows: EceSignIn[],
): EceSignIn[] {
  const starts = env.mailboxes
    .flatMap(m => mailboxTokens(observations, m.address))
    .map(o => Date.parse(o.startedAt))
    .filter(n => !Number.isNaN(n));
  if (!starts.length) return rows;
  const cutoff = Math.min(...starts);
  return rows.filter(s => Date.parse(s.at) < cutoff);
}

/** Judge ECE's own sign-ins into the token item's parts, each text starting with `ECE_LOG`. */
export function eceSignInParts({ env, observations, now }: EceSignInInput): Part[] {
  const reads = graphRead(observations, 'signIns');
  if (!reads.length) {
    const { code, reason } = tenantReadBlocker(env, observations, 'graph');
    return [part('skip', code, `${ECE_LOG}: not read (${reason})`, [])];
  }
  const o = reads[0]! as GraphReadObservation<'signIns'>;
  if (o.code === 'CHECK_CRASHED') {
    return [
      part('error', 'CHECK_CRASHED', `${ECE_LOG}: the sign-in log read crashed`, [
        fromObservation(o),
      ]),
    ];
  }
  if (!o.ok || !o.data) {
    const reason = unreadReason(o.code, o.status);
    return [
      part(
        'skip',
        o.code,
        `${ECE_LOG}: not read, so what ECE itself does was not checked (${reason})`,
        [fromObservation(o, { text: `${ECE_LOG}: not read: ${reason}` })],
      ),
    ];
  }

  const appRows = o.data.filter(g => !g.appId || sameAddress(g.appId, env.app.clientId));
  const rows = eceOnly(
    observations,
    env,
    appRows.flatMap(g => toEceSignIn(env, g) ?? []),
  );
  const facts = accountFacts(env, rows);
  const gap = env.maxSignInGapMs ?? DEFAULT_GAP_MS;
  const since = o.window?.since;
  // When the read stopped early, the rows reach back only to the oldest one read.
  const oldest = o.window?.truncated
    ? rows.reduce<string | undefined>((a, s) => (!a || s.at < a ? s.at : a), undefined)
    : since;
  // Without a window (a read that did not say how far back it looked) every absence counts.
  const looked = oldest ? now.getTime() - Date.parse(oldest) : Number.POSITIVE_INFINITY;

  const others = new Map<string, EceSignIn[]>();
  for (const s of [...rows].sort((a, b) => Date.parse(b.at) - Date.parse(a.at))) {
    if (facts.some(f => sameAddress(f.account, s.user))) continue;
    const key = s.user.toLowerCase();
    others.set(key, [...(others.get(key) ?? []), s]);
  }
  const otherText = [...others.values()].map(list => describeSignIn(env, now, list[0]!)).join('; ');
  const otherUsers = [...others.values()].map(l => l[0]!.user);

  const parts: Part[] = [];
  const evidence = (text: string, ok: boolean, code: Code = ok ? 'OK' : o.code) =>
    fromObservation(o, { text: `${ECE_LOG}: ${text}`, ok, code });

  for (const f of facts) {
    const who = `${f.mailboxes.join(', ')}${sameAddress(f.account, f.mailboxes[0]) && f.mailboxes.length === 1 ? '' : ` (account ${f.account})`}`;
    const fix = { mailbox: f.mailboxes[0]!, account: f.account };
    const last = f.lastSuccess;
    const failuresText = f.failures.length
      ? `; failures, newest first: ${f.failures
          .slice(0, FAILURES_SHOWN)
          .map(s => `AADSTS${s.errorCode} ${ago(now, s.at)}${from(env, s)}`)
          .join(
            ', ',
          )}${f.failures.length > FAILURES_SHOWN ? `, and ${f.failures.length - FAILURES_SHOWN} more` : ''}`
      : '';
    const lastText = last
      ? `last successful token redemption ${describeSignIn(env, now, last).replace(/^token redemption /, '')}`
      : `no successful token redemption since ${since ?? 'the start of the window'}`;

    // The Kerberos/SSO trap (checklist.md item 4): this account never shows up, another user
    // does — ECE holds that user's token for these mailboxes.
    if (!last && others.size) {
      for (const mailbox of f.mailboxes) {
        parts.push(
          part(
            'fail',
            'ECE_SIGNS_IN_AS_OTHER_USER',
            `${ECE_LOG}: ECE signs in as ${otherUsers.join(', ')}, not as ${f.account}, for ${mailbox}: its token was generated for the logged-in Windows workstation user (Kerberos/SSO); regenerate it in an InPrivate window signing in as ${f.account}`,
            [
              evidence(
                `${lastText} as ${f.account}; ECE's app signs in as: ${otherText}`,
                false,
                'ECE_SIGNS_IN_AS_OTHER_USER',
              ),
            ],
            { fix: { mailbox, account: f.account } },
          ),
        );
      }
      continue;
    }

    const newestFailure = f.failures.find(s => !s.interactive);
    if (newestFailure && (!last || Date.parse(newestFailure.at) > Date.parse(last.at))) {
      const code = aadstsCode(newestFailure.errorCode);
      parts.push(
        part(
          'fail',
          code,
          `${ECE_LOG}: ECE's token redemptions as ${f.account} for ${f.mailboxes.join(', ')} fail with AADSTS${newestFailure.errorCode} (newest ${ago(now, newestFailure.at)}); this is ECE's own token, whatever ecebot's test shows`,
          [evidence(`${lastText}${failuresText}`, false, code)],
          {
            fix: {
              ...fix,
              aadsts: newestFailure.errorCode,
              ...(newestFailure.failureReason
                ? { server: entraWords(newestFailure.failureReason) }
                : {}),
            },
          },
        ),
      );
      continue;
    }

    if (!last && looked < gap) {
      // The read stopped early (page cap, throttling) before reaching back a whole gap: an
      // absence in so short a stretch proves nothing either way.
      parts.push(
        part(
          'skip',
          'OK',
          `${ECE_LOG}: the log read reaches back only ${hours(looked)}, with no redemption as ${f.account} in it`,
          [evidence(`${lastText}${failuresText}`, true)],
        ),
      );
      continue;
    }
    const silentFor = last ? now.getTime() - Date.parse(last.at) : looked;
    if (silentFor > gap && looked >= gap) {
      parts.push(
        part(
          'warn',
          'ECE_NOT_SIGNING_IN',
          `${ECE_LOG}: ECE has not signed in successfully as ${f.account} for ${f.mailboxes.join(', ')} ${last ? `since ${ago(now, last.at)}` : `in the ${Number.isFinite(looked) ? `last ${hours(looked)}` : 'log read'}`} (more than ${hours(gap)}; ECE redeems its token at least every 60–90 minutes), so it has stopped reading`,
          [
            evidence(
              `${lastText}${failuresText}; allowed gap ${hours(gap)}; ${LOG_DELAY}`,
              false,
              'ECE_NOT_SIGNING_IN',
            ),
          ],
          { fix },
        ),
      );
      continue;
    }

    parts.push(
      part('pass', 'OK', `${ECE_LOG}: ECE signs in as ${f.account} for ${who}`, [
        evidence(`${lastText}${failuresText}`, true),
      ]),
    );
  }

  // Another user signing in while every account also does: ECE holds a wrong token for one of
  // its email accounts, which one the log cannot say.
  if (others.size && facts.every(f => f.lastSuccess)) {
    parts.push(
      part(
        'fail',
        'ECE_SIGNS_IN_AS_OTHER_USER',
        `${ECE_LOG}: ECE's app also signs in as ${otherUsers.join(', ')}, which is no mailbox account: one of ECE's email accounts holds a token generated for the workstation user (Kerberos/SSO); regenerate it in an InPrivate window signing in as the mailbox's account`,
        [evidence(otherText, false, 'ECE_SIGNS_IN_AS_OTHER_USER')],
      ),
    );
  }
  return parts;
}
