/**
 * Certificate facts as a server presented them, whether or not Node trusted them. Trust is
 * always Node's decision with certificate checks on (rejectUnauthorized stays true); this
 * module only watches the handshake so that an untrusted certificate can still be described
 * ("expired on 2024-05-01", "issued for evil.example") instead of just being refused.
 */
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import type { CertFacts } from '../model';

/** `CN=a, O=b` from Node's subject/issuer object. */
function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');
}

/** `DNS:a, DNS:b, IP Address:127.0.0.1` → `['a', 'b', '127.0.0.1']`. */
function altNames(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  return subjectaltname
    .split(/,\s*/)
    .map(entry => entry.replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
}

function iso(date: string | undefined): string {
  const d = date ? new Date(date) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : '';
}

/** Describe a peer certificate; `verifyError` is Node's code when it was not trusted. */
export function certFacts(cert: PeerCertificate, verifyError?: string): CertFacts {
  const facts: CertFacts = {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    altNames: altNames(cert.subjectaltname),
    validFrom: iso(cert.valid_from),
    validTo: iso(cert.valid_to),
    fingerprint256: cert.fingerprint256 ?? '',
    trusted: !verifyError,
  };
  if (verifyError) facts.verifyError = verifyError;
  return facts;
}

/** A one-line summary for a step note: `CN=host, valid until 2027-01-01, issuer CN=…`. */
export function describeCert(facts: CertFacts): string {
  const until = facts.validTo ? facts.validTo.slice(0, 10) : '?';
  const trust = facts.trusted ? 'trusted' : `not trusted (${facts.verifyError ?? 'unknown'})`;
  return `certificate ${facts.subject} [${facts.altNames.join(' ')}] valid ${facts.validFrom.slice(0, 10)}..${until}, issuer ${facts.issuer}, ${trust}`;
}

/**
 * Watches one TLS handshake for the server certificate.
 *
 * Node calls `checkServerIdentity` only after the chain verified, so it sees trusted chains
 * with a right or wrong name. For a chain Node refuses (expired, unknown issuer) it is never
 * called and the socket is destroyed before any public event; `watch()` therefore also reads
 * the certificate from the socket's internal `secure` event, which fires as the handshake
 * completes and before Node applies its verdict. Either way Node alone decides trust.
 */
export class CertCapture {
  private peer?: PeerCertificate;

  /** Pass as the `checkServerIdentity` option: records the certificate, then Node's own check. */
  readonly checkServerIdentity = (hostname: string, cert: PeerCertificate): Error | undefined => {
    this.peer = cert;
    return tls.checkServerIdentity(hostname, cert);
  };

  /** Read the certificate as soon as the handshake completes, before verification acts. */
  watch(socket: TLSSocket): void {
    socket.prependOnceListener('secure', () => {
      try {
        const cert: PeerCertificate | undefined = socket.getPeerCertificate(false);
        if (cert && Object.keys(cert).length) this.peer = cert;
      } catch {
        // The socket is already gone: report without certificate facts.
      }
    });
  }

  /** The certificate seen, described with Node's verdict. */
  facts(verifyError?: string): CertFacts | undefined {
    return this.peer ? certFacts(this.peer, verifyError) : undefined;
  }
}
