/**
 * CSV as RFC 4180 ("Common Format and MIME Type for Comma-Separated Values (CSV) Files") writes
 * it: records end with CRLF (§2.1, 2.2), an optional header line of the same shape (§2.3), and a
 * field holding a comma, a double quote, CR or LF is enclosed in double quotes with each inner
 * double quote doubled (§2.5–2.7). Spreadsheet programs read it as is.
 */

/** One field, quoted only when RFC 4180 §2.6 asks for it. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A header and rows as one CSV text, every record (the last one too) ending in CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map(r => `${r.map(csvField).join(',')}\r\n`).join('');
}
