/**
 * Drift, pure: the Exchange and Entra facts a run read (protocol switches, licences and their
 * service plans, redirect URIs, API permissions and consent, client secret and certificate ids
 * with their expiry, Full Access and Send As rows), kept from run to run, and what changed
 * between two runs — even when both pass. "IMAP was turned off for support@ between 14:00 and
 * 14:05" is a fact worth telling before it becomes a failure: ECE may not read that mailbox
 * again until someone turns it back on.
 *
 * Why licences are watched beside the switches: a CAS mailbox plan is applied to a mailbox when
 * a licence is assigned, and the plan carries its own ImapEnabled/PopEnabled. Microsoft's
 * Get-CASMailboxPlan reference (learn.microsoft.com/powershell/module/exchange/get-casmailboxplan,
 * Description; the same text in MicrosoftDocs/office-docs-powershell): "A CAS mailbox plan is
 * tied to the corresponding mailbox plan that has the same name (and display name). Like mailbox
 * plans, CAS mailbox plans correspond to license types, and are applied to a mailbox when you
 * license the user." o365-facts.md lists the consequence ("A licence change re-applies the CAS
 * mailbox plan, which can flip PopEnabled/ImapEnabled", practical365.com; froqr.com).
 *
 * Only what was read counts. A fact comes from a read that succeeded in this run; a read that
 * failed, was refused or was not made (a run of other items, no Exchange permission) yields no
 * fact, so it is neither a change nor a reset: the fact kept from the last run that did read it
 * stays, and the next successful read is compared with that one (the window then starts at that
 * older run). Secrets are never facts: a client secret is kept as its keyId, display name and
 * expiry only (the Graph schema does not even parse `secretText` or `hint`).
 */
import type { Observation } from '../model';
import { ofKind } from '../checklist/rule';

/** Which fact. Per mailbox: the switches, licences (per signing-in account) and rights. */
export type DriftField =
  | 'imap'
  | 'pop'
  | 'smtpAuth'
  | 'smtpAuthOrg'
  | 'licences'
  | 'redirectUris'
  | 'permissions'
  | 'consent'
  | 'credentials'
  | 'fullAccess'
  | 'sendAs';

/** A switch (true/false, null for "follows the organisation") or a set of entries. */
export type FactValue = boolean | null | string[];

/** One fact as read by one run. */
export interface FactReading {
  field: DriftField;
  /** The mailbox or account it is about; absent for the app registration and the organisation. */
  subject?: string;
  value: FactValue;
}

/** A fact as kept: with the run that read it last and when that run finished. */
export interface KeptFact extends FactReading {
  at: string;
  runId: string;
}

/** What is kept per environment. */
export interface DriftState {
  /** The last run folded in: folding it again (a retried job) changes nothing. */
  lastRunId?: string;
  facts: Record<string, KeptFact>;
}

/** One change between the last run that read a fact and this one. */
export interface DriftChange {
  field: DriftField;
  subject?: string;
  before: FactValue;
  after: FactValue;
  /** For sets: entries that appeared and disappeared (sorted). Empty for switches. */
  added: string[];
  removed: string[];
  /** When the run that read `before` finished, and this run's (the window of the change). */
  since: string;
  until: string;
  sinceRunId: string;
}

/** Bounds on what is kept, so a hostile or huge tenant cannot grow Redis without end. */
export const DRIFT_LIMITS = {
  /** Facts kept per environment (about six per mailbox); beyond it the newest are kept. */
  maxFacts: 1000,
  /** Entries per set (licence plans, redirect URIs…); the rest is cut and said so. */
  maxEntries: 100,
  /** Characters per entry. */
  maxChars: 300,
  /** A fact not read again for this long is forgotten (a mailbox taken out of the inventory). */
  keepMs: 30 * 86_400_000,
} as const;

const SELF = 'nt authority\\self';

function clip(s: string): string {
  return s.length > DRIFT_LIMITS.maxChars ? `${s.slice(0, DRIFT_LIMITS.maxChars - 1)}…` : s;
}

/** A set: unique, sorted, bounded (a cut set says how many were left out). */
function set(entries: Iterable<string>): string[] {
  const all = [...new Set([...entries].map(clip))].sort();
  if (all.length <= DRIFT_LIMITS.maxEntries) return all;
  const kept = all.slice(0, DRIFT_LIMITS.maxEntries - 1);
  return [...kept, `… ${all.length - kept.length} more`];
}

const key = (r: Pick<FactReading, 'field' | 'subject'>): string =>
  `${r.field}|${(r.subject ?? '').toLowerCase()}`;

/** Scope names by permission id, from the resource service principals this run read. */
export function permissionLabels(observations: readonly Observation[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of ofKind([...observations], 'graph'))
    if (o.resource === 'resourceServicePrincipal' && o.ok && o.data)
      for (const s of o.data.oauth2PermissionScopes ?? []) if (s.value) out[s.id] = s.value;
  return out;
}

/**
 * The facts of one run's observations: only reads that succeeded, one reading per fact (the
 * first, should a read appear twice).
 */
export function readFacts(observations: readonly Observation[]): FactReading[] {
  const out = new Map<string, FactReading>();
  const add = (r: FactReading) => {
    if (!out.has(key(r))) out.set(key(r), r);
  };
  for (const o of ofKind([...observations], 'exo')) {
    if (!o.ok || !o.data) continue;
    const subject = o.identity ?? o.mailbox;
    switch (o.cmdlet) {
      case 'Get-CASMailbox': {
        const row = o.data[0];
        if (!row || !subject) break;
        if (typeof row.ImapEnabled === 'boolean')
          add({ field: 'imap', subject, value: row.ImapEnabled });
        if (typeof row.PopEnabled === 'boolean')
          add({ field: 'pop', subject, value: row.PopEnabled });
        // true disables, false enables, null follows Get-TransportConfig (o365-facts.md §3.5).
        if (row.SmtpClientAuthenticationDisabled !== undefined)
          add({ field: 'smtpAuth', subject, value: row.SmtpClientAuthenticationDisabled });
        break;
      }
      case 'Get-TransportConfig': {
        const row = o.data[0];
        if (row && row.SmtpClientAuthenticationDisabled !== undefined)
          add({ field: 'smtpAuthOrg', value: row.SmtpClientAuthenticationDisabled });
        break;
      }
      case 'Get-MailboxPermission':
        if (subject)
          add({
            field: 'fullAccess',
            subject,
            value: set(
              o.data
                .filter(r => !r.Deny && r.AccessRights.some(a => /^fullaccess$/i.test(a)))
                .map(r => r.User.toLowerCase())
                .filter(u => u !== SELF),
            ),
          });
        break;
      case 'Get-RecipientPermission':
        if (subject)
          add({
            field: 'sendAs',
            subject,
            value: set(
              o.data
                .filter(
                  r =>
                    !/^deny$/i.test(r.AccessControlType ?? '') &&
                    r.AccessRights.some(a => /^sendas$/i.test(a)),
                )
                .map(r => r.Trustee.toLowerCase())
                .filter(u => u !== SELF),
            ),
          });
        break;
      default:
        break;
    }
  }
  for (const o of ofKind([...observations], 'graph')) {
    if (!o.ok || !o.data) continue;
    switch (o.resource) {
      case 'licenseDetails':
        if (o.mailbox)
          add({
            field: 'licences',
            subject: o.mailbox,
            value: set(
              o.data.flatMap(l => {
                const sku = l.skuPartNumber ?? l.skuId ?? '?';
                const plans = l.servicePlans.map(p =>
                  `${sku} ${p.servicePlanName ?? p.servicePlanId ?? '?'} ${p.provisioningStatus ?? ''}`.trim(),
                );
                return plans.length ? plans : [sku];
              }),
            ),
          });
        break;
      case 'application': {
        const a = o.data;
        add({
          field: 'redirectUris',
          value: set([
            ...(a.web?.redirectUris ?? []).map(u => `web ${u}`),
            ...(a.spa?.redirectUris ?? []).map(u => `spa ${u}`),
            ...(a.publicClient?.redirectUris ?? []).map(u => `publicClient ${u}`),
          ]),
        });
        add({
          field: 'permissions',
          value: set(
            (a.requiredResourceAccess ?? []).flatMap(r =>
              r.resourceAccess.map(p => `${r.resourceAppId} ${p.id} ${p.type}`),
            ),
          ),
        });
        // Ids, names and expiry only: never a secret's value (not parsed at all, see above).
        add({
          field: 'credentials',
          value: set([
            ...(a.passwordCredentials ?? []).map(
              c =>
                `secret ${c.keyId ?? '?'} "${c.displayName ?? ''}" until ${c.endDateTime ?? 'no end'}`,
            ),
            ...(a.keyCredentials ?? []).map(
              c =>
                `certificate ${c.keyId ?? '?'} "${c.displayName ?? ''}" until ${c.endDateTime ?? 'no end'}`,
            ),
          ]),
        });
        break;
      }
      case 'grants':
        add({
          field: 'consent',
          value: set(
            o.data.flatMap(g =>
              (g.scope ?? '')
                .split(/\s+/)
                .filter(Boolean)
                .map(s =>
                  g.consentType === 'AllPrincipals'
                    ? `${s} admin`
                    : `${s} user ${g.principalId ?? '?'}`,
                ),
            ),
          ),
        });
        break;
      default:
        break;
    }
  }
  return [...out.values()];
}

function same(a: FactValue, b: FactValue): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/**
 * Fold one run's facts into what is kept; the changes are the facts read now whose value
 * differs from the last run that read them. A first reading is no change. A run that finished
 * before the one a fact was last read by (a late, retried job) does not overwrite it.
 */
export function foldFacts(
  prev: DriftState,
  run: { id: string; finishedAt: string },
  readings: readonly FactReading[],
): { next: DriftState; changes: DriftChange[] } {
  if (prev.lastRunId === run.id) return { next: prev, changes: [] };
  const facts: Record<string, KeptFact> = { ...prev.facts };
  const changes: DriftChange[] = [];
  const now = Date.parse(run.finishedAt);
  for (const r of readings) {
    const k = key(r);
    const old = facts[k];
    if (old && Date.parse(old.at) > now) continue;
    if (old && !same(old.value, r.value)) {
      const before = Array.isArray(old.value) ? old.value : [];
      const after = Array.isArray(r.value) ? r.value : [];
      changes.push({
        field: r.field,
        ...(r.subject !== undefined ? { subject: r.subject } : {}),
        before: old.value,
        after: r.value,
        added: after.filter(x => !before.includes(x)),
        removed: before.filter(x => !after.includes(x)),
        since: old.at,
        until: run.finishedAt,
        sinceRunId: old.runId,
      });
    }
    facts[k] = { ...r, at: run.finishedAt, runId: run.id };
  }
  // Forget what has not been read for a long time, then keep the newest within the bound.
  const kept = Object.entries(facts)
    .filter(([, f]) => now - Date.parse(f.at) <= DRIFT_LIMITS.keepMs)
    .sort(([, a], [, b]) => Date.parse(b.at) - Date.parse(a.at))
    .slice(0, DRIFT_LIMITS.maxFacts);
  return { next: { lastRunId: run.id, facts: Object.fromEntries(kept) }, changes };
}
