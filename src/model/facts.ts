/**
 * The inventory facts the checklist rules judge on: what the inventory says about an
 * environment, without secrets or file paths (src/runner/facts.ts makes them).
 */

/** The inventory facts rules judge on: no secrets, no file paths. */
export interface EnvironmentFacts {
  /** Inventory name of the environment (`prod`). */
  name: string;
  ece: {
    /** Release as Cisco writes it, e.g. `12.6(1)`. */
    version: string;
    /** Engineering Special installed (0 = none). */
    es: number;
    /** Engineering Test fix on top of the ES. */
    et?: number;
    /** "External URL of the application", when set. */
    externalUrl?: string;
    /** URL admins open the administration console with, when given. */
    adminUrl?: string;
  };
  /**
   * ECE servers; each is a vantage point. `addresses` are the IP addresses Entra sees the server
   * sign in from (inventory `servers[].addresses`), when given.
   */
  servers: { name: string; role: 'services' | 'application'; addresses?: string[] }[];
  tenantId: string;
  /** The ECE app registration. */
  app: { clientId: string };
  mailboxes: MailboxFacts[];
  /** ecebot has its own Graph/Exchange read credentials (inventory `probe`). */
  probeConfigured: boolean;
  /**
   * The endpoint hosts the inventory sets (`endpoints.imap`, a server's override…), with the
   * field that sets each: the network item judges the names themselves (legacy-TLS endpoints).
   */
  endpointHosts?: { field: string; host: string }[];
  /** A mail step slower than this (ms) is a warning. */
  slowMs: number;
  /**
   * Longest time without a successful ECE sign-in before the token item warns (ms; inventory
   * `ece.maxSignInGap`, default 3 h).
   */
  maxSignInGapMs?: number;
}

/** One mailbox ECE serves. */
export interface MailboxFacts {
  address: string;
  /** `mailbox`: its own account and token; `shared`: `account` has Full Access to it. */
  access: 'mailbox' | 'shared';
  /** The account whose token ECE uses for a shared mailbox. */
  account?: string;
  retrieve: 'imap' | 'pop3';
  /** Whether ecebot was given a refresh token for it. */
  hasToken: boolean;
  /** Whether the connectivity check sends a test message. */
  sendTest?: boolean;
}
