/**
 * The network read (checklist.md item 8): DNS for each Microsoft 365 host and TCP+TLS to each
 * endpoint the technote lists, from every ECE server (services and application alike: "Ports at
 * least: TCP 443, 587, 993, 995"):
 * - 443 to Entra's sign-in hosts, login.microsoftonline.com and login.microsoft.com (an alias
 *   Entra lists in its instance-discovery metadata, o365-facts.md §1.1): token creation happens
 *   on an application server, every refresh on the services server; through the HTTP proxy
 *   when one is configured, as ECE's HTTPS goes;
 * - 587 to smtp.office365.com with STARTTLS (RFC 3207): the dispatcher and alarm mail;
 * - 993 and 995 to outlook.office365.com: the retriever, IMAP or POP3.
 * Mail ports always go direct: an HTTP proxy does not carry them.
 * Each TLS observation records the negotiated version and cipher.
 */
import { probeDns } from '../../probes/dns';
import { proxyFor } from '../../probes/proxy';
import { probeTls, type TlsProbeOptions } from '../../probes/tls';
import type { HostPort } from '../../probes/context';
import type { Observation } from '../../model';
import { hostPort } from '../../tenant/endpoints';
import { guarded, type ReadDeclaration } from './read';

/** Entra's sign-in host, and the alias ECE's token calls may be sent to (same service). */
const LOGIN = 'login.microsoftonline.com';
const LOGIN_ALIAS = 'login.microsoft.com';

export const network: ReadDeclaration = {
  name: 'network',
  on: ['services', 'application'],
  async observe({ ctx, endpoints: ep }) {
    type Service = 'https' | 'smtp' | 'imap' | 'pop3';
    const targets: { hp: HostPort; opts: TlsProbeOptions; service: Service }[] = [
      { hp: ep.login, opts: { https: true }, service: 'https' },
    ];
    // The alias is probed where the login endpoint is Entra's own name (the lab maps both).
    if (ep.login.host.toLowerCase() === LOGIN) {
      targets.push({
        hp: { host: LOGIN_ALIAS, port: ep.login.port },
        opts: { https: true },
        service: 'https',
      });
    }
    targets.push(
      { hp: ep.smtp, opts: { starttls: 'smtp' }, service: 'smtp' },
      { hp: ep.imap, opts: {}, service: 'imap' },
      { hp: ep.pop3, opts: {}, service: 'pop3' },
    );
    const jobs: Promise<Observation[]>[] = [];
    // A name reached through the proxy is resolved by the proxy (behind one, the server's own
    // DNS often has no public names at all): only names this server connects to directly.
    const direct = targets.filter(t => !(t.opts.https && proxyFor(ctx, t.hp)));
    for (const host of new Set(direct.map(t => t.hp.host))) {
      jobs.push(guarded(ctx, 'dns', host, () => probeDns(ctx, host)));
    }
    for (const t of targets) {
      jobs.push(
        guarded(ctx, 'tls', hostPort(t.hp), () => probeTls(ctx, t.hp, t.opts)).then(seen =>
          // Which service the connection stands for: fixes name its port (993), not a test
          // endpoint's (the lab's).
          seen.map(o => (o.kind === 'tls' ? { ...o, service: t.service } : o)),
        ),
      );
    }
    return (await Promise.all(jobs)).flat();
  },
};
