/**
 * Checklist item 2, system configuration: "External URL of the application" is set, https, an
 * FQDN, on the host admins open the console with, and reachable with a valid certificate from
 * every ECE server (the same URL serves the OAuth redirect, SSO and chat entry points).
 */
import { isIP } from 'node:net';
import type { Code } from '../model';
import type { HttpsObservation } from '../model';
import { fact, fromObservation } from './evidence';
import { isNetworkCode, judge, ofKind, part, type Part, type Rule } from './rule';
import type { Text } from '../model/items';
import { EVERY_SERVER, type ItemDeclaration } from './item';

const TITLE: Text = { en: 'External URL of the application', nl: 'Externe URL van de applicatie' };

/** Parse a URL, or undefined. */
function parse(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** A fully qualified name: not an IP literal, and more than one label. */
function isFqdn(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return isIP(h) === 0 && /^[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/i.test(h);
}

/**
 * OpenSSL's verdicts for a chain that ends at a CA Node does not know (X509_V_ERR_*, as Node
 * names them): the issuer is not among the trusted roots, or the server sent a root that is not
 * one. The certificate may be perfectly good for a company that runs its own CA.
 */
const UNKNOWN_ISSUER = new Set(['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN']);

/**
 * Whether `name` is covered by one of `altNames`: exactly, or by a wildcard in the leftmost
 * label only, matching one label (RFC 6125 §6.4.3).
 */
function namesHost(altNames: readonly string[], name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, '');
  return altNames.some(raw => {
    const alt = raw.toLowerCase().replace(/\.$/, '');
    if (alt === host) return true;
    if (!alt.startsWith('*.')) return false;
    const rest = host.slice(host.indexOf('.') + 1);
    return host.includes('.') && rest === alt.slice(2) && rest.includes('.');
  });
}

/**
 * A certificate refused only because its CA is unknown to ecebot: an unknown issuer, while the
 * leaf names the host and was valid when observed. Then the fix is "give ecebot your CA"
 * (endpoints.caFile), not "install a current certificate". Expired or wrong-name certificates
 * keep ECE_EXTERNAL_URL_CERT: those are wrong whoever the CA is.
 */
function unknownCaOnly(o: HttpsObservation, hostname: string): boolean {
  const c = o.cert;
  if (!c || c.trusted || !c.verifyError || !UNKNOWN_ISSUER.has(c.verifyError)) return false;
  const at = Date.parse(o.startedAt);
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  const current = Number.isFinite(at) && from <= at && at <= to;
  return current && namesHost(c.altNames, hostname);
}

const PROXY_CODES = new Set<Code>(['PROXY_UNREACHABLE', 'PROXY_AUTH_REQUIRED', 'PROXY_REFUSED']);

/** Certificate problems become the item's own certificate code; anything else is unreachable. */
function reachCode(o: HttpsObservation, hostname: string): Code {
  if (o.code === 'TLS_CERT_INVALID' || o.code === 'TLS_CERT_EXPIRED' || o.cert?.trusted === false) {
    return unknownCaOnly(o, hostname) ? 'ECE_EXTERNAL_URL_CA_UNKNOWN' : 'ECE_EXTERNAL_URL_CERT';
  }
  // The proxy's refusal keeps its own code, so the fix says "the proxy refused" rather than
  // "check the firewall and load balancer".
  if (PROXY_CODES.has(o.code)) return o.code;
  return o.code === 'CHECK_CRASHED' ? 'CHECK_CRASHED' : 'ECE_EXTERNAL_URL_UNREACHABLE';
}

/** The static checks on the configured value; the parsed URL when they pass. */
function settingParts(
  raw: string | undefined,
  adminUrl: string | undefined,
): { parts: Part[]; url?: URL } {
  const bad = (code: Code, line: string, text: string): { parts: Part[] } => ({
    parts: [part('fail', code, line, [fact('ece.externalUrl', text, false, code)])],
  });
  if (!raw) {
    return bad(
      'ECE_EXTERNAL_URL_MISSING',
      'External URL of the application is not set',
      'Inventory: ece.externalUrl is not set',
    );
  }
  const url = parse(raw);
  if (!url)
    return bad(
      'ECE_EXTERNAL_URL_NOT_HTTPS',
      `External URL "${raw}" is not a URL like https://ece.example.com`,
      `Inventory: ece.externalUrl = ${raw}`,
    );
  if (url.protocol !== 'https:')
    return bad(
      'ECE_EXTERNAL_URL_NOT_HTTPS',
      `External URL ${raw} does not use https`,
      `Inventory: ece.externalUrl = ${raw}`,
    );
  if (!isFqdn(url.hostname))
    return bad(
      'ECE_EXTERNAL_URL_NOT_FQDN',
      `External URL host ${url.hostname} is not a fully qualified domain name`,
      `Inventory: ece.externalUrl = ${raw}`,
    );
  const parts: Part[] = [
    part('pass', 'OK', `External URL ${raw} is set`, [
      fact('ece.externalUrl', `Inventory: ece.externalUrl = ${raw}`, true),
    ]),
  ];
  if (adminUrl !== undefined) {
    const admin = parse(adminUrl);
    const same = !!admin && admin.hostname.toLowerCase() === url.hostname.toLowerCase();
    const code: Code = same ? 'OK' : 'ECE_EXTERNAL_URL_ADMIN_MISMATCH';
    const adminHost = admin?.hostname ?? adminUrl;
    parts.push(
      part(
        same ? 'pass' : 'fail',
        code,
        same
          ? `admins log in on the same host ${url.hostname}`
          : `External URL host ${url.hostname} differs from the admin console host ${adminHost}`,
        [fact('ece.adminUrl', `Inventory: ece.adminUrl = ${adminUrl}`, same, code)],
      ),
    );
  }
  return { parts, url };
}

export const externalUrl: Rule = ({ env, observations }) => {
  const { parts, url } = settingParts(env.ece.externalUrl, env.ece.adminUrl);
  const reached: string[] = [];
  if (url) {
    const seen = ofKind(observations, 'https');
    for (const server of env.servers) {
      const mine = seen.filter(o => o.vantage === server.name);
      if (!mine.length) {
        parts.push(
          part('skip', 'NO_WORKER', `not observed from ${server.name}`, [], {
            fix: { vantage: server.name },
          }),
        );
        continue;
      }
      for (const o of mine) {
        if (o.ok && o.cert?.trusted !== false) {
          parts.push(part('pass', 'OK', `reachable from ${server.name}`, [fromObservation(o)]));
          reached.push(server.name);
          continue;
        }
        const code = reachCode(o, url.hostname);
        const status = code === 'CHECK_CRASHED' ? 'error' : 'fail';
        const what =
          code === 'ECE_EXTERNAL_URL_CERT'
            ? 'has an invalid certificate'
            : code === 'ECE_EXTERNAL_URL_CA_UNKNOWN'
              ? 'has a certificate from a CA ecebot was not given'
              : 'is unreachable';
        const cause = isNetworkCode(o.code) || o.code === 'HTTP_ERROR' ? ` (${o.code})` : '';
        parts.push(
          part(
            status,
            code,
            `${url.origin} ${what} from ${server.name}${cause}`,
            [fromObservation(o, { code: o.code === 'OK' ? code : o.code, ok: false })],
            {
              failedOn: [server.name],
              fix: { vantage: server.name, host: url.hostname, port: Number(url.port || 443) },
            },
          ),
        );
      }
    }
  }
  return judge('external-url', TITLE.en, env, parts, {
    passSummary: url
      ? reached.length
        ? `${url.origin} is set and reachable with a valid certificate from ${[...new Set(reached)].join(', ')}`
        : `${url.origin} is set`
      : undefined,
  });
};

/** Checklist item: External URL of the application. */
export const item: ItemDeclaration = {
  id: 'external-url',
  title: TITLE,
  reads: [{ read: 'external-url', on: EVERY_SERVER }],
  rule: externalUrl,
};
