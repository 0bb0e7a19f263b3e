/**
 * Checklist item 6, Exchange licence: the account that signs in has an Exchange Online plan from
 * E3 up. Read from Graph licenseDetails (o365-facts.md §3.3). "At least E3" is Cisco's wording
 * (checklist.md item 6); Microsoft only requires an Exchange Online mailbox plan for IMAP, POP
 * and SMTP, so Plan 1 alone is a warning, not a failure. No Exchange plan at all fails.
 *
 * The licence is read on the account that authenticates, not on a shared mailbox it serves:
 * "Shared mailboxes usually don't require a license", except above 50 GB of storage, with
 * in-place archiving or under litigation hold, which need Exchange Online Plan 2
 * (MicrosoftDocs/microsoft-365-docs admin/email/remove-license-from-shared-mailbox.md). Those
 * three are not read here.
 */
import { CODES } from '../knowledge/codes';
import { PLAN } from '../knowledge/permissions';
import { fromObservation } from './evidence';
import {
  graphRead,
  judge,
  mailboxTokens,
  part,
  tenantReadBlocker,
  tokenAccount,
  type Part,
  type Rule,
  refusalCode,
} from './rule';
import type { EnvironmentFacts, MailboxFacts } from '../model';
import type { GraphLicenseDetail, Observation } from '../model';
import type { Text } from '../model/items';
import { SERVICES, CENTRAL_ONLY, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'Exchange Online licence', nl: 'Exchange Online-licentie' };

interface PlanSeen {
  name: string;
  id?: string;
  status?: string;
  sku: string;
}

/** Exchange Online service plans in the licences, with their SKU. */
function exchangePlans(licenses: readonly GraphLicenseDetail[]): PlanSeen[] {
  return licenses.flatMap(l =>
    l.servicePlans
      .filter(
        p =>
          p.servicePlanName?.startsWith('EXCHANGE_S_') ||
          p.servicePlanId === PLAN.EXCHANGE_S_ENTERPRISE ||
          p.servicePlanId === PLAN.EXCHANGE_S_STANDARD,
      )
      .map(p => ({
        name:
          p.servicePlanName ??
          (p.servicePlanId === PLAN.EXCHANGE_S_ENTERPRISE
            ? 'EXCHANGE_S_ENTERPRISE'
            : 'EXCHANGE_S_STANDARD'),
        ...(p.servicePlanId ? { id: p.servicePlanId } : {}),
        ...(p.provisioningStatus ? { status: p.provisioningStatus } : {}),
        sku: l.skuPartNumber ?? l.skuId ?? 'unknown SKU',
      })),
  );
}

const isPlan = (p: PlanSeen, name: keyof typeof PLAN) => p.name === name || p.id === PLAN[name];
// EXCHANGE_S_FOUNDATION comes with many non-mail SKUs and gives no mailbox.
const isMailboxPlan = (p: PlanSeen) => p.name !== 'EXCHANGE_S_FOUNDATION';

function judgeMailbox(env: EnvironmentFacts, observations: Observation[], m: MailboxFacts): Part[] {
  // The account that signs in: the mailbox itself, or the shared mailbox's account.
  const account = tokenAccount(m);
  const shared = account.toLowerCase() !== m.address.toLowerCase();
  const who = shared
    ? `${account} (for the shared mailbox ${m.address}, which needs none)`
    : account;
  const fix = { mailbox: account };
  // End to end: Entra refuses tokens for Exchange when the tenant has no Exchange Online at all.
  const refused = mailboxTokens(observations, m.address).filter(
    o => !o.ok && CODES[refusalCode(o)].item === 'license',
  );
  const parts: Part[] = refused.map(o =>
    part(
      'fail',
      refusalCode(o),
      `${m.address}: Entra says the tenant has no Exchange Online (${refusalCode(o)})`,
      [fromObservation(o, { code: refusalCode(o) })],
      { fix },
    ),
  );
  const reads = graphRead(observations, 'licenseDetails', account);
  if (!reads.length) {
    const b = tenantReadBlocker(env, observations, 'graph');
    return [...parts, part('skip', b.code, `${who}: licences not read (${b.reason})`, [], { fix })];
  }
  for (const o of reads) {
    if (o.code === 'CHECK_CRASHED') {
      parts.push(
        part('error', 'CHECK_CRASHED', `${who}: the licence read crashed`, [fromObservation(o)]),
      );
      continue;
    }
    if (o.code === 'GRAPH_UNEXPECTED_REPLY') {
      // Not a verdict on the licence: ecebot could not read the answer (shape in the evidence).
      parts.push(
        part(
          'error',
          o.code,
          `${who}: licences not judged (Graph's reply was not understood)`,
          [fromObservation(o)],
          { fix },
        ),
      );
      continue;
    }
    if (!o.ok) {
      const why =
        o.code === 'GRAPH_NOT_FOUND'
          ? 'no directory user with that name'
          : `Graph answered ${o.code}`;
      parts.push(
        part('skip', o.code, `${who}: licences not read (${why})`, [fromObservation(o)], {
          fix,
        }),
      );
      continue;
    }
    const plans = exchangePlans(o.resource === 'licenseDetails' ? (o.data ?? []) : []);
    const active = plans.filter(p => p.status === undefined || p.status === 'Success');
    const listed = plans.length
      ? plans.map(p => `${p.name} from ${p.sku} (${p.status ?? 'status unknown'})`).join(', ')
      : 'no Exchange Online plan';
    const evidence = (ok: boolean, code: (typeof parts)[number]['code']) => [
      fromObservation(o, { text: `licenseDetails ${account}: ${listed}`, ok, code }),
    ];
    const e3 = active.find(p => isPlan(p, 'EXCHANGE_S_ENTERPRISE'));
    if (e3) {
      parts.push(
        part('pass', 'OK', `${who}: Exchange Online Plan 2 (${e3.sku})`, evidence(true, 'OK')),
      );
      continue;
    }
    const lower = active.find(isMailboxPlan);
    if (lower) {
      const name = isPlan(lower, 'EXCHANGE_S_STANDARD') ? 'Exchange Online Plan 1' : lower.name;
      parts.push(
        part(
          'warn',
          'EXO_LICENSE_BELOW_E3',
          `${who}: only ${name} (${lower.sku}); Cisco asks for E3, though Microsoft only needs a mailbox plan`,
          evidence(false, 'EXO_LICENSE_BELOW_E3'),
          { fix },
        ),
      );
      continue;
    }
    const inactive = plans.length
      ? ` (${plans.map(p => `${p.name} is ${p.status ?? 'not active'}`).join(', ')})`
      : '';
    parts.push(
      part(
        'fail',
        'EXO_LICENSE_MISSING',
        `${who}: no active Exchange Online plan${inactive}`,
        evidence(false, 'EXO_LICENSE_MISSING'),
        { fix },
      ),
    );
  }
  return parts;
}

export const license: Rule = ({ env, observations }) => {
  const parts = env.mailboxes.flatMap(m => judgeMailbox(env, observations, m));
  return judge('license', TITLE.en, env, parts, {
    passSummary: `${[...new Set(env.mailboxes.map(tokenAccount))].join(', ')}: Exchange Online Plan 2 (E3 or above)`,
    emptySummary: 'No mailboxes in the inventory.',
  });
};

/** Checklist item: Exchange Online licence. */
export const item: ItemDeclaration = {
  id: 'license',
  title: TITLE,
  reads: [
    { read: 'graph-token', on: CENTRAL_ONLY },
    { read: 'graph-licenses', on: CENTRAL_ONLY },
    // Entra refuses Exchange tokens when the tenant has no Exchange Online (AADSTS650052).
    { read: 'mailbox-token', on: SERVICES },
  ],
  rule: license,
};
