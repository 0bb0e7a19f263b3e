/**
 * The lab's certificate authority. Certificates are made in pure JavaScript (node-forge) with
 * keys from Node's own crypto, so the lab runs anywhere Node runs (no openssl binary, no
 * shell). Clients trust the CA explicitly (`ca` option, NODE_EXTRA_CA_CERTS at process start,
 * or an inventory `caFile`); certificate checks are never switched off (msal-lab-notes.md §2).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/** A PEM key pair with its certificate. */
export interface Issued {
  keyPem: string;
  certPem: string;
}

/** The lab CA: its own certificate and the means to issue leaves. */
export interface LabCa extends Issued {
  issue(opts: LeafOptions): Issued;
}

export interface LeafOptions {
  /** DNS names and IP addresses for subjectAltName; the first is the common name. */
  names: string[];
  notBefore?: Date;
  notAfter?: Date;
}

function rsaPair(): { privatePem: string; publicPem: string } {
  // 2048-bit keys from Node's native crypto take milliseconds; forge's pure-JS keygen takes seconds.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serial(): string {
  // Positive serial number (RFC 5280 §4.1.2.2): clear the top bit.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** Create a fresh CA valid from yesterday for ten years (an issuing CA under `parent` when given). */
export function createCa(commonName = 'ecebot lab CA', parent?: Issued): LabCa {
  const keys = rsaPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 86400000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400000);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'ecebot lab' },
  ];
  cert.setSubject(subject);
  // An issuing (intermediate) CA is signed by its parent: servers send it with their leaf, and a
  // client that lacks the parent reports UNABLE_TO_GET_ISSUER_CERT_LOCALLY (enterprise PKIs).
  const parentCert = parent ? forge.pki.certificateFromPem(parent.certPem) : undefined;
  cert.setIssuer(parentCert ? parentCert.subject.attributes : subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const caKey = forge.pki.privateKeyFromPem(keys.privatePem);
  cert.sign(parent ? forge.pki.privateKeyFromPem(parent.keyPem) : caKey, forge.md.sha256.create());
  const caCertPem = forge.pki.certificateToPem(cert);

  const issue = (opts: LeafOptions): Issued => {
    const leafKeys = rsaPair();
    const leaf = forge.pki.createCertificate();
    leaf.publicKey = forge.pki.publicKeyFromPem(leafKeys.publicPem);
    leaf.serialNumber = serial();
    leaf.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 86400000);
    leaf.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 86400000);
    leaf.setSubject([{ name: 'commonName', value: opts.names[0] ?? 'localhost' }]);
    leaf.setIssuer(cert.subject.attributes);
    leaf.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        // type 2 = dNSName, 7 = iPAddress (RFC 5280 §4.2.1.6).
        altNames: opts.names.map(n => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
      },
      {
        name: 'authorityKeyIdentifier',
        keyIdentifier: cert.generateSubjectKeyIdentifier().getBytes(),
      },
    ]);
    leaf.sign(caKey, forge.md.sha256.create());
    return { keyPem: leafKeys.privatePem, certPem: forge.pki.certificateToPem(leaf) };
  };

  return { keyPem: keys.privatePem, certPem: caCertPem, issue };
}
