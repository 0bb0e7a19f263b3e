/**
 * The shape of a checklist rule and the assembly every rule shares. A rule is pure: inventory
 * facts and observations in, one finding out; no I/O, no clock (the run's `now` is passed in),
 * and it matches codes and structured data, never message text.
 *
 * A rule judges its item piece by piece (a mailbox, a server, a setting) into `Part`s; `judge`
 * folds them into the finding, so every item words status, codes, remediation, failedOn and
 * timing the same way.
 */
import { aadstsCode, CODE_TABLE, CODES, type Code } from '../knowledge/codes';
import { remediationFor, type RemediationContext } from '../knowledge/remediation';
import type {
  EntraTokenObservation,
  ExoObservation,
  GraphDirectoryUser,
  GraphObservation,
  MailObservation,
  Observation,
  TokenClaims,
  Vantage,
} from '../model';
import { INVENTORY } from './evidence';
import type { EnvironmentFacts, MailboxFacts } from '../model';
import type { Evidence, Finding, ItemId, Remediation, Status } from '../model';

/** What a rule is given. */
export interface RuleInput {
  env: EnvironmentFacts;
  observations: Observation[];
  /** The run's clock, for expiry maths. */
  now: Date;
}

/** A checklist rule. */
export type Rule = (input: RuleInput) => Finding;

/** One judged piece of an item: a mailbox, a server, a setting. */
export interface Part {
  status: Status;
  /** `OK` for a pass; otherwise the code behind the status. */
  code: Code;
  /** One line for the summary, naming the mailbox or server. */
  line: string;
  /**
   * The line in Dutch, when the rule words it itself; otherwise it is composed from the code's
   * Dutch meaning and what the part is about (`lineNl` below).
   */
  lineNl?: string;
  evidence: Evidence[];
  /** What the remediation for `code` needs to be filled in (the environment is added). */
  fix?: Omit<RemediationContext, 'env'>;
  /** Vantage points this part failed on, when the item is judged per server. */
  failedOn?: Vantage[];
  /**
   * Evidence that adds to the verdict when it is there, and whose absence does not leave the
   * item unestablished (ECE's own sign-ins, which need a licence and a permission many tenants
   * do not give): a skipped optional part is named in the summary but does not make the item
   * `skip`. Any other status counts like a required part's.
   */
  optional?: boolean;
}

/** A part with a status. */
export function part(
  status: Status,
  code: Code,
  line: string,
  evidence: Evidence[],
  extra: Pick<Part, 'fix' | 'failedOn'> = {},
): Part {
  return { status, code, line, evidence, ...extra };
}

/**
 * Worst first: a failure outranks a crash, which outranks a warning, which outranks a part that
 * could not be checked; a pass only when every part passed. A pass is a claim that everything the
 * item covers was established: one mailbox or server whose evidence is missing (no token, no
 * Exchange admin read, an unrelated failure) makes the item `skip`, saying what was not checked,
 * never a pass that was not established.
 */
const RANK: Record<Status, number> = { fail: 4, error: 3, warn: 2, skip: 1, pass: 0 };

/** Summary lines shown before "and N more". */
const SUMMARY_LINES = 3;

function joinLines(lines: string[], more = (n: number) => `and ${n} more`): string {
  const unique = [...new Set(lines)];
  const shown = unique.slice(0, SUMMARY_LINES).join('; ');
  const left = unique.length - SUMMARY_LINES;
  return left > 0 ? `${shown}; ${more(left)}` : shown;
}

const joinLinesNl = (lines: string[]): string => joinLines(lines, n => `en nog ${n}`);

/**
 * What a part is about, for its Dutch line: the mailbox or host:port its remediation is filled
 * in for, else its first evidence's target (an inventory setting, or what an ECE server probed),
 * and the ECE server it was seen from. Names, never
 * words, so the line needs no translation beyond the code's meaning.
 */
function subjectOf(p: Part): string | undefined {
  const f = p.fix;
  const e = p.evidence[0];
  const hostPort = f?.host ? (f.port ? `${f.host}:${f.port}` : f.host) : undefined;
  // A central read's target is the API it asked (graph.microsoft.com), not what it is about.
  const who = f?.mailbox ?? hostPort ?? (e && e.vantage !== 'central' ? e.target : undefined);
  const server = f?.vantage ?? p.failedOn?.[0] ?? e?.vantage;
  const from = server && server !== INVENTORY && server !== 'central' ? server : undefined;
  if (who && from && who !== from) return `${who} vanaf ${from}`;
  return who ?? from;
}

/**
 * A part's line in Dutch: the rule's own when it gave one, else what it is about and the Dutch
 * meaning of its code from CODE_TABLE. A passing part is named only: the summary says `in orde`
 * once for all of them.
 */
export function lineNl(p: Part): string {
  if (p.lineNl) return p.lineNl;
  const subject = subjectOf(p);
  if (p.code === 'OK') return subject ?? '';
  const what = CODE_TABLE[p.code].meaning.nl.replace(/\.$/, '');
  return subject ? `${subject}: ${what}` : what;
}

function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

/** One remediation per distinct code; fixes for several mailboxes or servers are merged. */
function remediations(env: EnvironmentFacts, parts: Part[], codes: Code[]): Remediation[] {
  return codes.map(code => {
    const withCode = parts.filter(p => p.code === code);
    const first = remediationFor(code, { env, ...withCode[0]?.fix });
    const fixes = unique(
      withCode
        .map(p => remediationFor(code, { env, ...p.fix }).fix)
        .filter((f): f is string => !!f),
    );
    return fixes.length > 1 ? { ...first, fix: fixes.join('\n') } : first;
  });
}

/** Options for `judge`. */
export interface JudgeOptions {
  /** The summary when the item passes (default: the pass lines). */
  passSummary?: string;
  /** Summary when there is nothing to judge at all. */
  emptySummary?: string;
  /** Another item this one's failure follows from, when the rule already knows. */
  rootCause?: ItemId;
}

/** Fold an item's parts into its finding. */
export function judge(
  item: ItemId,
  title: string,
  env: EnvironmentFacts,
  parts: Part[],
  options: JudgeOptions = {},
): Finding {
  const counted = parts.filter(p => !(p.optional && p.status === 'skip'));
  const basis = counted.length ? counted : parts;
  const status: Status = basis.length
    ? basis.reduce<Status>((w, p) => (RANK[p.status] > RANK[w] ? p.status : w), 'pass')
    : 'skip';
  const of = (...s: Status[]) => parts.filter(p => s.includes(p.status));
  const notPass = [...of('fail'), ...of('error'), ...of('warn'), ...of('skip')];
  const codes = unique(notPass.map(p => p.code).filter(c => c !== 'OK'));
  const evidence = parts.flatMap(p => p.evidence);
  const nl = (...s: Status[]) =>
    of(...s)
      .map(lineNl)
      .filter(Boolean);

  let summary: string;
  let summaryNl: string;
  if (!parts.length) {
    summary = options.emptySummary ?? 'Nothing was observed for this item.';
    summaryNl = 'Voor dit item is niets waargenomen.';
  } else if (status === 'fail' || status === 'error') {
    summary = joinLines(of('fail', 'error').map(p => p.line));
    summaryNl = joinLinesNl(nl('fail', 'error'));
  } else if (status === 'warn') {
    summary = joinLines(of('warn').map(p => p.line));
    summaryNl = joinLinesNl(nl('warn'));
  } else if (status === 'skip') {
    // Say what could not be established first, then what was.
    const passed = of('pass').map(p => p.line);
    const skipped = joinLines(of('skip').map(p => p.line));
    summary = passed.length ? `${skipped}; established: ${joinLines(passed)}` : skipped;
    const skippedNl = joinLinesNl(nl('skip'));
    const passedNl = passed.length ? `vastgesteld: ${joinLinesNl(nl('pass')) || 'in orde'}` : '';
    summaryNl = passedNl ? `${skippedNl}; ${passedNl}` : skippedNl;
  } else {
    const passed = options.passSummary ?? joinLines(of('pass').map(p => p.line));
    const optional = of('skip').map(p => p.line);
    summary = optional.length ? `${passed}; not checked: ${joinLines(optional)}` : passed;
    const named = joinLinesNl(nl('pass'));
    const passedNl = named ? `In orde: ${named}` : 'In orde';
    summaryNl = optional.length
      ? `${passedNl}; niet gecontroleerd: ${joinLinesNl(nl('skip'))}`
      : passedNl;
  }

  const finding: Finding = {
    item,
    title,
    status,
    summary,
    summaryNl,
    code: status === 'pass' ? 'OK' : (notPass[0]?.code ?? 'OK'),
    codes,
    evidence,
    remediation: remediations(env, notPass, codes),
    failedOn: unique(of('fail', 'error').flatMap(p => p.failedOn ?? [])),
    vantages: unique(evidence.map(e => e.vantage).filter(v => v !== INVENTORY)),
    durationMs: Math.max(0, ...evidence.map(e => e.durationMs ?? 0)),
  };
  if (options.rootCause && status !== 'pass') finding.rootCause = options.rootCause;
  return finding;
}

/** Observations of one kind, typed. */
export function ofKind<K extends Observation['kind']>(
  observations: Observation[],
  kind: K,
): Extract<Observation, { kind: K }>[] {
  return observations.filter((o): o is Extract<Observation, { kind: K }> => o.kind === kind);
}

/** Case-insensitive address comparison (SMTP addresses and UPNs are compared without case). */
export function sameAddress(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The mailbox an observation is about: its `mailbox`, else its target. */
export function mailboxOf(o: Observation): string {
  return o.mailbox ?? o.target;
}

/** Whether a code is a transport failure (DNS, TCP, TLS, timeouts): the network item's. */
export function isNetworkCode(code: Code): boolean {
  return CODES[code].item === 'network';
}

/** The account whose token serves a mailbox: the shared account, or the mailbox itself. */
export function tokenAccount(m: MailboxFacts): string {
  return m.access === 'shared' && m.account ? m.account : m.address;
}

/** Services servers: they run the retriever and dispatcher (checklist item 8). */
export function servicesServers(env: EnvironmentFacts): string[] {
  return env.servers.filter(s => s.role === 'services').map(s => s.name);
}

/** The mailbox-purpose token observations for one mailbox (refresh on a services server). */
export function mailboxTokens(
  observations: Observation[],
  address: string,
): EntraTokenObservation[] {
  return ofKind(observations, 'entra-token').filter(
    o => o.purpose !== 'ece-app' && o.purpose !== 'probe-app' && sameAddress(mailboxOf(o), address),
  );
}

/**
 * The mail conversations (IMAP, POP3 or SMTP) for one mailbox. Matched on the mailbox the
 * conversation served, not on SASL `user=`: SMTP AUTH signs in as the account, which for a
 * shared mailbox is not the mailbox (o365-facts.md §1.5).
 */
export function mailObservations(
  observations: Observation[],
  address: string,
  kind: 'imap' | 'pop3' | 'smtp',
): MailObservation[] {
  return ofKind(observations, kind).filter(o =>
    sameAddress(o.mailbox ?? (o.user as string | undefined) ?? o.target, address),
  );
}

/**
 * Every name a directory user goes by, lower-case: userPrincipalName, mail and each SMTP proxy
 * address without its `SMTP:`/`smtp:` prefix (Graph user resource). Other proxy types (`SIP:`,
 * `X500:`) are not mail addresses and are left out.
 */
export function directoryNames(u: GraphDirectoryUser): string[] {
  const smtp = (u.proxyAddresses ?? []).filter(p => /^smtp:/i.test(p)).map(p => p.slice(5));
  return [u.userPrincipalName, u.mail, ...smtp]
    .filter((n): n is string => typeof n === 'string' && n.trim() !== '')
    .map(n => n.trim().toLowerCase());
}

/** The directory users the run read (graph-directory-users), from every address looked up. */
export function directoryUsers(observations: Observation[]): GraphDirectoryUser[] {
  return ofKind(observations, 'graph').flatMap(o =>
    o.ok && o.resource === 'directoryUsers' ? (o.data ?? []) : [],
  );
}

/**
 * Whether two names stand for one person: the same address without case, or two names of one
 * directory user (a UPN and the primary SMTP address, or an alias). A token carries the UPN
 * (`upn`/`unique_name`), which need not be the mailbox's SMTP address, so comparing strings
 * alone calls the right user wrong.
 */
export function sameUser(
  a: string | undefined,
  b: string | undefined,
  directory: readonly GraphDirectoryUser[] = [],
): boolean {
  if (!a || !b) return false;
  if (sameAddress(a, b)) return true;
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  return directory.some(u => {
    const names = directoryNames(u);
    return names.includes(x) && names.includes(y);
  });
}

/** Who a token was issued to: `upn`/`unique_name` (v1) or `preferred_username` (v2). */
export function tokenUser(claims: TokenClaims | undefined): string | undefined {
  return claims?.upn ?? claims?.unique_name ?? claims?.preferred_username;
}

/** Codes that can only come after Exchange accepted the token (o365-facts.md §1.2, §1.4). */
const AFTER_AUTH: ReadonlySet<Code> = new Set<Code>([
  'AUTHENTICATED_NOT_CONNECTED',
  'SEND_AS_DENIED',
  'TOKEN_EXPIRED_SESSION',
  // RFC 2449 §8.1.2 IN-USE: "the authentication was successful, but the user's maildrop is
  // currently locked"; STOREDRV logon failures come after 235 (at the message), and RFC 5530
  // AUTHORIZATIONFAILED after the authentication identity was accepted.
  'MAILBOX_IN_USE',
  'MAILBOX_ACCESS_DENIED',
]);

/** Whether Exchange accepted the XOAUTH2 token in this conversation. */
export function authenticated(o: MailObservation): boolean {
  return o.ok || AFTER_AUTH.has(o.code);
}

/** Why a tenant read is missing: no probe credentials, a refused probe token, or no answer. */
export function tenantReadBlocker(
  env: EnvironmentFacts,
  observations: Observation[],
  api: 'graph' | 'exchange',
): { code: Code; reason: string } {
  if (!env.probeConfigured) {
    return { code: 'PROBE_UNAVAILABLE', reason: 'no probe credentials in the inventory' };
  }
  const audience = api === 'graph' ? 'graph.microsoft.com' : 'outlook.office365.com';
  const refused = ofKind(observations, 'entra-token').find(
    o => o.purpose === 'probe-app' && !o.ok && (o.scopes ?? []).some(s => s.includes(audience)),
  );
  if (refused) {
    const why = refused.aadsts ? `AADSTS${refused.aadsts}` : refused.code;
    return { code: 'PROBE_UNAVAILABLE', reason: `ecebot's probe app was refused a token (${why})` };
  }
  return { code: 'NO_WORKER', reason: 'the central worker returned nothing' };
}

/**
 * The Exchange admin read of one cmdlet, for one mailbox when `address` is given. A read the
 * runner's guard turned into CHECK_CRASHED has no cmdlet; its target is the cmdlet name or the
 * mailbox, so it is matched on that.
 */
export function exoRead(
  observations: Observation[],
  cmdlet: ExoObservation['cmdlet'],
  address?: string,
): ExoObservation | undefined {
  return ofKind(observations, 'exo').find(o => {
    if (o.cmdlet === undefined) {
      return address === undefined ? o.target === cmdlet : sameAddress(o.target, address);
    }
    return (
      o.cmdlet === cmdlet &&
      (address === undefined || sameAddress(o.identity ?? mailboxOf(o), address))
    );
  });
}

/** The Graph read of one resource (for one mailbox); crashed reads are matched on target. */
export function graphRead(
  observations: Observation[],
  resource: GraphObservation['resource'],
  address?: string,
): GraphObservation[] {
  return ofKind(observations, 'graph').filter(o => {
    if (o.resource === undefined) {
      return address === undefined ? o.target === resource : sameAddress(o.target, address);
    }
    return o.resource === resource && (address === undefined || sameAddress(mailboxOf(o), address));
  });
}

/** The Entra code of a refused refresh: the AADSTS number when there is one. */
export function refusalCode(o: EntraTokenObservation): Code {
  return o.aadsts ? aadstsCode(o.aadsts) : o.code;
}

/**
 * What a refusal's remediation is filled in with from Entra's answer: its AADSTS number and its
 * own words (already redacted by the probe), so a number ecebot has no entry for keeps both and
 * its lookup page instead of becoming a generic message.
 */
export function refusalFix(
  o: EntraTokenObservation,
): Pick<RemediationContext, 'aadsts' | 'server'> {
  // ecebot's own sign-in refusals leave `aadsts` off (not a verdict on ECE's grant); the number
  // still stands in Entra's words, and still gets its lookup page.
  const n = o.aadsts ?? Number(/AADSTS(\d+)/.exec(o.server ?? '')?.[1] ?? NaN);
  return {
    ...(Number.isFinite(n) ? { aadsts: n } : {}),
    ...(o.server ? { server: entraWords(o.server) } : {}),
  };
}

/**
 * Entra's sentence without its trace lines (Trace ID, Correlation ID, Timestamp), at most
 * ENTRA_WORDS_MAX characters: it is quoted in a remediation, not the whole answer (the evidence
 * keeps that).
 */
export function entraWords(text: string): string {
  const words = text.split(/\s*Trace ID:/)[0]!.trim();
  return words.length > ENTRA_WORDS_MAX ? `${words.slice(0, ENTRA_WORDS_MAX - 1)}…` : words;
}

const ENTRA_WORDS_MAX = 400;

/** How a refusal is named in a summary line: its AADSTS number, else its code. */
export function refusalName(o: EntraTokenObservation): string {
  return o.aadsts !== undefined ? `AADSTS${o.aadsts}` : o.code;
}
