/**
 * ECE releases and the Engineering Special each needs for OAuth with Office 365 (checklist item
 * 1). OAuth arrived through Engineering Specials after Cisco bug CSCvr86493 (technote 218453,
 * o365-facts.md §0): 11.6(1) ES12 and ES12 ET1, 12.0(1) ES6, 12.5(1) ES3, 12.6(1) ES1. Later
 * releases ship it. A release ecebot does not know is never passed silently.
 */
import type { Code } from '../model';

/** An ECE release as Cisco writes it: `12.6(1)` is major 12, minor 6, maintenance 1. */
export interface EceRelease {
  major: number;
  minor: number;
  maintenance: number;
}

/** The OAuth minimum for one release. */
export interface OAuthMinimum {
  release: string;
  /** Engineering Special number. */
  es: number;
  /** Engineering Test fix on top of that ES, when Cisco asks for one. */
  et?: number;
}

/** Releases with OAuth through an Engineering Special, oldest first. */
export const OAUTH_MINIMUMS: readonly OAuthMinimum[] = [
  // ES12 adds the OAuth options; ES12_ET1 fixes CSCwd61276 (empty scheduled reports after ES12).
  { release: '11.6(1)', es: 12, et: 1 },
  { release: '12.0(1)', es: 6 },
  { release: '12.5(1)', es: 3 },
  { release: '12.6(1)', es: 1 },
];

/** An Engineering Special a public Cisco document names for a release, with where it says so. */
export interface KnownEs {
  release: string;
  es: number;
  /** The Cisco document that names it. */
  source: string;
}

/**
 * The newest Engineering Special per release that a public Cisco document names. Cisco's
 * best practice is the newest ES for the release (technote 218453, checklist item 1); ecebot
 * warns below the one listed here. Only releases with a source are listed: for the others the
 * verdict says ecebot does not know the newest ES, rather than guessing one.
 */
export const NEWEST_KNOWN_ES: readonly KnownEs[] = [
  {
    release: '12.6(1)',
    es: 10,
    // "It is highly recommended that you apply … ECE ES10 or later on ECE 12.6(1)".
    source:
      'Cisco UCCE Features Guide 15.0(1), ECE and WebexConnect Co-deployment: https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cust_contact/contact_center/icm_enterprise/icm_enterprise_15_0_1/ucce_b_1501_features-guide/rcct_m_1501_ece-and-wxconnect-on-same-deployment.html',
  },
];

/** The newest ES ecebot has a source for, for one release. */
export function newestKnownEs(version: string): KnownEs | undefined {
  const r = parseRelease(version);
  return r ? NEWEST_KNOWN_ES.find(k => compareRelease(release(k.release), r) === 0) : undefined;
}

/** The first release that can do OAuth at all. */
export const FIRST_OAUTH_RELEASE = '11.6(1)';
/** The newest release in the table; anything later has OAuth built in. */
export const LAST_ES_RELEASE = '12.6(1)';

/** Parse `12.6(1)`; undefined when the text is not in Cisco's release form. */
export function parseRelease(version: string): EceRelease | undefined {
  const m = /^\s*(\d+)\.(\d+)\((\d+)\)\s*$/.exec(version);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), maintenance: Number(m[3]) };
}

/** Order two releases (negative when `a` is older). */
export function compareRelease(a: EceRelease, b: EceRelease): number {
  return a.major - b.major || a.minor - b.minor || a.maintenance - b.maintenance;
}

function release(text: string): EceRelease {
  const r = parseRelease(text);
  if (!r) throw new Error(`bad release constant ${text}`);
  return r;
}

/** `ES12 ET1`, `ES6`, or `no ES` for 0. */
export function formatEs(es: number, et?: number): string {
  if (es <= 0) return 'no ES';
  return et ? `ES${es} ET${et}` : `ES${es}`;
}

/** The structured verdict on an installed release and Engineering Special. */
export interface VersionCheck {
  status: 'pass' | 'warn' | 'fail';
  /** OK, ECE_VERSION_UNSUPPORTED, ECE_ES_TOO_OLD, ECE_ES_NOT_LATEST or ECE_VERSION_UNKNOWN. */
  code: Code;
  version: string;
  /** What is installed, e.g. `12.6(1) ES1`. */
  installed: string;
  /** The minimum for this release, when ecebot knows one. */
  minimum?: OAuthMinimum;
  /** The newest ES a Cisco document names for this release, when ecebot knows one. */
  newest?: KnownEs;
  /** Why, in one sentence a person reads. */
  reason: string;
}

/**
 * Judge an installed release against the OAuth minimums. Engineering Specials are cumulative,
 * so a later ES than the minimum also carries the minimum's fixes (for 11.6(1), ES13 and later
 * are taken to include ES12 ET1).
 */
export function checkVersion(version: string, es: number, et?: number): VersionCheck {
  const installed = `${version} ${formatEs(es, et)}`;
  const parsed = parseRelease(version);
  if (!parsed) {
    return {
      status: 'warn',
      code: 'ECE_VERSION_UNKNOWN',
      version,
      installed,
      reason: `"${version}" is not an ECE release in Cisco's form (like 12.6(1)); check the version by hand.`,
    };
  }
  if (compareRelease(parsed, release(FIRST_OAUTH_RELEASE)) < 0) {
    return {
      status: 'fail',
      code: 'ECE_VERSION_UNSUPPORTED',
      version,
      installed,
      reason: `ECE ${version} predates OAuth for Office 365; the first release with it is ${FIRST_OAUTH_RELEASE} ES12 ET1.`,
    };
  }
  if (compareRelease(parsed, release(LAST_ES_RELEASE)) > 0) {
    return {
      status: 'pass',
      code: 'OK',
      version,
      installed,
      reason: `ECE ${version} is later than ${LAST_ES_RELEASE}, the newest release ecebot knows: OAuth for Office 365 is built in from there on. ecebot knows no Engineering Special for ${version}; Cisco recommends the newest ES for the release.`,
    };
  }
  const minimum = OAUTH_MINIMUMS.find(m => compareRelease(release(m.release), parsed) === 0);
  if (!minimum) {
    return {
      status: 'warn',
      code: 'ECE_VERSION_UNKNOWN',
      version,
      installed,
      reason: `ECE ${version} is not a release ecebot knows an OAuth minimum for (known: ${OAUTH_MINIMUMS.map(m => m.release).join(', ')}); check Cisco's release notes.`,
    };
  }
  const required = `${minimum.release} ${formatEs(minimum.es, minimum.et)}`;
  const meets =
    es > minimum.es || (es === minimum.es && (minimum.et === undefined || (et ?? 0) >= minimum.et));
  if (!meets) {
    return {
      status: 'fail',
      code: 'ECE_ES_TOO_OLD',
      version,
      installed,
      minimum,
      reason: `${installed} is below the OAuth minimum ${required} (Cisco bug CSCvr86493).`,
    };
  }
  const newest = newestKnownEs(version);
  if (newest && es < newest.es) {
    return {
      status: 'warn',
      code: 'ECE_ES_NOT_LATEST',
      version,
      installed,
      minimum,
      newest,
      reason: `${installed} meets the OAuth minimum ${required}, but Cisco names ${version} ${formatEs(newest.es)} or later; Cisco recommends the newest ES for the release.`,
    };
  }
  return {
    status: 'pass',
    code: 'OK',
    version,
    installed,
    minimum,
    ...(newest ? { newest } : {}),
    reason: newest
      ? `${installed} meets the OAuth minimum ${required} and is at least ${formatEs(newest.es)}, the newest ES ecebot knows for ${version}; Cisco recommends the newest ES for the release.`
      : `${installed} meets the OAuth minimum ${required}. ecebot knows no newer ES for ${version} from a public source; Cisco recommends the newest ES for the release, so compare with Cisco's downloads.`,
  };
}
