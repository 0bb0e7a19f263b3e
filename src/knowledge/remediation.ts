/**
 * The remediation for a code, filled in for the environment. What to do about each code lives in
 * its entry of ./codes.ts (`CODE_TABLE`), beside the code's item, meanings and phrase; the
 * compiler holds every code to having one.
 */
import type { Link, Remediation } from '../model';
import { CODE_TABLE, type Code, type CodeEntry, type RemediationContext } from './codes';
import { REMEDY_NL, type AdviceNl } from './codes-nl';
import { aadstsLookup } from './links';

export type { RemediationContext };

/**
 * The remediation for a code, filled in for the environment. Every AADSTS number gets Microsoft's
 * lookup page for that number, known or not: the code's own number, else the number Entra
 * answered (`ctx.aadsts`, kept for codes ecebot has no entry for). The Dutch text (and fix, where
 * the English one has prose) comes from the parallel table in ./codes-nl.ts, filled in from the
 * same context.
 */
export function remediationFor(code: Code, ctx: RemediationContext): Remediation {
  const entry: CodeEntry = CODE_TABLE[code];
  const advice = entry.remediation(ctx);
  const own = /^AADSTS(\d+)$/.exec(code)?.[1];
  const n = own !== undefined ? Number(own) : ctx.aadsts;
  const links = n !== undefined ? [...advice.links, aadstsLookup(n)] : advice.links;
  const out: Remediation = { code, text: advice.text, links: dedupe(links) };
  if (advice.fix) out.fix = advice.fix;
  const nl: AdviceNl = REMEDY_NL[code](ctx);
  out.textNl = nl.text;
  if (advice.fix && nl.fix) out.fixNl = nl.fix;
  return out;
}

function dedupe(links: Link[]): Link[] {
  const seen = new Set<string>();
  return links.filter(l => !seen.has(l.url) && (seen.add(l.url), true));
}
