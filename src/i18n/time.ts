/** Times as cards show them. */

/** A date and time for cards, in UTC so every reader sees the same value (`2026-11-29 14:05 UTC`). */
export function formatTime(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
