/**
 * The chart part of cards/history.json, from a history report, in the reader's language. Pure.
 *
 * Teams draws `Chart.Line` and `Chart.VerticalBar` ("Charts in Adaptive Cards",
 * learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/charts-in-adaptive-cards):
 * a line's `data` is a list of series `{ legend, values: [{ x, y }] }`, a vertical bar's a list
 * of `{ x, y }`; both take `title`, `xAxisTitle`, `yAxisTitle` and `color` (`good` among the
 * named colours). Hosts that do not know an element type render its `fallback` (the same page:
 * "An alternate element to render if this element is unsupported", an element or `drop`): the
 * `adaptivecards` JS renderer (Agents Playground, Designer) and older clients. Each chart's
 * fallback here says the same in text: the runs' marks and a table of the figures.
 */
import { itemTitle, stateWord, type Lang } from '../i18n';
import { historyMessages } from '../i18n/history';
import type { Status } from '../model';
import type { HistoryChartData } from '../render/card-data';
import { escapeMarkdown } from '../render/escape';
import type { HistoryReport } from './report';
import { percent } from './uptime';

/** Marks the fallback line shows at most (the newest), so the card stays small. */
export const FALLBACK_MARKS = 60;

/** Whole days of a window, for the uptime line (`7d` → 7; at least 1). */
export function windowDays(r: Pick<HistoryReport, 'since' | 'until'>): number {
  return Math.max(1, Math.round((r.until.getTime() - r.since.getTime()) / 86_400_000));
}

/** The chart data of a report; `mark` is the card's mark of a status (✔ ! ✖ – ?). */
export function historyChartData(
  lang: Lang,
  r: HistoryReport,
  mark: (s: Status) => string,
): HistoryChartData {
  const t = historyMessages(lang);
  const days = windowDays(r);
  const u = r.uptime;
  const counted = u.up + u.down;
  const shown = r.marks.slice(-FALLBACK_MARKS);
  const pct = (ratio: number | undefined) => (ratio === undefined ? undefined : percent(ratio));
  return {
    uptime:
      u.ratio === undefined
        ? t.noUptime(days, u.notCounted)
        : t.uptimeLine(percent(u.ratio), days, u.up, counted, u.notCounted),
    title: t.chartTitle,
    xAxis: t.chartX,
    yAxis: t.chartY,
    legend: escapeMarkdown(r.item ? itemTitle(r.item, lang) : r.environment),
    points: r.days
      .filter(d => d.ratio !== undefined)
      .map(d => ({ x: d.day, y: Number(pct(d.ratio)) })),
    marksLabel: t.marksLabel(shown.length),
    marks: shown.map(m => mark(m.status)).join(' '),
    days: r.days.map(d => ({
      title: d.day,
      value: d.ratio === undefined ? t.notMeasured : t.dayValue(percent(d.ratio), d.up + d.down),
    })),
    showItems: r.items.length > 0,
    itemsTitle: t.itemsChartTitle,
    itemsX: t.itemsChartX,
    items: r.items
      .filter(i => i.uptime.ratio !== undefined)
      .map(i => ({ x: i.item, y: Number(pct(i.uptime.ratio)) })),
    itemFacts: r.items.map(i => ({
      title: itemTitle(i.item, lang),
      value:
        i.uptime.ratio === undefined
          ? t.notMeasured
          : t.dayValue(percent(i.uptime.ratio), i.uptime.up + i.uptime.down),
    })),
  };
}

/** The rows of `history ENV ITEM`: the item's newest runs, newest first. */
export function itemRows(
  lang: Lang,
  r: HistoryReport,
  limit: number,
  look: (s: Status) => { mark: string; color: string },
  when: (iso: string) => string,
): { id: string; mark: string; color: string; when: string; text: string }[] {
  const t = historyMessages(lang);
  return r.marks
    .slice(-limit)
    .reverse()
    .map(m => ({
      id: m.runId,
      ...look(m.status),
      when: when(m.at),
      text: t.itemRun(itemTitle(r.item!, lang), stateWord(m.status, lang)),
    }));
}
