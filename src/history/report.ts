/**
 * A history report: the marks of an environment (or one of its items) over a window, with the
 * uptime and the uptime per day, and without an item each item's uptime. Read from the history
 * store once; the figures come from ./uptime.ts (pure). The CLI prints it, the card charts it.
 */
import type { ItemId } from '../model';
import type { HistoryMark, ItemHistory } from '../store/item-history';
import { dailyUptime, uptimeOf, type DayUptime, type Uptime } from './uptime';

/** One item's marks and uptime over the window. */
export interface ItemUptime {
  item: ItemId;
  marks: HistoryMark[];
  uptime: Uptime;
}

/** What `history` shows. */
export interface HistoryReport {
  environment: string;
  item?: ItemId;
  since: Date;
  until: Date;
  /** The environment's marks (or the item's), oldest first. */
  marks: HistoryMark[];
  uptime: Uptime;
  days: DayUptime[];
  /** Without an item: every item with at least one mark in the window, in checklist order. */
  items: ItemUptime[];
}

/** What to report on. */
export interface ReportQuery {
  environment: string;
  item?: ItemId;
  since: Date;
  until: Date;
  /** The checklist's items, in order (src/checklist/items.ts itemIds). */
  allItems: readonly ItemId[];
}

/** Read the marks and work out the figures. */
export async function historyReport(h: ItemHistory, q: ReportQuery): Promise<HistoryReport> {
  const marks = await h.marks({
    environment: q.environment,
    since: q.since,
    ...(q.item ? { item: q.item } : {}),
  });
  const byItem = new Map<ItemId, HistoryMark[]>();
  if (!q.item)
    for (const item of q.allItems)
      byItem.set(item, await h.marks({ environment: q.environment, item, since: q.since }));
  return reportOf(q, marks, byItem);
}

/**
 * The figures of a report from marks already read (pure): marks outside the window are left
 * out, the rest sorted oldest first.
 */
export function reportOf(
  q: ReportQuery,
  marks: readonly HistoryMark[],
  byItem: ReadonlyMap<ItemId, readonly HistoryMark[]>,
): HistoryReport {
  const inWindow = (ms: readonly HistoryMark[]) =>
    ms
      .filter(m => {
        const at = Date.parse(m.at);
        return at >= q.since.getTime() && at <= q.until.getTime();
      })
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const own = inWindow(marks);
  const items: ItemUptime[] = [];
  if (!q.item)
    for (const item of q.allItems) {
      const its = inWindow(byItem.get(item) ?? []);
      if (its.length) items.push({ item, marks: its, uptime: uptimeOf(its) });
    }
  return {
    environment: q.environment,
    ...(q.item ? { item: q.item } : {}),
    since: q.since,
    until: q.until,
    marks: own,
    uptime: uptimeOf(own),
    days: dailyUptime(own),
    items,
  };
}
