/**
 * Parsing cards with the `adaptivecards` renderer (the UMD build, mapped in jest.config.js):
 * every parse and validation event is a problem, as Teams would drop or misrender the element.
 */
import * as AC from 'adaptivecards';

/**
 * Teams' chart elements (`Chart.Line`, `Chart.VerticalBar`, …) that this renderer does not know:
 * Teams draws them, other hosts render their `fallback` ("Charts in Adaptive Cards",
 * learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/charts-in-adaptive-cards).
 * One without a fallback is a problem; the renderer's "unknown element type" for one with a
 * fallback is not.
 */
function chartProblems(card: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'string' && o.type.startsWith('Chart.') && !o.fallback)
      out.push(`${o.type} without a fallback: hosts without charts would show nothing`);
    Object.values(o).forEach(walk);
  };
  walk(card);
  return out;
}

/** Parse and validation problems of a card, as readable strings (empty when clean). */
export function cardProblems(card: unknown): string[] {
  const c = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext();
  c.parse(card as AC.PropertyBag, ctx);
  const out: string[] = chartProblems(card);
  for (let i = 0; i < ctx.eventCount; i++) {
    const e = ctx.getEventAt(i);
    if (
      e.event === AC.ValidationEvent.UnknownElementType &&
      /^Unknown element type "Chart\.[A-Za-z.]+"/.test(e.message)
    )
      continue;
    out.push(`parse ${e.phase} ${e.event}: ${e.message}`);
  }
  for (const e of c.validateProperties().validationEvents)
    out.push(`validate ${e.phase} ${e.event}: ${e.message}`);
  return out;
}

/** Every string an expanded card shows (TextBlocks, facts, action titles, choices). */
export function cardTexts(card: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key?: string) => {
    if (typeof v === 'string') {
      if (key && ['text', 'title', 'value', 'label'].includes(key)) out.push(v);
      return;
    }
    if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, k);
  };
  walk(card);
  return out;
}
