/**
 * Probe contexts for tests: the lab CA trusted explicitly, real Microsoft names mapped to
 * 127.0.0.1 (never a real lookup), and short per-phase deadlines so silence fails fast.
 */
import { createCa, type Issued, type LabCa } from '../../../src/lab/ca';
import type { Deadlines, ProbeContext } from '../../../src/probes/context';
import { Redactor } from '../../../src/util/redact';

export const TEST_DEADLINES: Deadlines = {
  dnsMs: 1000,
  connectMs: 1000,
  tlsMs: 1500,
  greetingMs: 800,
  commandMs: 1500,
  totalMs: 8000,
};

/** The Microsoft and ECE names the lab certificates carry, all sent to loopback. */
export const LAB_HOSTS: Record<string, string> = {
  'outlook.office365.com': '127.0.0.1',
  'smtp.office365.com': '127.0.0.1',
  'login.microsoftonline.com': '127.0.0.1',
  'login.microsoft.com': '127.0.0.1',
  'ece.example.com': '127.0.0.1',
};

export function labContext(
  ca: LabCa | undefined,
  overrides: Partial<Omit<ProbeContext, 'deadlines'>> & { deadlines?: Partial<Deadlines> } = {},
): ProbeContext {
  const { deadlines, ...rest } = overrides;
  const ctx: ProbeContext = {
    vantage: 'test',
    deadlines: { ...TEST_DEADLINES, ...deadlines },
    hosts: { ...LAB_HOSTS },
    redactor: new Redactor(),
    ...rest,
  };
  if (ca && !ctx.ca) ctx.ca = ca.certPem;
  return ctx;
}

/** TLS material for a fake server, in the shape node:tls and the fakes take. */
export function tlsOf(leaf: Issued): { key: string; cert: string } {
  return { key: leaf.keyPem, cert: leaf.certPem };
}

export { createCa };
