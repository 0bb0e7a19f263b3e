/**
 * Findings: the checklist's verdicts. Pure data, produced by the rules in this folder from
 * observations and inventory facts, rendered by the CLI and the cards.
 */
import type { Code } from './codes';
import type { ItemId, Status } from './items';
import type { Vantage } from './observations';

/** One piece of evidence shown under a finding. */
export interface Evidence {
  /** Where it was observed from (server name or `central`). */
  vantage: Vantage;
  /** What it is about: a host:port, a mailbox, a Graph resource. */
  target: string;
  /** What was seen, in one line (`993 refused after 1 ms`). */
  text: string;
  /** The stable code of the observation (`OK` when fine). */
  code: Code;
  /** Whether this piece of evidence is good news. */
  ok: boolean;
  durationMs?: number;
  /** The server's own words, redacted. */
  server?: string;
  /** Redacted protocol transcript lines (`C: …` / `S: …`), for the Details view. */
  transcript?: string[];
}

/** A link to documentation, chosen for the environment's ECE release. */
export interface Link {
  title: string;
  url: string;
}

/** What to do about a failing or warning finding. */
export interface Remediation {
  /** The code it answers. */
  code: Code;
  /** What to do, in a sentence. */
  text: string;
  /** The exact fix (a PowerShell line, a setting path) filled in for this environment. */
  fix?: string;
  /**
   * `text` in Dutch (src/knowledge/codes-nl.ts). Optional so that runs stored before it existed
   * still render; read it through `remediationText` (src/i18n), which falls back to `text`.
   */
  textNl?: string;
  /** `fix` in Dutch, only where the English fix holds prose (else `fix` serves both). */
  fixNl?: string;
  links: Link[];
}

/** The verdict on one checklist item. */
export interface Finding {
  item: ItemId;
  title: string;
  status: Status;
  /** One line a person reads first. */
  summary: string;
  /**
   * `summary` in Dutch, composed from the codes' Dutch meanings and what each part is about
   * (src/checklist/rule.ts). Optional so that runs stored before it existed still render; read
   * it through `findingSummary` (src/i18n), which falls back to `summary`.
   */
  summaryNl?: string;
  /** The main code (first failure, or `OK`). */
  code: Code;
  /** Every distinct code behind a non-pass status. */
  codes: Code[];
  evidence: Evidence[];
  remediation: Remediation[];
  /** Vantage points where the item failed (empty when it passed or is not per-server). */
  failedOn: Vantage[];
  /** Vantage points the item was observed from. */
  vantages: Vantage[];
  /**
   * Where the verdict comes from, in one string: the server(s) it failed on, else every vantage
   * point it was observed from (`services-1`, `central`, `services-1,app-1`); `inventory` when
   * it was judged from the inventory alone. Set when the run is assembled.
   */
  vantage?: string;
  /** When the failure is a consequence of another item's failure, that item. */
  rootCause?: ItemId;
  /** Time spent gathering the observations this item judged (the slowest, as they run in parallel). */
  durationMs: number;
}

/** One run of the checklist against one environment. */
export interface Run {
  id: string;
  environment: string;
  startedAt: string;
  finishedAt: string;
  /** Worst of the findings: `fail` if any failed or errored, else `warn`, else `pass`. */
  status: 'pass' | 'warn' | 'fail';
  ece: { version?: string; es?: number };
  findings: Finding[];
}
