/**
 * The network read (checklist.md item 8): DNS for each Microsoft 365 host and TCP+TLS to each
 * endpoint ECE uses from this server — Entra's login host and SMTP submission with STARTTLS
 * (RFC 3207) from every server; IMAP or POP3 only from services servers, where ECE's retriever
 * runs, and only the protocols the inventory's mailboxes use.
 */
import { probeDns } from '../../probes/dns';
import { probeTls } from '../../probes/tls';
import type { Observation } from '../../model';
import { hostPort, type VantageEndpoints } from '../../tenant/endpoints';
import { guarded, type ReadDeclaration } from './read';

export const network: ReadDeclaration = {
  name: 'network',
  on: ['services', 'application'],
  async observe({ run, kind, ctx, endpoints: ep }) {
    const retrieves = new Set(run.env.mailboxes.map(m => m.retrieve));
    const targets: { hp: VantageEndpoints['login']; starttls?: 'smtp' }[] = [
      { hp: ep.login },
      { hp: ep.smtp, starttls: 'smtp' },
    ];
    if (kind === 'services') {
      if (retrieves.has('imap')) targets.push({ hp: ep.imap });
      if (retrieves.has('pop3')) targets.push({ hp: ep.pop3 });
    }
    const jobs: Promise<Observation[]>[] = [];
    for (const host of new Set(targets.map(t => t.hp.host))) {
      jobs.push(guarded(ctx, 'dns', host, () => probeDns(ctx, host)));
    }
    for (const t of targets) {
      jobs.push(
        guarded(ctx, 'tls', hostPort(t.hp), () =>
          probeTls(ctx, t.hp, t.starttls ? { starttls: t.starttls } : {}),
        ),
      );
    }
    return (await Promise.all(jobs)).flat();
  },
};
