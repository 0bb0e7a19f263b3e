/**
 * The one place the renderers read a finding's words: its summary and its remediation texts and
 * fixes in the reader's language (Dutch from `summaryNl`, `textNl`, `fixNl`, English otherwise:
 * src/i18n/findings.ts), and how long texts are shortened for a card.
 */
export { findingSummary, remediationFix, remediationText } from '../i18n';

/**
 * Clip at a word boundary: never mid-word, never mid-URL; `…` marks the cut. A single word
 * longer than the limit is cut where it must be (the card's size budget decides).
 */
export function clipWords(s: string, n: number): string {
  if (s.length <= n) return s;
  const head = s.slice(0, Math.max(0, n - 1));
  const space = head.search(/\s\S*$/);
  const cut = space > n / 2 ? head.slice(0, space) : head;
  return `${cut.replace(/[\s,;:–—-]+$/, '')}…`;
}

/**
 * The whole sentences of `s` that fit in `n` characters, and whether anything was left out.
 * A sentence ends at `.`, `!` or `?` followed by a space and a capital (so `aka.ms/x` and
 * `e.g. this` stay whole). When even the first sentence is too long, it is clipped at a word.
 */
export function sentencesWithin(s: string, n: number): { text: string; cut: boolean } {
  if (s.length <= n) return { text: s, cut: false };
  const parts = s.split(/(?<=[.!?])\s+(?=[A-Z"'(])/);
  let text = '';
  for (const p of parts) {
    const next = text ? `${text} ${p}` : p;
    if (next.length > n) break;
    text = next;
  }
  return text ? { text, cut: true } : { text: clipWords(s, n), cut: true };
}
