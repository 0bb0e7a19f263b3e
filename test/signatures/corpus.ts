/**
 * The signature corpus: real error texts from public sources, each with the checklist item and
 * the fix a support engineer would call right. One JSON file per family in this folder
 * (`entra.json`, `smtp.json`, `imap.json`, `pop3.json`, `tls.json`, `dns.json`, `proxy.json`,
 * `ece.json`, …); each family's `<family>.test.ts` runs its texts through the real code (wire texts
 * through the probes against line servers, Entra bodies through the token code), then the rules
 * and remediation. Expectations are written from the source, never from what ecebot prints.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Where a signature was published. */
const Source = z.object({
  /** The public page, issue or trace the text was seen in (https). */
  url: z.string().regex(/^https:\/\//, 'a source is an https URL'),
  /** Its title, as the page gives it. */
  title: z.string().min(3),
  /** Optional: what the source says the cause or fix is, in its own words (short). */
  says: z.string().optional(),
});

/** What a support engineer would call right for this text. */
const Expect = z.object({
  /** The checklist item the text points to (null: none of the nine, e.g. temporary). */
  item: z.string().nullable(),
  /** The registry code ecebot should give it (pins the mapping; optional). */
  code: z.string().optional(),
  /** Words (case-insensitive) the remediation must contain: the fix the source gives. */
  mentions: z.array(z.string().min(2)).default([]),
  /** Words the remediation must not contain: the wrong or circular fixes. */
  never: z.array(z.string().min(2)).default([]),
});

export const Signature = z
  .object({
    /** Stable id, `<family>-<what>`, e.g. `smtp-535-5.7.139-tenant`. */
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9.]+)+$/),
    /** The error text exactly as the source shows it (one reply, line or JSON body). */
    text: z.string().min(3),
    source: Source,
    expect: Expect,
    /** Family-specific driving data (the command it answered, the HTTP status, …). */
    context: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type Signature = z.infer<typeof Signature>;

const Family = z.array(Signature);

/** The families present, by file name (`smtp.json` → `smtp`). */
export function families(): string[] {
  return readdirSync(__dirname)
    .filter(f => f.endsWith('.json'))
    .map(f => f.slice(0, -'.json'.length))
    .sort();
}

/** One family's signatures, validated (a malformed entry fails loudly with its path). */
export function loadFamily(family: string): Signature[] {
  const raw: unknown = JSON.parse(readFileSync(join(__dirname, `${family}.json`), 'utf8'));
  return Family.parse(raw);
}

/** Every signature of every family, with its family. */
export function loadAll(): { family: string; sig: Signature }[] {
  return families().flatMap(family => loadFamily(family).map(sig => ({ family, sig })));
}

/** Case-insensitive check of a remediation against the expectation's words. */
export function fixMatches(
  remediation: string,
  exp: { mentions: string[]; never: string[] },
): { missing: string[]; forbidden: string[] } {
  const hay = remediation.toLowerCase();
  return {
    missing: exp.mentions.filter(w => !hay.includes(w.toLowerCase())),
    forbidden: exp.never.filter(w => hay.includes(w.toLowerCase())),
  };
}
