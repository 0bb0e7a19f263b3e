/**
 * What the checklist says about a finding, in the reader's language: the summary and each
 * remediation's sentence and fix. The rules write both languages into the finding
 * (src/checklist/rule.ts, src/knowledge/codes-nl.ts); a run stored before the Dutch fields
 * existed has none, and is shown in English rather than not at all. Evidence lines stay as
 * recorded: they are the server's and the probe's own words.
 */
import type { Finding, Remediation } from '../model';
import type { Lang } from './lang';

/** The finding's one-line summary in the language (English when no translation was stored). */
export function findingSummary(f: Pick<Finding, 'summary' | 'summaryNl'>, lang: Lang): string {
  return lang === 'nl' ? (f.summaryNl ?? f.summary) : f.summary;
}

/** The remediation's sentence in the language (English when no translation was stored). */
export function remediationText(r: Pick<Remediation, 'text' | 'textNl'>, lang: Lang): string {
  return lang === 'nl' ? (r.textNl ?? r.text) : r.text;
}

/** The remediation's fix in the language: the English fix unless it had prose to translate. */
export function remediationFix(
  r: Pick<Remediation, 'fix' | 'fixNl'>,
  lang: Lang,
): string | undefined {
  return lang === 'nl' ? (r.fixNl ?? r.fix) : r.fix;
}
