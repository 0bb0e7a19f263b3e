/**
 * The words of the `history` card's chart and uptime (docs/history.md), in every language. The
 * Dutch table is typed as the English one, so a key missing from either does not compile.
 */
import type { Lang } from './lang';

const en = {
  itemHistoryTitle: (env: string, item: string) => `History of ${env}: ${item}`,
  uptimeLine: (pct: string, days: number, up: number, counted: number, notCounted: number) =>
    `Uptime over the last ${days} days: **${pct}%** (${up} of ${counted} counted runs passed or warned${
      notCounted ? `; ${notCounted} skipped or errored, not counted` : ''
    })`,
  noUptime: (days: number, notCounted: number) =>
    `No counted run in the last ${days} days${notCounted ? ` (${notCounted} skipped or errored, not counted)` : ''}.`,
  chartTitle: 'Uptime per day (%)',
  chartX: 'Day (UTC)',
  chartY: '% up',
  itemsChartTitle: 'Uptime per item (%)',
  itemsChartX: 'Item',
  marksLabel: (n: number) => `Last ${n} runs, oldest first:`,
  dayValue: (pct: string, counted: number) =>
    `${pct}% of ${counted} run${counted === 1 ? '' : 's'}`,
  notMeasured: 'not measured',
  itemRun: (item: string, status: string) => `${item}: ${status}`,
};

/** Dutch writes a decimal comma (99,5%). */
const komma = (pct: string): string => pct.replace('.', ',');

const nl: typeof en = {
  itemHistoryTitle: (env, item) => `Geschiedenis van ${env}: ${item}`,
  uptimeLine: (pct, days, up, counted, notCounted) =>
    `Beschikbaarheid over de laatste ${days} dagen: **${komma(pct)}%** (${up} van ${counted} meegetelde runs in orde of met waarschuwing${
      notCounted ? `; ${notCounted} overgeslagen of mislukt, niet meegeteld` : ''
    })`,
  noUptime: (days, notCounted) =>
    `Geen meegetelde run in de laatste ${days} dagen${notCounted ? ` (${notCounted} overgeslagen of mislukt, niet meegeteld)` : ''}.`,
  chartTitle: 'Beschikbaarheid per dag (%)',
  chartX: 'Dag (UTC)',
  chartY: '% in orde',
  itemsChartTitle: 'Beschikbaarheid per item (%)',
  itemsChartX: 'Item',
  marksLabel: n => `Laatste ${n} runs, oudste eerst:`,
  dayValue: (pct, counted) => `${komma(pct)}% van ${counted} run${counted === 1 ? '' : 's'}`,
  notMeasured: 'niet gemeten',
  itemRun: (item, status) => `${item}: ${status}`,
};

/** The history card's words. */
export type HistoryMessages = typeof en;

/** The history card's words in a language. */
export function historyMessages(lang: Lang): HistoryMessages {
  return lang === 'nl' ? nl : en;
}
