/**
 * The resolved environment the runner works from: defaults filled in, secrets still as
 * references until the moment a probe needs them (./secrets.ts).
 */
import type { HostPort } from '../probes/context';
import type { EnvironmentInput } from './schema';

/** Real Exchange Online / Entra endpoints (o365-facts.md §1.1). */
export const DEFAULT_ENDPOINTS: Readonly<
  Record<'login' | 'graph' | 'exo' | 'imap' | 'pop3' | 'smtp', HostPort>
> = {
  login: { host: 'login.microsoftonline.com', port: 443 },
  graph: { host: 'graph.microsoft.com', port: 443 },
  exo: { host: 'outlook.office365.com', port: 443 },
  imap: { host: 'outlook.office365.com', port: 993 },
  pop3: { host: 'outlook.office365.com', port: 995 },
  smtp: { host: 'smtp.office365.com', port: 587 },
};

export type EndpointName = keyof typeof DEFAULT_ENDPOINTS;

/** One environment, validated, with the file it came from (for error messages and file: refs). */
export interface Environment extends EnvironmentInput {
  name: string;
  /** Absolute path of the file that defined it. */
  file: string;
}
