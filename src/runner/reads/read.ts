/**
 * The shape of a read: one named way of observing (a probe or a few probes for one purpose),
 * run from a kind of vantage point, returning observations. Items name the reads they judge
 * (src/checklist/item.ts); the runner makes exactly the reads the selected items name.
 */
import type { SecretKind } from '../../inventory/secrets';
import type { ReadName, VantageKind } from '../../model/items';
import type { ProbeContext } from '../../probes/context';
import type { Observation } from '../../model';
import type { VantageEndpoints } from '../../tenant/endpoints';
import type { PreparedRun } from '../prepare';

/** What a read is given: the run, where it runs, and the values reads of one part share. */
export interface ReadContext {
  run: PreparedRun;
  /** The vantage point's name (`services-1`, `central`). */
  vantage: string;
  /** Its kind: the server's role, or `central`. */
  kind: VantageKind;
  /** Probe context of this vantage point (deadlines, CA, hosts, redactor, agent). */
  ctx: ProbeContext;
  /** Where this vantage point reaches each service. */
  endpoints: VantageEndpoints;
  /**
   * A value made once per part of a run and shared by the reads that need it (a mailbox's
   * access token, an app token): the first caller makes it, later callers await the same
   * promise. Keys are the reads' own (`mailbox-token:support@example.com`).
   */
  shared<T>(key: string, make: () => Promise<T>): Promise<T>;
}

/** One read, declared once. */
export interface ReadDeclaration {
  name: ReadName;
  /** The vantage kinds it can be made from. */
  on: readonly VantageKind[];
  /**
   * Reads whose results this one needs (an app token before a Graph read). They are made in the
   * same part even when no item names them; their observations go only to items that do.
   */
  uses?: readonly ReadName[];
  /**
   * The kinds of secret it uses itself (those of `uses` count too). A process resolves only the
   * kinds its planned reads name (src/runner/reads/index.ts `secretsFor`); a read using a kind
   * it does not name fails its part with an error saying so.
   */
  needs?: readonly SecretKind[];
  /** Observe. Never throws for a server's answer: failures are observations with codes. */
  observe(rc: ReadContext): Promise<Observation[]>;
}

export { guarded } from '../../probes/guarded';
